package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.time.Duration;

import multiprocessing.managers.EventProxy;

/** The proxy class of {@link EventProxy}, written out (see {@link StandardProxy}). */
@SuppressWarnings({"rawtypes", "unchecked"})
final class EventProxyObject extends StandardProxy implements EventProxy {
    private static final Method M0 = method(EventProxy.class, "await");
    private static final Method M1 = method(EventProxy.class, "await", Duration.class);
    private static final Method M2 = method(EventProxy.class, "clear");
    private static final Method M3 = method(EventProxy.class, "isSet");
    private static final Method M4 = method(EventProxy.class, "set");

    EventProxyObject(InvocationHandler handler) {
        super(handler, EventProxy.class);
    }

    @Override
    public boolean await() {
        return (Boolean) call(M0, null);
    }

    @Override
    public boolean await(Duration a0) {
        return (Boolean) call(M1, new Object[] {a0});
    }

    @Override
    public void clear() {
        call(M2, null);
    }

    @Override
    public boolean isSet() {
        return (Boolean) call(M3, null);
    }

    @Override
    public void set() {
        call(M4, null);
    }
}
