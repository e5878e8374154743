package multiprocessing;

import java.io.Serializable;

/**
 * A two-argument function that can be sent to another process (a pool's {@code starmap}).
 *
 * @param <T> the first argument type
 * @param <U> the second argument type
 * @param <R> the result type
 */
@FunctionalInterface
public interface SerializableBiFunction<T, U, R> extends Serializable {
    /**
     * Applies the function; a checked exception is reported to the caller like any other.
     *
     * @param t the first argument
     * @param u the second argument
     * @return the result
     * @throws Exception whatever the function throws
     */
    R apply(T t, U u) throws Exception;
}
