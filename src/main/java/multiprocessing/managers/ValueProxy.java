package multiprocessing.managers;

/** A shared value ({@link SyncManager#value(String, Object)}), Python's {@code ValueProxy}. */
public interface ValueProxy<T> extends BaseProxy {
    T get();

    void set(T value);
}
