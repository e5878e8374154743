package multiprocessing.internal.pool;

import java.util.function.Consumer;

import multiprocessing.pool.Pool;

/**
 * What a cluster needs from {@code multiprocessing.pool} that is not public: set by
 * {@code Pool}'s static initializer (the JDK's SharedSecrets pattern, as
 * {@code internal.spawn.ProcessAccess}).
 */
public interface PoolAccess {
    /** A pool whose chunks run where {@code placement} puts them. */
    Pool pool(Placement placement);

    /**
     * What terminates {@code pool} without holding it: the pool itself while it is reachable,
     * else its workers (a cluster keeps one for each pool it made, which must not keep a pool
     * the program dropped from being closed as unreachable). The tasks it fails get a
     * {@code ProcessError} that says {@code why} when it gives a reason (a cluster connection
     * lost), else that the pool was terminated.
     */
    Runnable terminator(Pool pool, java.util.function.Supplier<String> why);

    /**
     * Runs, in {@code local}'s worker processes, a chunk that arrived serialized as a worker
     * reads it; {@code reply} gets the worker's answer as it wrote it (a failure here, such as
     * the worker dying, written the same way). {@code local} must be a pool of processes.
     *
     * @return what stops the chunk, its pool elsewhere terminated: a chunk not yet handed to
     *         a worker is dropped, one running alone in a worker ends with that worker (the
     *         pool starts another); {@code reply} gets a failure either way, once
     * @throws IllegalStateException if {@code local} no longer takes work
     */
    Runnable relay(Pool local, byte[] task, Consumer<byte[]> reply);

    /**
     * Cancels {@code result}, whose task a worker of {@code pool} has started, by ending that
     * worker (the pool starts another): what {@code Future.cancel(true)} does to a running
     * task of a thread pool, for {@code ProcessPoolExecutor}'s {@code invokeAll} and
     * {@code invokeAny}. False, with nothing done, when the task is done, or not running alone
     * in a worker (ending it would lose other tasks), or the pool's workers are not processes.
     */
    boolean cancelRunning(Pool pool, multiprocessing.pool.AsyncResult<?> result);

    /**
     * Marks {@code result} cancelled, whatever its task does: a task that could not be ended
     * runs on and its result is dropped. False when it was done already.
     */
    boolean dropResult(multiprocessing.pool.AsyncResult<?> result);

    /**
     * Runs {@code action} once {@code result} is done, however it ends (a result, a failure,
     * a cancel by its caller), on the thread that ends it; at once on this thread if it is
     * done already.
     */
    void whenDone(multiprocessing.pool.AsyncResult<?> result, Runnable action);

    /**
     * Runs a pool's worker loop in this JVM against a rehearsed pool, for the AOT cache's
     * trainer (the classes a worker process loads, recorded once for all of them); with
     * {@code plain}, only tasks whose messages travel without Fory (the channels cache's).
     *
     * @throws Exception if the worker does not answer as a pool expects
     */
    void rehearseWorker(boolean plain) throws Exception;

    static void set(PoolAccess access) {
        Holder.access = access;
    }

    static PoolAccess get() {
        if (Holder.access == null) {
            try {
                Class.forName("multiprocessing.pool.Pool", true, PoolAccess.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
        return Holder.access;
    }

    /** Holds the one instance. */
    final class Holder {
        private Holder() {}

        static volatile PoolAccess access;
    }
}
