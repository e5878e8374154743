package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.time.Duration;

import multiprocessing.managers.AcquirerProxy;

/** The proxy class of {@link AcquirerProxy}, written out (see {@link StandardProxy}). */
@SuppressWarnings({"rawtypes", "unchecked"})
class AcquirerProxyObject extends StandardProxy implements AcquirerProxy {
    private static final Method M0 = method(AcquirerProxy.class, "acquire");
    private static final Method M1 = method(AcquirerProxy.class, "acquire", boolean.class);
    private static final Method M2 = method(AcquirerProxy.class, "acquire", Duration.class);
    private static final Method M3 = method(AcquirerProxy.class, "release");

    AcquirerProxyObject(InvocationHandler handler) {
        this(handler, AcquirerProxy.class);
    }

    /** For the proxy of a type that extends {@code AcquirerProxy}. */
    AcquirerProxyObject(InvocationHandler handler, Class<?> type) {
        super(handler, type);
    }

    @Override
    public boolean acquire() {
        return (Boolean) call(M0, null);
    }

    @Override
    public boolean acquire(boolean a0) {
        return (Boolean) call(M1, new Object[] {a0});
    }

    @Override
    public boolean acquire(Duration a0) {
        return (Boolean) call(M2, new Object[] {a0});
    }

    @Override
    public void release() {
        call(M3, null);
    }
}
