package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;

import multiprocessing.managers.BarrierProxy;

/** The proxy class of {@link BarrierProxy}, written out (see {@link StandardProxy}). */
@SuppressWarnings({"rawtypes", "unchecked"})
final class BarrierProxyObject extends StandardProxy implements BarrierProxy {
    private static final Method M0 = method(BarrierProxy.class, "abort");
    private static final Method M1 = method(BarrierProxy.class, "await");
    private static final Method M2 = method(BarrierProxy.class, "await", Duration.class);
    private static final Method M3 = method(BarrierProxy.class, "broken");
    private static final Method M4 = method(BarrierProxy.class, "nWaiting");
    private static final Method M5 = method(BarrierProxy.class, "parties");
    private static final Method M6 = method(BarrierProxy.class, "reset");

    BarrierProxyObject(InvocationHandler handler) {
        super(handler, BarrierProxy.class);
    }

    @Override
    public void abort() {
        call(M0, null);
    }

    @Override
    public int await() throws BrokenBarrierException {
        return (Integer) call(M1, null);
    }

    @Override
    public int await(Duration a0) throws BrokenBarrierException {
        return (Integer) call(M2, new Object[] {a0});
    }

    @Override
    public boolean broken() {
        return (Boolean) call(M3, null);
    }

    @Override
    public int nWaiting() {
        return (Integer) call(M4, null);
    }

    @Override
    public int parties() {
        return (Integer) call(M5, null);
    }

    @Override
    public void reset() {
        call(M6, null);
    }
}
