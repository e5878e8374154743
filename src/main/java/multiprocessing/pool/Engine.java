package multiprocessing.pool;

import java.time.Duration;
import java.util.List;

/** Where a pool's chunks run: worker processes ({@link ProcessEngine}) or threads ({@link ThreadEngine}). */
interface Engine {
    /** Readies a job's function for the workers (the process engine serializes it once). */
    void prepare(Job job);

    /** Queues a chunk; the job hears of its end through {@link Job#done}/{@link Job#failed}. */
    void submit(Chunk chunk);

    /** A lazily fed job will submit more chunks: workers must not be told to stop yet. */
    void feederStarted();

    void feederDone();

    /** No new jobs: workers exit once the queued chunks are done. */
    void close();

    /** Stops the workers now; every unfinished chunk's job is aborted. */
    void terminate();

    /**
     * Has a later {@link #terminate} fail the tasks with {@code why} (a cluster connection
     * lost) rather than as terminated by the program; engines that cannot lose a connection
     * ignore it.
     */
    default void failWith(String why) {}

    /** Waits until every worker has exited; false on timeout. */
    boolean awaitExit(Duration timeout) throws InterruptedException;

    /** Whether the calling thread is one that delivers results (where waiting would deadlock). */
    boolean isResultThread();

    /** The pids of the live workers (threads: none). */
    List<Long> workerPids();

    /**
     * Ends the run of {@code job}'s chunk that a worker has started, if that can be done
     * without losing another job's work: runs {@code cancel} (which marks the result
     * cancelled) and, if it succeeds, ends that worker, which the pool replaces. False, with
     * nothing done, when the chunk is not running alone in a worker (or the engine has no
     * processes to end).
     */
    default boolean abortRunning(Job job, java.util.function.BooleanSupplier cancel) {
        return false;
    }

    /** Joins {@code thread} for up to {@code timeout} (null: no limit); whether it has ended. */
    static boolean join(Thread thread, Duration timeout) throws InterruptedException {
        if (timeout == null) {
            thread.join();
        } else {
            thread.join(timeout);
        }
        return !thread.isAlive();
    }
}
