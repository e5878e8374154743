package multiprocessing.managers;

/**
 * A shared queue with {@link #taskDone()} and {@link #join()}
 * ({@link SyncManager#joinableQueue()}).
 *
 * @param <E> the type of the items
 */
public interface JoinableQueueProxy<E> extends QueueProxy<E> {
    /** One item taken earlier is done; more calls than items throw IllegalStateException. */
    void taskDone();

    /** Waits until every item put has been marked done. */
    void join();
}
