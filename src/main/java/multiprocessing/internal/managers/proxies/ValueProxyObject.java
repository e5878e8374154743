package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;

import multiprocessing.managers.ValueProxy;

/** The proxy class of {@link ValueProxy}, written out (see {@link StandardProxy}). */
@SuppressWarnings({"rawtypes", "unchecked"})
final class ValueProxyObject extends StandardProxy implements ValueProxy {
    private static final Method M0 = method(ValueProxy.class, "get");
    private static final Method M1 = method(ValueProxy.class, "set", Object.class);

    ValueProxyObject(InvocationHandler handler) {
        super(handler, ValueProxy.class);
    }

    @Override
    public Object get() {
        return call(M0, null);
    }

    @Override
    public void set(Object a0) {
        call(M1, new Object[] {a0});
    }
}
