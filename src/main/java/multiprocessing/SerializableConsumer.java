package multiprocessing;

import java.io.Serializable;

/**
 * A consumer that can be sent to another process.
 *
 * @param <T> the argument type
 */
@FunctionalInterface
public interface SerializableConsumer<T> extends Serializable {
    /**
     * Accepts a value; a checked exception is reported to the caller like any other.
     *
     * @param t the value
     * @throws Exception whatever the consumer throws
     */
    void accept(T t) throws Exception;
}
