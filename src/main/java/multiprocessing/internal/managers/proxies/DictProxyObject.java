package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;

import multiprocessing.managers.DictProxy;

/** The proxy class of {@link DictProxy}, written out (see {@link StandardProxy}). */
@SuppressWarnings({"rawtypes", "unchecked"})
final class DictProxyObject extends StandardProxy implements DictProxy {
    private static final Method M0 = method(Map.class, "clear");
    private static final Method M1 = method(Map.class, "compute", Object.class, BiFunction.class);
    private static final Method M2 =
            method(DictProxy.class, "compute", Object.class, DictProxy.Remapping.class);
    private static final Method M3 =
            method(Map.class, "computeIfAbsent", Object.class, Function.class);
    private static final Method M4 =
            method(DictProxy.class, "computeIfAbsent", Object.class, DictProxy.Mapping.class);
    private static final Method M5 =
            method(Map.class, "computeIfPresent", Object.class, BiFunction.class);
    private static final Method M6 =
            method(DictProxy.class, "computeIfPresent", Object.class, DictProxy.Remapping.class);
    private static final Method M7 = method(Map.class, "containsKey", Object.class);
    private static final Method M8 = method(Map.class, "containsValue", Object.class);
    private static final Method M9 = method(Map.class, "entrySet");
    private static final Method M10 = method(Map.class, "forEach", BiConsumer.class);
    private static final Method M11 = method(Map.class, "get", Object.class);
    private static final Method M12 = method(Map.class, "getOrDefault", Object.class, Object.class);
    private static final Method M13 = method(Map.class, "isEmpty");
    private static final Method M14 = method(Map.class, "keySet");
    private static final Method M15 =
            method(Map.class, "merge", Object.class, Object.class, BiFunction.class);
    private static final Method M16 =
            method(DictProxy.class, "merge", Object.class, Object.class, DictProxy.Remapping.class);
    private static final Method M17 = method(Map.class, "put", Object.class, Object.class);
    private static final Method M18 = method(Map.class, "putAll", Map.class);
    private static final Method M19 = method(Map.class, "putIfAbsent", Object.class, Object.class);
    private static final Method M20 = method(Map.class, "remove", Object.class, Object.class);
    private static final Method M21 = method(Map.class, "remove", Object.class);
    private static final Method M22 =
            method(Map.class, "replace", Object.class, Object.class, Object.class);
    private static final Method M23 = method(Map.class, "replace", Object.class, Object.class);
    private static final Method M24 = method(Map.class, "replaceAll", BiFunction.class);
    private static final Method M25 =
            method(DictProxy.class, "replaceAll", DictProxy.Remapping.class);
    private static final Method M26 = method(Map.class, "size");
    private static final Method M27 = method(Map.class, "values");

    DictProxyObject(InvocationHandler handler) {
        super(handler, DictProxy.class);
    }

    @Override
    public void clear() {
        call(M0, null);
    }

    @Override
    public Object compute(Object a0, BiFunction a1) {
        return call(M1, new Object[] {a0, a1});
    }

    @Override
    public Object compute(Object a0, DictProxy.Remapping a1) {
        return call(M2, new Object[] {a0, a1});
    }

    @Override
    public Object computeIfAbsent(Object a0, Function a1) {
        return call(M3, new Object[] {a0, a1});
    }

    @Override
    public Object computeIfAbsent(Object a0, DictProxy.Mapping a1) {
        return call(M4, new Object[] {a0, a1});
    }

    @Override
    public Object computeIfPresent(Object a0, BiFunction a1) {
        return call(M5, new Object[] {a0, a1});
    }

    @Override
    public Object computeIfPresent(Object a0, DictProxy.Remapping a1) {
        return call(M6, new Object[] {a0, a1});
    }

    @Override
    public boolean containsKey(Object a0) {
        return (Boolean) call(M7, new Object[] {a0});
    }

    @Override
    public boolean containsValue(Object a0) {
        return (Boolean) call(M8, new Object[] {a0});
    }

    @Override
    public Set entrySet() {
        return (Set) call(M9, null);
    }

    @Override
    public void forEach(BiConsumer a0) {
        call(M10, new Object[] {a0});
    }

    @Override
    public Object get(Object a0) {
        return call(M11, new Object[] {a0});
    }

    @Override
    public Object getOrDefault(Object a0, Object a1) {
        return call(M12, new Object[] {a0, a1});
    }

    @Override
    public boolean isEmpty() {
        return (Boolean) call(M13, null);
    }

    @Override
    public Set keySet() {
        return (Set) call(M14, null);
    }

    @Override
    public Object merge(Object a0, Object a1, BiFunction a2) {
        return call(M15, new Object[] {a0, a1, a2});
    }

    @Override
    public Object merge(Object a0, Object a1, DictProxy.Remapping a2) {
        return call(M16, new Object[] {a0, a1, a2});
    }

    @Override
    public Object put(Object a0, Object a1) {
        return call(M17, new Object[] {a0, a1});
    }

    @Override
    public void putAll(Map a0) {
        call(M18, new Object[] {a0});
    }

    @Override
    public Object putIfAbsent(Object a0, Object a1) {
        return call(M19, new Object[] {a0, a1});
    }

    @Override
    public boolean remove(Object a0, Object a1) {
        return (Boolean) call(M20, new Object[] {a0, a1});
    }

    @Override
    public Object remove(Object a0) {
        return call(M21, new Object[] {a0});
    }

    @Override
    public boolean replace(Object a0, Object a1, Object a2) {
        return (Boolean) call(M22, new Object[] {a0, a1, a2});
    }

    @Override
    public Object replace(Object a0, Object a1) {
        return call(M23, new Object[] {a0, a1});
    }

    @Override
    public void replaceAll(BiFunction a0) {
        call(M24, new Object[] {a0});
    }

    @Override
    public void replaceAll(DictProxy.Remapping a0) {
        call(M25, new Object[] {a0});
    }

    @Override
    public int size() {
        return (Integer) call(M26, null);
    }

    @Override
    public Collection values() {
        return (Collection) call(M27, null);
    }
}
