package multiprocessing.internal.forkserver;

import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.spawn.ChildMain;
import multiprocessing.internal.spawn.Spawner;
import multiprocessing.internal.util.LibraryThreads;

/**
 * The entry point of a JVM booted ahead of time for the "forkserver" start method: it does
 * what every child does before its target ({@link ChildMain#warmUp(String)}), loads the classes named
 * by {@code Multiprocessing.setForkserverPreload} without initialising them (so that no user
 * code runs before a process is handed over), then waits on its bootstrap socket, building the
 * serializer if it waits long enough. When its
 * creator hands it a process it runs it exactly as a spawned child would; when the creator
 * closes the socket instead (it has exited, however, or retires this JVM) it exits at once.
 */
public final class WarmMain {
    private WarmMain() {}

    /** Comma-separated class names to load while warming up. */
    static final String PRELOAD_PROPERTY = "multiprocessing.forkserver.preload";

    public static void main(String[] args) {
        int[] fds;
        java.io.InputStream stream;
        try {
            warmUp(); // no process comes before it is reported: a start takes only ready JVMs
            stream = Spawner.bootstrapSocket();
            fds = Spawner.receiveHandOver();
        } catch (Exception | LinkageError e) {
            System.err.println("multiprocessing: a forkserver JVM failed while it waited: " + e);
            e.printStackTrace();
            Runtime.getRuntime().halt(1);
            return;
        }
        if (fds == null) {
            Runtime.getRuntime().halt(0); // retired, or the creator has gone
        }
        handedOver = true;
        ChildMain.run(stream, fds);
    }

    /**
     * Warms up and reports it. A JVM whose warm-up failed ends: it would never be taken (a
     * start takes only JVMs that have reported); its creator reaps it, and boots another when a
     * later start asks for one.
     */
    private static void warmUp() throws java.io.IOException {
        try {
            long failAfter = Long.getLong(TEST_WARM_UP_FAILURE_PROPERTY, -1);
            if (failAfter >= 0) {
                Thread.sleep(failAfter);
                throw new IllegalStateException(
                        "the warm-up fails (" + TEST_WARM_UP_FAILURE_PROPERTY + ")");
            }
            ChildMain.warmUp("forkserver");
            preload(System.getProperty(PRELOAD_PROPERTY, ""));
        } catch (Throwable e) {
            System.err.println("multiprocessing: a forkserver JVM could not warm up, and exits"
                    + " (processes are spawned meanwhile): " + e);
            Runtime.getRuntime().halt(1);
            return;
        }
        Spawner.reportReady();
        buildSerializerWhenIdle();
    }

    /** Set as a process is handed over: from then on the JVM's CPU is its process's. */
    private static volatile boolean handedOver;

    /** How long a ready JVM waits untaken before it builds the serializer. */
    static final long SERIALIZER_IDLE_MILLIS = 500;

    /**
     * Builds the serializer (Fory) once this JVM has waited {@value #SERIALIZER_IDLE_MILLIS} ms
     * untaken, so that a process handed over later sends and receives objects at once.
     * Not before reporting ready: a process usually arrives written without Fory and may never
     * send an object, and during a burst of starts, when JVMs are taken as soon as they are
     * ready, building it would only take CPU from the starts (about 100 ms of CPU a JVM;
     * bench/RESULTS.md, ninth session). A process handed over during the build waits for it
     * only if it needs it; one that needs it before the build began builds it itself.
     */
    private static void buildSerializerWhenIdle() {
        LibraryThreads.platform().daemon().name("multiprocessing-serializer-warm-up")
                .start(new WhenIdle());
    }

    /**
     * The body of {@link #buildSerializerWhenIdle}'s thread: a class, which the full cache's
     * tour loads, not a lambda, which was spun in every waiting JVM as it reported ready.
     */
    static final class WhenIdle implements Runnable {
        @Override
        public void run() {
            try {
                Thread.sleep(SERIALIZER_IDLE_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            if (!handedOver) {
                Serialization.warmUp();
            }
        }
    }

    /** Fault injection for tests: the warm-up fails after this many milliseconds. */
    private static final String TEST_WARM_UP_FAILURE_PROPERTY =
            "multiprocessing.forkserver.testWarmUpFailureMillis";

    private static void preload(String names) {
        ClassLoader loader = ClassLoader.getSystemClassLoader();
        for (String name : names.split(",")) {
            if (!name.isBlank()) {
                try {
                    Class.forName(name.strip(), false, loader);
                } catch (ClassNotFoundException | LinkageError e) {
                    // The parent checked the names; a class it could load and this JVM cannot
                    // is loaded again, and fails clearly, when the process needs it.
                }
            }
        }
    }
}
