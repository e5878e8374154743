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
            "subList", "reversed", "descendingIterator", "descendingSet", "descendingMap",
            "descendingKeySet", "navigableKeySet", "sequencedKeySet", "sequencedValues",
            "sequencedEntrySet");

    static boolean applies(Object proxy, Method method) {
        return (proxy instanceof Map || proxy instanceof Collection)
                && method.getDeclaringClass().getName().startsWith("java.")
                && NAMES.contains(method.getName());
    }

    static boolean isCollection(Object proxy) {
        return proxy instanceof Map || proxy instanceof Collection;
    }

    /**
     * Calls {@code method} on a read-only view of {@code snapshot}. The method may be declared
     * by an interface the view does not implement ({@code Deque.iterator}, {@code
     * SortedMap.keySet}: the JDK has no read-only Deque): then the view's own method of that
     * name and parameters runs, and a Deque's {@code descendingIterator} is its reversed
     * iterator (attack 43: such calls threw "not an instance of").
     */
    static Object apply(Method method, Object snapshot, Object[] args) throws Throwable {
        Object view = readOnly(snapshot);
        Object result;
        try {
            if (method.getDeclaringClass().isInstance(view)) {
                result = method.invoke(view, args);
            } else if (method.getName().equals("descendingIterator") && args.length == 0
                    && view instanceof java.util.SequencedCollection<?> s) {
                result = s.reversed().iterator();
            } else {
                Method same = publicMethod(view.getClass(), method);
                if (same == null) {
                    throw unsupported(method, snapshot, "no read-only view of it has it");
                }
                result = same.invoke(view, args);
            }
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
        if (result != null && !method.getReturnType().isInstance(result)) {
            // A Deque's reversed() is a Deque, which no read-only view of the JDK's can be.
            throw unsupported(method, snapshot, "it would be a "
                    + method.getReturnType().getSimpleName() + " the snapshot cannot keep "
                    + "read-only; copy it first (new ArrayDeque<>(proxy))");
        }
        return result;
    }

    private static UnsupportedOperationException unsupported(Method method, Object snapshot,
            String why) {
        return new UnsupportedOperationException(method.getDeclaringClass().getSimpleName()
                + "." + method.getName() + " on a snapshot of a shared "
                + snapshot.getClass().getSimpleName() + ": " + why);
    }

    /** {@code like}'s name and parameters as a public interface of {@code type} declares them. */
    private static Method publicMethod(Class<?> type, Method like) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                if (java.lang.reflect.Modifier.isPublic(i.getModifiers())) {
                    try {
                        return i.getMethod(like.getName(), like.getParameterTypes());
                    } catch (NoSuchMethodException notHere) {
                        // another interface may declare it
                    }
                }
            }
        }
        return null;
    }

    /** The snapshot behind the read-only view of its most specific kind the JDK has. */
    @SuppressWarnings("unchecked")
    static Object readOnly(Object snapshot) {
        return switch (snapshot) {
            case java.util.NavigableSet<?> s -> Collections.unmodifiableNavigableSet(s);
            case java.util.SortedSet<?> s -> Collections.unmodifiableSortedSet(s);
            case List<?> l -> Collections.unmodifiableList(l);
            case java.util.SequencedSet<?> s -> Collections.unmodifiableSequencedSet(s);
            case Set<?> s -> Collections.unmodifiableSet(s);
            case java.util.SequencedCollection<?> c ->
                    Collections.unmodifiableSequencedCollection(c);
            case Collection<?> c -> Collections.unmodifiableCollection(c);
            case java.util.NavigableMap<?, ?> m -> Collections.unmodifiableNavigableMap(m);
            case java.util.SortedMap<?, ?> m -> Collections.unmodifiableSortedMap(m);
            case java.util.SequencedMap<?, ?> m -> Collections.unmodifiableSequencedMap(m);
            case Map<?, ?> m -> Collections.unmodifiableMap(m);
            default -> snapshot;
        };
    }
}
