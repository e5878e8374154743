package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.time.Duration;

import multiprocessing.managers.AcquirerProxy;
import multiprocessing.managers.ConditionProxy;

/** The proxy class of {@link ConditionProxy}, written out (see {@link StandardProxy}). */
@SuppressWarnings({"rawtypes", "unchecked"})
final class ConditionProxyObject extends StandardProxy implements ConditionProxy {
    private static final Method M0 = method(AcquirerProxy.class, "acquire");
    private static final Method M1 = method(AcquirerProxy.class, "acquire", boolean.class);
    private static final Method M2 = method(AcquirerProxy.class, "acquire", Duration.class);
    private static final Method M3 = method(ConditionProxy.class, "await");
    private static final Method M4 = method(ConditionProxy.class, "await", Duration.class);
    private static final Method M5 = method(AcquirerProxy.class, "release");
    private static final Method M6 = method(ConditionProxy.class, "signal");
    private static final Method M7 = method(ConditionProxy.class, "signal", int.class);
    private static final Method M8 = method(ConditionProxy.class, "signalAll");

    ConditionProxyObject(InvocationHandler handler) {
        super(handler, ConditionProxy.class);
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
    public void await() {
        call(M3, null);
    }

    @Override
    public boolean await(Duration a0) {
        return (Boolean) call(M4, new Object[] {a0});
    }

    @Override
    public void release() {
        call(M5, null);
    }

    @Override
    public void signal() {
        call(M6, null);
    }

    @Override
    public void signal(int a0) {
        call(M7, new Object[] {a0});
    }

    @Override
    public void signalAll() {
        call(M8, null);
    }
}
