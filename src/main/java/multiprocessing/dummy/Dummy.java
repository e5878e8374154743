package multiprocessing.dummy;

import multiprocessing.Context;

/**
 * Python's {@code multiprocessing.dummy}: the module's API on threads of this JVM.
 *
 * <p>{@link #context()} returns a {@link Context} whose {@code process(..)} makes a
 * {@link DummyProcess} (a thread) and whose {@code pool(..)} makes a
 * {@link multiprocessing.pool.ThreadPool}; its pipes, queues, locks and the rest are the usual
 * ones, which work between threads as well as between processes. It is not a start method:
 * {@code Multiprocessing.getAllStartMethods()} does not list it, and its
 * {@link Context#getStartMethod()} is {@code "dummy"}.
 */
public final class Dummy {
    private Dummy() {}

    /** {@return the thread-backed context} */
    public static Context context() {
        return DummyContext.INSTANCE;
    }

    /**
     * A pool of {@code processes} threads (Python's {@code multiprocessing.dummy.Pool}).
     *
     * @param processes how many worker threads
     * @return the pool
     */
    public static multiprocessing.pool.ThreadPool pool(int processes) {
        return new multiprocessing.pool.ThreadPool(processes);
    }
}
