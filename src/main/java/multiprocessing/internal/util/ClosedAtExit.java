package multiprocessing.internal.util;

import java.io.Closeable;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JDK channels a thread may block in (a read of a pipe through {@code /proc/self/fd}),
 * closed in the exit's last stage, {@link AtExit.Stage#WAITS}: HotSpot's exit waits up to
 * 300 ms for each thread inside a native call, and closing a {@link
 * java.nio.channels.FileChannel} signals the threads blocked in it out of the kernel (they throw
 * {@link java.nio.channels.AsynchronousCloseException}). The library's own waits leave the
 * kernel in the same stage (Parker's "Exit").
 */
public final class ClosedAtExit {
    private ClosedAtExit() {}

    private static final Set<Closeable> OPEN = ConcurrentHashMap.newKeySet();
    private static boolean registered;

    /**
     * Has {@code channel} closed at exit unless {@link #remove removed} first.
     *
     * @return false if the exit has begun: the caller must not block in it
     */
    public static boolean add(Closeable channel) {
        synchronized (ClosedAtExit.class) {
            if (!registered) {
                if (!AtExit.register(AtExit.Stage.WAITS, new CloseAll())) {
                    return false;
                }
                registered = true;
            }
        }
        OPEN.add(channel);
        if (AtExit.exiting()) {
            // Added while the stage may have run already: not blocked in, as the stage would
            // not close it.
            OPEN.remove(channel);
            return false;
        }
        return true;
    }

    /** Forgets {@code channel} (closed by its owner). */
    public static void remove(Closeable channel) {
        OPEN.remove(channel);
    }

    /** The stage's action: a class, so that a cache's trainer loads it (no lambda is spun). */
    private static final class CloseAll implements Runnable {
        @Override
        public void run() {
            for (Closeable channel : OPEN) {
                try {
                    channel.close();
                } catch (IOException | RuntimeException e) {
                    // exiting: the thread in it is then waited for, no worse than before
                }
            }
        }
    }
}
