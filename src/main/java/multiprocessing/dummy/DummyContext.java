package multiprocessing.dummy;

import java.util.List;

import multiprocessing.Context;
import multiprocessing.Process;
import multiprocessing.SerializableRunnable;
import multiprocessing.pool.Pool;
import multiprocessing.pool.ThreadPool;

/**
 * The context of {@code multiprocessing.dummy}: its processes are {@link DummyProcess}es
 * (threads of this JVM) and its pools {@link ThreadPool}s; its pipes, queues, locks and the rest
 * are the usual ones, which work between threads as well as between processes. JVM options
 * mean nothing to a thread: {@link #withJvmOptions} returns this context.
 */
final class DummyContext extends Context {
    static final DummyContext INSTANCE = new DummyContext();

    private DummyContext() {}

    @Override
    public String getStartMethod() {
        return "dummy";
    }

    @Override
    public List<String> jvmOptions() {
        return List.of();
    }

    @Override
    public Context withJvmOptions(String... options) {
        multiprocessing.internal.util.JvmOptions.checked(options); // checked, then unused
        return this;
    }

    @Override
    public Process process(SerializableRunnable target) {
        return new DummyProcess(target);
    }

    /**
     * A {@link ThreadPool}.
     *
     * @throws IllegalArgumentException for a {@code maxTasksPerChild} other than 0: a thread
     *         is never replaced (Python's ThreadPool has no such argument)
     */
    @Override
    public Pool pool(int processes, SerializableRunnable initializer, int maxTasksPerChild) {
        if (maxTasksPerChild != 0) {
            throw new IllegalArgumentException("a ThreadPool's threads are never replaced: "
                    + "maxTasksPerChild means nothing to the dummy context");
        }
        return new ThreadPool(processes, initializer);
    }

    @Override
    public String toString() {
        return "<Context dummy>";
    }
}
