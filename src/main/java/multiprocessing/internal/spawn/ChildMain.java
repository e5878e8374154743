package multiprocessing.internal.spawn;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;

/**
 * The entry point of a spawned child JVM (Python's {@code spawn.spawn_main}): reads the
 * {@link Preparation} from the inherited bootstrap descriptor, runs the process, waits for the
 * non-daemon threads it started, and exits with the process's exit code.
 *
 * <p>Before the target runs, the child makes no native call: the bootstrap pipe is read with
 * plain {@code java.io} through {@code /proc/self/fd}, because linking the first downcalls of a
 * fresh JVM costs more than the JVM's own start.
 */
public final class ChildMain {
    private ChildMain() {}

    private static volatile boolean parentAlive = true;
    private static volatile boolean daemon;

    public static void main(String[] args) {
        Preparation preparation;
        InputStream bootstrap;
        try {
            bootstrap = new FileInputStream("/proc/self/fd/" + Spawner.BOOTSTRAP_FD);
            DataInputStream in = new DataInputStream(new BufferedInputStream(bootstrap, 1 << 16));
            if (in.readInt() != Spawner.MAGIC) {
                throw new IOException("descriptor " + Spawner.BOOTSTRAP_FD
                        + " does not carry a multiprocessing bootstrap payload");
            }
            int handleCount = in.readInt();
            byte[] data = new byte[in.readInt()];
            in.readFully(data);
            int[] fds = new int[handleCount];
            for (int i = 0; i < handleCount; i++) {
                fds[i] = Spawner.FIRST_HANDLE_FD + i;
            }
            preparation = (Preparation) Serialization.deserialize(data, Handles.received(fds));
        } catch (IOException | RuntimeException | LinkageError e) {
            System.err.println("multiprocessing: the child could not read the process it was "
                    + "started for (was it started by multiprocessing.Process.start()?): " + e);
            e.printStackTrace();
            System.exit(1);
            return;
        }
        watchParent(bootstrap);
        int code = ProcessAccess.get().bootstrap(preparation.process(), preparation);
        joinNonDaemonThreads();
        System.exit(code);
    }

    /** Whether this child's parent is still running (its end of the bootstrap pipe is open). */
    public static boolean parentAlive() {
        return parentAlive;
    }

    /** Called by the process bootstrap: a daemon child ends when its parent does. */
    public static void setDaemon(boolean value) {
        daemon = value;
    }

    /** The descriptor that becomes readable (end of file) when the parent has exited. */
    public static int parentSentinel() {
        return Spawner.BOOTSTRAP_FD;
    }

    /**
     * Python terminates daemon children from its exit handler, which a parent killed by SIGKILL
     * never runs. Here a daemon child watches its bootstrap pipe instead: end of file means the
     * parent is gone, whatever ended it. (PR_SET_PDEATHSIG would fire when the spawning
     * <em>thread</em> ends, which in a JVM can be any short-lived thread.)
     */
    private static void watchParent(InputStream bootstrap) {
        Thread.ofPlatform().daemon().name("multiprocessing-parent-watcher").start(() -> {
            try {
                byte[] sink = new byte[64];
                while (bootstrap.read(sink) >= 0) {
                    // The parent writes nothing after the payload: only end of file matters.
                }
            } catch (IOException ignored) {
                // treated as the parent being gone
            }
            parentAlive = false;
            if (daemon) {
                Runtime.getRuntime().halt(128 + 15);
            }
        });
    }

    /** As Python's child does at exit, wait for the non-daemon threads the target started. */
    private static void joinNonDaemonThreads() {
        Thread self = Thread.currentThread();
        while (true) {
            List<Thread> running = new ArrayList<>();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t != self && !t.isDaemon() && t.isAlive()) {
                    running.add(t);
                }
            }
            if (running.isEmpty()) {
                return;
            }
            for (Thread t : running) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
