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
 *
 * @param <K> the type of the keys
 * @param <V> the type of the values
 */
public interface DictProxy<K, V> extends Map<K, V>, BaseProxy {
    /**
     * A {@link BiFunction} that can travel to the server.
     *
     * @param <T> the type of the first argument
     * @param <U> the type of the second argument
     * @param <R> the type of the result
     */
    @FunctionalInterface
    interface Remapping<T, U, R> extends BiFunction<T, U, R>, Serializable {}

    /**
     * A {@link Function} that can travel to the server.
     *
     * @param <T> the type of the argument
     * @param <R> the type of the result
     */
    @FunctionalInterface
    interface Mapping<T, R> extends Function<T, R>, Serializable {}

    /**
     * {@link Map#merge}, run in the server as one step.
     *
     * @param key       the key
     * @param value     the value put if the key has none
     * @param remapping combines the old value and {@code value}; null removes the entry
     * @return the new value, or null if the entry was removed
     */
    V merge(K key, V value, Remapping<? super V, ? super V, ? extends V> remapping);

    /**
     * {@link Map#compute}, run in the server as one step.
     *
     * @param key       the key
     * @param remapping makes the new value from the key and the old value (or null); null
     *                  removes the entry
     * @return the new value, or null if there is none
     */
    V compute(K key, Remapping<? super K, ? super V, ? extends V> remapping);

    /**
     * {@link Map#computeIfAbsent}, run in the server as one step.
     *
     * @param key     the key
     * @param mapping makes the value of a key that has none; null puts nothing
     * @return the key's value now, or null if there is none
     */
    V computeIfAbsent(K key, Mapping<? super K, ? extends V> mapping);

    /**
     * {@link Map#computeIfPresent}, run in the server as one step.
     *
     * @param key       the key
     * @param remapping makes the new value from the key and the old one; null removes the entry
     * @return the new value, or null if there is none
     */
    V computeIfPresent(K key, Remapping<? super K, ? super V, ? extends V> remapping);

    /**
     * {@link Map#replaceAll}, run in the server as one step.
     *
     * @param function makes each entry's new value from its key and value
     */
    void replaceAll(Remapping<? super K, ? super V, ? extends V> function);
}
