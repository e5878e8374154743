package multiprocessing.managers;

import java.io.Serializable;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A shared dict ({@link SyncManager#dict()}): a {@link Map} whose entries live in the
 * manager's server, insertion-ordered as a Python dict.
 *
 * <p>Each method is one call to the server, done atomically there. The compound methods
 * ({@code merge}, {@code compute}, {@code computeIfAbsent}, {@code computeIfPresent},
 * {@code putIfAbsent}, {@code replace}, {@code replaceAll}, {@code remove(key, value)}) run
 * in the server as one step, so {@code dict.merge(key, 1, Integer::sum)} from many processes
 * loses no update; their function travels to the server, so it must be serializable: the
 * overloads here take serializable function types, which a lambda or method reference
 * written at the call becomes. A plain {@code BiFunction} that is not serializable is
 * refused with an exception saying so.
 *
 * <p>Iterating ({@code keySet}, {@code values}, {@code entrySet}, {@code forEach}) and
 * {@code equals}, {@code hashCode}, {@code toString} work on a snapshot of the whole map
 * taken by one call: a read-only copy that later changes do not reach.
 */
public interface DictProxy<K, V> extends Map<K, V>, BaseProxy {
    /** A {@link BiFunction} that can travel to the server. */
    @FunctionalInterface
    interface Remapping<T, U, R> extends BiFunction<T, U, R>, Serializable {}

    /** A {@link Function} that can travel to the server. */
    @FunctionalInterface
    interface Mapping<T, R> extends Function<T, R>, Serializable {}

    V merge(K key, V value, Remapping<? super V, ? super V, ? extends V> remapping);

    V compute(K key, Remapping<? super K, ? super V, ? extends V> remapping);

    V computeIfAbsent(K key, Mapping<? super K, ? extends V> mapping);

    V computeIfPresent(K key, Remapping<? super K, ? super V, ? extends V> remapping);

    void replaceAll(Remapping<? super K, ? super V, ? extends V> function);
}
