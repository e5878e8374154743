package multiprocessing.managers;

/**
 * A shared value ({@link SyncManager#value(String, Object)}), Python's {@code ValueProxy}.
 *
 * @param <T> the type of the value
 */
public interface ValueProxy<T> extends BaseProxy {
    /** {@return the value, a copy of the server's (Python's {@code .value})} */
    T get();

    /**
     * Sets the value (Python's {@code .value = v}).
     *
     * @param value the new value
     */
    void set(T value);
}
