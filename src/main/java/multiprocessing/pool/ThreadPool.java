package multiprocessing.pool;

import multiprocessing.SerializableRunnable;

/**
 * A {@link Pool} whose workers are threads of this JVM (Python's
 * {@code multiprocessing.pool.ThreadPool}): the same interface, nothing serialized, for tasks
 * that wait on I/O or release the CPU. {@link #terminate()} cannot kill a thread: it interrupts
 * the running tasks and fails their results.
 */
public final class ThreadPool extends Pool {
    /**
     * A pool of {@code processes} threads.
     *
     * @param processes how many worker threads
     */
    public ThreadPool(int processes) {
        this(processes, null);
    }

    /**
     * A pool of {@code processes} threads, each running {@code initializer} first.
     *
     * @param processes   how many worker threads
     * @param initializer what each thread runs before its first task, or null
     */
    public ThreadPool(int processes, SerializableRunnable initializer) {
        super(checkProcesses(processes), new ThreadEngine(processes, initializer));
    }

    /** A pool of {@link multiprocessing.Multiprocessing#cpuCount()} threads. */
    public ThreadPool() {
        this(multiprocessing.Multiprocessing.cpuCount());
    }
}
