package multiprocessing.internal.util;

/**
 * Where the library's own platform threads live: in a thread group of their own under the
 * JVM's root group, never in the group of the thread that happened to start them.
 *
 * <p>Implementation note. A platform thread joins the thread group of the thread that creates
 * it, and some hosts treat a group as "everything the user's code started": jshell's local
 * execution engine runs each snippet in a fresh group and, right after starting it, joins
 * every thread of that group. A snippet that made a pool, a fork server's keeper or a class
 * server could therefore have that long-lived thread joined, and hang the snippet for as long
 * as the thread lives (seen as a JshellTest timeout on a 2-CPU machine), or have it
 * interrupted when the user stops the snippet. The JDK puts its own service threads (the
 * Common-Cleaner, for one) outside the user's groups for the same reason. Threads that run a
 * user's target as a thread ({@code multiprocessing.dummy.DummyProcess}) stay the user's.
 * Work that makes a dependency start threads of its own runs through {@link #callInGroup}:
 * Fory's build, a Hazelcast member's or client's joining and leaving.
 */
public final class LibraryThreads {
    private LibraryThreads() {}

    private static final ThreadGroup GROUP;
    /** The group of the launcher's main thread, "main", or null if it cannot be told. */
    private static final ThreadGroup MAIN;

    static {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        GROUP = new ThreadGroup(root, "multiprocessing");
        ThreadGroup[] children = new ThreadGroup[root.activeGroupCount() + 8];
        int n = root.enumerate(children, false);
        ThreadGroup main = null;
        for (int i = 0; i < n; i++) {
            if (children[i].getName().equals("main")) {
                main = children[i];
            }
        }
        MAIN = main;
    }

    /**
     * A builder of a platform thread in the library's group; daemon status and priority are
     * inherited from the current thread, as with {@code Thread.ofPlatform()}, unless set.
     */
    public static Thread.Builder.OfPlatform platform() {
        return Thread.ofPlatform().group(GROUP);
    }

    /** A new platform thread of the library's, not started, named {@code name}. */
    public static Thread unstarted(String name, Runnable task) {
        return platform().name(name).unstarted(task);
    }

    /**
     * Runs {@code task} on a new daemon thread of the library's group and returns what it
     * returns: for work that starts threads of its own that the library does not create (a
     * dependency's, such as the cleaner thread Fory starts as it is built), which would join
     * the caller's group. Waits uninterruptibly (an interrupt is kept for the caller): the
     * work is the library's and is done whatever the caller's state. A RuntimeException or
     * Error of the task is rethrown as it is.
     */
    public static <T> T callInGroup(String name, java.util.function.Supplier<T> task) {
        ThreadGroup current = Thread.currentThread().getThreadGroup();
        if (current == GROUP || current == MAIN) {
            // No host manages the launcher's own group: a child's first serialization, on
            // its main thread, is not delayed by a thread start.
            return task.get();
        }
        return callOnNewThread(platform().daemon().name(name), task);
    }

    /**
     * Runs {@code task} on a new thread that {@code thread} builds and returns what it returns,
     * waiting uninterruptibly (an interrupt is kept for the caller). A RuntimeException or
     * Error of the task is rethrown as it is.
     */
    public static <T> T callOnNewThread(Thread.Builder thread,
            java.util.function.Supplier<T> task) {
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread t = thread.unstarted(() -> {
            try {
                result[0] = task.get();
            } catch (Throwable e) {
                failure[0] = e;
            }
        });
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure[0] instanceof RuntimeException e) {
            throw e;
        }
        if (failure[0] instanceof Error e) {
            throw e;
        }
        if (failure[0] != null) {
            throw new IllegalStateException(failure[0]);
        }
        @SuppressWarnings("unchecked")
        T value = (T) result[0];
        return value;
    }

    /** The library's thread group (tests look in it). */
    public static ThreadGroup group() {
        return GROUP;
    }
}
