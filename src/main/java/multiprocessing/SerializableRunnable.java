package multiprocessing;

import java.io.Serializable;

/**
 * A task with no result that can be sent to another process: the target of a {@link Process}.
 *
 * <p>A lambda written where one is expected becomes serializable by the compiler, and the values
 * it captures travel with it. Unlike {@link Runnable}, {@link #run()} may throw a checked
 * exception: in a child process it ends the process with exit code 1 and its traceback on the
 * child's standard error, as an uncaught exception does in Python.
 */
@FunctionalInterface
public interface SerializableRunnable extends Serializable {
    /**
     * Runs the task.
     *
     * @throws Exception whatever the task throws, reported as its failure
     */
    void run() throws Exception;
}
