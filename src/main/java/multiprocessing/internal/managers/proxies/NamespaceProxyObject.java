package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.util.Map;

import multiprocessing.managers.NamespaceProxy;

/** The proxy class of {@link NamespaceProxy}, written out (see {@link StandardProxy}). */
@SuppressWarnings({"rawtypes", "unchecked"})
final class NamespaceProxyObject extends StandardProxy implements NamespaceProxy {
    private static final Method M0 = method(NamespaceProxy.class, "contains", String.class);
    private static final Method M1 = method(NamespaceProxy.class, "delete", String.class);
    private static final Method M2 = method(NamespaceProxy.class, "get", String.class);
    private static final Method M3 =
            method(NamespaceProxy.class, "set", String.class, Object.class);
    private static final Method M4 = method(NamespaceProxy.class, "toMap");

    NamespaceProxyObject(InvocationHandler handler) {
        super(handler, NamespaceProxy.class);
    }

    @Override
    public boolean contains(String a0) {
        return (Boolean) call(M0, new Object[] {a0});
    }

    @Override
    public void delete(String a0) {
        call(M1, new Object[] {a0});
    }

    @Override
    public Object get(String a0) {
        return call(M2, new Object[] {a0});
    }

    @Override
    public void set(String a0, Object a1) {
        call(M3, new Object[] {a0, a1});
    }

    @Override
    public Map toMap() {
        return (Map) call(M4, null);
    }
}
