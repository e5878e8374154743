package multiprocessing.pool;

import multiprocessing.ProcessError;

/**
 * The worker process that was running a task died before it could report a result (it was
 * killed by a signal such as SIGKILL from the OOM killer, or it called {@code System.exit}).
 * Only the tasks that worker was running fail with it; the pool replaces the worker and goes on.
 * CPython's pool hangs forever in this case.
 */
public class WorkerLostException extends ProcessError {
    private static final long serialVersionUID = 1L;

    /** The pid of the worker that died. */
    private final long pid;
    /** Its exit code, or null if unknown. */
    private final Integer exitCode;

    /**
     * A task whose worker died.
     *
     * @param pid      the pid of the worker that died
     * @param exitCode its exit code, or null if unknown
     */
    public WorkerLostException(long pid, Integer exitCode) {
        this("worker process " + pid + " died while running the task: " + describe(exitCode),
                pid, exitCode);
    }

    /**
     * A loss described by {@code message}: a pool on a cluster fails a chunk so when the
     * members it ran on were lost (see {@code multiprocessing.cluster.Cluster#pool()}), with the
     * pid of the last member's JVM.
     *
     * @param message  what was lost and why
     * @param pid      the pid of the worker (or member JVM) that died
     * @param exitCode its exit code, or null if unknown
     */
    public WorkerLostException(String message, long pid, Integer exitCode) {
        super(message);
        this.pid = pid;
        this.exitCode = exitCode;
    }

    /** {@return the pid of the worker that died (of a cluster member's JVM for a chunk lost with its member)} */
    public long pid() {
        return pid;
    }

    /**
     * {@return its exit code: {@code n} for {@code System.exit(n)}, {@code -s} for signal
     * {@code s}; null if unknown}
     */
    public Integer exitCode() {
        return exitCode;
    }

    static String describe(Integer exitCode) {
        if (exitCode == null) {
            return "exit status unknown";
        }
        if (exitCode < 0) {
            int sig = -exitCode;
            String name = switch (sig) {
                case 9 -> "SIGKILL";
                case 15 -> "SIGTERM";
                case 6 -> "SIGABRT";
                case 11 -> "SIGSEGV";
                case 2 -> "SIGINT";
                case 1 -> "SIGHUP";
                default -> "signal " + sig;
            };
            return "killed by signal " + sig + " (" + name + "), exit code " + exitCode;
        }
        return "exited with exit code " + exitCode;
    }
}
