package multiprocessing;

import java.io.Serializable;

/**
 * A function that can be sent to another process (a pool's {@code map} and {@code imap}).
 * A lambda written where one is expected becomes serializable, with its captured values.
 *
 * @param <T> the argument type
 * @param <R> the result type
 */
@FunctionalInterface
public interface SerializableFunction<T, R> extends Serializable {
    /**
     * Applies the function; a checked exception is reported to the caller like any other.
     *
     * @param t the argument
     * @return the result
     * @throws Exception whatever the function throws
     */
    R apply(T t) throws Exception;
}
