package multiprocessing.internal.spawn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;

/**
 * Explains why the machine refused to start a process, naming the limit that was reached: a
 * bare "posix_spawn: EAGAIN" tells a user nothing about which of several limits to raise. The
 * limits are read from {@code /proc/self/limits}, which needs no native call.
 */
public final class RefusedStart {
    private RefusedStart() {}

    /**
     * Read when this class is prepared, while descriptors are still to be had: at the failure
     * they may be gone, and /proc/self/limits cannot be opened then.
     */
    private static volatile String preparedLimits = "";

    /**
     * Loads what {@link #explain} needs, before a start that may fail for want of descriptors:
     * then no class can be loaded from a directory and no file opened. Cheap after the first.
     */
    public static void prepare() {
        if (preparedLimits.isEmpty()) {
            Posix.prepareErrorReports();
            // explain() tests every failure against it, so it must be loaded before any fails.
            Class<?> ignored = NoThread.class;
            preparedLimits = limit("Max open files") + "|" + limit("Max processes");
        }
    }

    /**
     * The machine refused this process a thread that a start needs (the JVM says only "unable
     * to create native thread"): pthread_create fails with EAGAIN at the same limits that
     * refuse a process, RLIMIT_NPROC counting threads too, or for want of memory for the stack.
     */
    static final class NoThread extends IOException {
        private static final long serialVersionUID = 1L;

        NoThread(String thread, OutOfMemoryError cause) {
            super("cannot start thread " + thread + ": " + cause.getMessage(), cause);
        }
    }

    /**
     * Starts {@code thread}, or throws {@link NoThread} when the machine refuses it (a
     * failure {@link #explain} names the limits of); any other error is the JVM's own.
     */
    static void start(Thread.Builder thread, String name, Runnable task) throws NoThread {
        try {
            thread.name(name).start(task);
        } catch (OutOfMemoryError e) {
            if (e.getMessage() == null || !e.getMessage().contains("native thread")) {
                throw e;
            }
            throw new NoThread(name, e);
        }
    }

    /**
     * What a failed start of {@code name} means, or the failure's own message when it is not a
     * refusal by a limit.
     */
    public static String explain(String name, IOException failure) {
        String why = failure.getMessage();
        if (failure instanceof NoThread) {
            why = "the system refused this process a new thread: this user has as many "
                    + "processes and threads as it may (" + limit("Max processes")
                    + "; raise it with ulimit -u), or the kernel's threads-max is reached, or "
                    + "memory is short [" + failure.getMessage() + "]";
        } else if (failure instanceof ErrnoException e) {
            why = switch (e.errnoName()) {
                case "EMFILE" -> "this process has as many open files as it may ("
                        + limit("Max open files") + "; each child takes a few descriptors of"
                        + " its parent while it runs: raise the limit with ulimit -n)";
                case "ENFILE" -> "the system has as many open files as it may (fs.file-max)";
                case "EAGAIN" -> "the system refused a new process: this user has as many "
                        + "processes and threads as it may (" + limit("Max processes")
                        + "; raise it with ulimit -u), or the kernel's pid_max or threads-max "
                        + "is reached";
                case "ENOMEM" -> "the system is out of memory for a new process";
                default -> why;
            } + " [" + e.getMessage() + "]";
        }
        return "cannot start " + name + ": " + why;
    }

    /**
     * "RLIMIT_NOFILE is 1024 (hard 4096)" from /proc/self/limits, or as prepared when the file
     * cannot be read now, or the limit's name alone.
     */
    static String limit(String row) {
        String rlimit = row.equals("Max open files") ? "RLIMIT_NOFILE" : "RLIMIT_NPROC";
        String prepared = preparedLimits;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith(row)) {
                    String[] f = line.substring(row.length()).trim().split("\\s+");
                    return rlimit + " is " + f[0] + " (hard " + f[1] + ")";
                }
            }
        } catch (IOException | RuntimeException e) {
            for (String known : prepared.split("\\|")) {
                if (known.startsWith(rlimit + " is ")) {
                    return known;
                }
            }
        }
        return rlimit;
    }
}
