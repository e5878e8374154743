package multiprocessing.internal.util;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one shutdown hook of this library (CPython's {@code util._exit_function}): what must
 * happen when the JVM exits, run in stages in a fixed order by a single thread.
 *
 * <p>Why one hook and not one per concern: the JVM starts all shutdown hooks at once, in no
 * order. Children that are joined at exit may still be starting and need this process's
 * shared memory and socket directory, so those may be released only once the children have
 * been joined. Separate hooks raced: the heap's arenas were unlinked while a child that
 * started after {@code main} returned had not yet mapped them.
 */
public final class AtExit {
    private AtExit() {}

    /** The stages, in the order they run. */
    public enum Stage {
        /**
         * This JVM leaves the clusters it is a member or client of: chunks it was running for
         * other machines are handed back before its workers (children) are stopped.
         */
        LEAVE,
        /** Daemonic children are terminated and the others joined. */
        CHILDREN,
        /** What the children may have used: shared memory, socket files. */
        RELEASE,
        /**
         * The library's waits leave the kernel (see Parker's "Exit"): the JVM's exit then need
         * not wait for threads inside native calls.
         */
        WAITS
    }

    private static final Map<Stage, List<Runnable>> ACTIONS = new EnumMap<>(Stage.class);
    private static boolean installed;
    private static boolean running;

    /**
     * Runs {@code action} at exit in {@code stage}, after every action of the earlier stages.
     *
     * @return false if the JVM's exit has begun: the action will not run (it is left to the
     *     resource tracker)
     */
    public static synchronized boolean register(Stage stage, Runnable action) {
        if (running) {
            // Exit has begun: the hook may already be past this stage, and a new shutdown hook
            // cannot be added any more.
            return false;
        }
        if (!installed) {
            try {
                Runtime.getRuntime().addShutdownHook(
                        LibraryThreads.unstarted("multiprocessing-exit", AtExit::runAll));
            } catch (IllegalStateException e) {
                // The exit began before the library needed the hook: a program's own shutdown
                // hook is the first to use it. Its use must not fail for that.
                return false;
            }
            installed = true;
        }
        ACTIONS.computeIfAbsent(stage, s -> new ArrayList<>()).add(action);
        return true;
    }

    /** Whether the JVM's exit has begun (this library's hook runs). */
    public static synchronized boolean exiting() {
        return running;
    }

    /**
     * Runs the exit's actions now: for a process whose work is done while its JVM goes on for
     * a while before it ends (an AOT cache's trainer, which writes the cache as it exits). From
     * then on it counts as exiting, and its exit runs none of them again.
     */
    public static void runNow() {
        runAll();
    }

    /**
     * What a JVM about to {@link Runtime#halt halt} runs of its exit (a daemon child whose
     * parent has gone): the release of what it made (shared memory; its private directory,
     * which nobody else removes until another JVM sweeps the temporary directory) and the last
     * stage, for HotSpot's exit, a halt's too, waits 300 ms for threads inside native calls
     * unless the library's waits have left the kernel. Not the earlier stages: a daemon has no
     * children, and leaving a cluster may take long. An exit already running them (the process
     * ending as its parent goes) is waited for instead. It waits at most {@code bound}, so
     * that a release stuck behind a lock never keeps the JVM from ending. From then on the JVM
     * counts as exiting.
     */
    public static void beforeHalt(java.time.Duration bound) {
        Thread stages = LibraryThreads.platform().daemon().name("multiprocessing-exit")
                .start(() -> run(EnumSet.of(Stage.RELEASE, Stage.WAITS)));
        try {
            stages.join(bound);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // halting all the same
        }
    }

    private static void runAll() {
        run(EnumSet.allOf(Stage.class));
    }

    /**
     * Held while stages run: a halt's stages ({@link #beforeHalt}) wait for an exit's that
     * already took them, rather than halting in the middle of its release.
     */
    private static final Object RUNNING_STAGES = new Object();

    private static void run(Set<Stage> stages) {
        synchronized (RUNNING_STAGES) {
            for (Stage stage : stages) {
                List<Runnable> actions;
                synchronized (AtExit.class) {
                    running = true;
                    // Taken out: each runs once, should runNow and the hook meet.
                    List<Runnable> staged = ACTIONS.remove(stage);
                    actions = staged == null ? List.of() : staged;
                }
                for (Runnable action : actions) {
                    try {
                        action.run();
                    } catch (RuntimeException | Error e) {
                        // One failed action must not keep the later ones (the release) from
                        // running.
                        System.err.println("multiprocessing: at exit: " + e);
                    }
                }
            }
        }
    }
}
