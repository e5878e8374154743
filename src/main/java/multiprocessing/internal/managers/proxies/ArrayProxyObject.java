package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.util.List;

import multiprocessing.managers.ArrayProxy;

/** The proxy class of {@link ArrayProxy}, written out (see {@link StandardProxy}). */
@SuppressWarnings({"rawtypes", "unchecked"})
final class ArrayProxyObject extends StandardProxy implements ArrayProxy {
    private static final Method M0 = method(ArrayProxy.class, "get", int.class);
    private static final Method M1 = method(ArrayProxy.class, "length");
    private static final Method M2 = method(ArrayProxy.class, "set", int.class, Object.class);
    private static final Method M3 = method(ArrayProxy.class, "toList");

    ArrayProxyObject(InvocationHandler handler) {
        super(handler, ArrayProxy.class);
    }

    @Override
    public Object get(int a0) {
        return call(M0, new Object[] {a0});
    }

    @Override
    public int length() {
        return (Integer) call(M1, null);
    }

    @Override
    public void set(int a0, Object a1) {
        call(M2, new Object[] {a0, a1});
    }

    @Override
    public List toList() {
        return (List) call(M3, null);
    }
}
