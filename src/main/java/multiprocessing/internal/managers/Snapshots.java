package multiprocessing.internal.managers;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The methods of a shared {@code Map} or {@code Collection} that a proxy answers from one
 * snapshot of the whole object (one call) instead of one call per element: iteration and views
 * ({@code iterator}, {@code keySet}, {@code values}, {@code entrySet}, {@code stream},
 * {@code forEach}, {@code toArray}, {@code subList}...) and {@code equals}, {@code hashCode},
 * {@code toString}. A snapshot is a read-only copy: later changes do not show in it, and it
 * cannot change the shared object (its mutators throw UnsupportedOperationException).
 */
final class Snapshots {
    private Snapshots() {}

    private static final Set<String> NAMES = Set.of("iterator", "listIterator", "spliterator",
            "stream", "parallelStream", "forEach", "toArray", "keySet", "values", "entrySet",
            "subList");

    static boolean applies(Object proxy, Method method) {
        return (proxy instanceof Map || proxy instanceof Collection)
                && method.getDeclaringClass().getName().startsWith("java.")
                && NAMES.contains(method.getName());
    }

    static boolean isCollection(Object proxy) {
        return proxy instanceof Map || proxy instanceof Collection;
    }

    static Object apply(Method method, Object snapshot, Object[] args) throws Throwable {
        try {
            return method.invoke(readOnly(snapshot), args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @SuppressWarnings("unchecked")
    static Object readOnly(Object snapshot) {
        return switch (snapshot) {
            case List<?> l -> Collections.unmodifiableList(l);
            case Set<?> s -> Collections.unmodifiableSet(s);
            case Collection<?> c -> Collections.unmodifiableCollection(c);
            case Map<?, ?> m -> Collections.unmodifiableMap(m);
            default -> snapshot;
        };
    }
}
