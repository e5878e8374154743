package multiprocessing.managers;

import java.time.Duration;

/**
 * A shared queue ({@link SyncManager#queue()}), Python's {@code queue.Queue} in the manager:
 * blocking calls wait in the server without holding up other callers. Timeouts throw
 * {@link multiprocessing.EmptyException} / {@link multiprocessing.FullException}. Items
 * cannot be null.
 */
public interface QueueProxy<E> extends BaseProxy {
    void put(E item);

    /** {@code block} false: {@link #putNowait}. */
    void put(E item, boolean block);

    void put(E item, Duration timeout);

    void putNowait(E item);

    E get();

    /** {@code block} false: {@link #getNowait}. */
    E get(boolean block);

    E get(Duration timeout);

    E getNowait();

    int qsize();

    boolean empty();

    boolean full();
}
