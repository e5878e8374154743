package multiprocessing.managers;

import java.time.Duration;

/**
 * A shared queue ({@link SyncManager#queue()}), Python's {@code queue.Queue} in the manager:
 * blocking calls wait in the server without holding up other callers. Timeouts throw
 * {@link multiprocessing.EmptyException} / {@link multiprocessing.FullException}. Items
 * cannot be null.
 *
 * <p>A caller interrupted while it waits gets a {@link multiprocessing.ProcessError}, and the
 * server gives its call up; an item the server had already taken for it, before the word
 * arrived, is returned to it instead, with its interrupt status set (Python's interrupted
 * proxy call loses it). One taken after its caller gave up waiting (a server stalled for
 * seconds: see {@link BaseProxy}'s interrupts) is put back at the queue's head, and a get whose
 * process died while it waited takes none. Timeouts stop a wait without any of that.
 *
 * @param <E> the type of the items
 */
public interface QueueProxy<E> extends BaseProxy {
    /**
     * Puts {@code item}, waiting as long as it takes for room.
     *
     * @param item what to put, not null
     */
    void put(E item);

    /**
     * Puts {@code item}; with {@code block} false as {@link #putNowait}.
     *
     * @param item  what to put, not null
     * @param block whether to wait for room
     */
    void put(E item, boolean block);

    /**
     * Puts {@code item}, waiting up to {@code timeout} for room.
     *
     * @param item    what to put, not null
     * @param timeout how long to wait for room
     * @throws multiprocessing.FullException if there was no room in time
     */
    void put(E item, Duration timeout);

    /**
     * Puts {@code item} if there is room now.
     *
     * @param item what to put, not null
     * @throws multiprocessing.FullException if there is no room
     */
    void putNowait(E item);

    /** {@return the next item, taken after waiting as long as it takes} */
    E get();

    /**
     * Takes the next item; with {@code block} false as {@link #getNowait}.
     *
     * @param block whether to wait for an item
     * @return the item
     */
    E get(boolean block);

    /**
     * Takes the next item, waiting up to {@code timeout}.
     *
     * @param timeout how long to wait for an item
     * @return the item
     * @throws multiprocessing.EmptyException if none came in time
     */
    E get(Duration timeout);

    /**
     * Takes the next item if there is one now.
     *
     * @return the item
     * @throws multiprocessing.EmptyException if the queue is empty
     */
    E getNowait();

    /** {@return the number of items in the queue now} */
    int qsize();

    /** {@return whether the queue is empty now} */
    boolean empty();

    /** {@return whether the queue is full now: bounded and holding its most items} */
    boolean full();
}
