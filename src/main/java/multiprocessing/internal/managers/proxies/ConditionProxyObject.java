package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.time.Duration;

import multiprocessing.managers.ConditionProxy;

/** The proxy class of {@link ConditionProxy}, written out (see {@link StandardProxy}). */
@SuppressWarnings({"rawtypes", "unchecked"})
final class ConditionProxyObject extends AcquirerProxyObject implements ConditionProxy {
    private static final Method M0 = method(ConditionProxy.class, "await");
    private static final Method M1 = method(ConditionProxy.class, "await", Duration.class);
    private static final Method M2 = method(ConditionProxy.class, "signal");
    private static final Method M3 = method(ConditionProxy.class, "signal", int.class);
    private static final Method M4 = method(ConditionProxy.class, "signalAll");

    ConditionProxyObject(InvocationHandler handler) {
        super(handler, ConditionProxy.class);
    }

    @Override
    public void await() {
        call(M0, null);
    }

    @Override
    public boolean await(Duration a0) {
        return (Boolean) call(M1, new Object[] {a0});
    }

    @Override
    public void signal() {
        call(M2, null);
    }

    @Override
    public void signal(int a0) {
        call(M3, new Object[] {a0});
    }

    @Override
    public void signalAll() {
        call(M4, null);
    }
}
