package multiprocessing.internal.managers;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import multiprocessing.sharedmemory.SharedMemory;
import multiprocessing.internal.util.LibraryLog;

/**
 * The shared-memory names a SharedMemoryManager's server unlinks when it shuts down (Python's
 * {@code _SharedMemoryTracker}). One per server ({@link ManagerServer#makingSegments}), which
 * may be one of several in a JVM. Segments whose creator dies by SIGKILL take the server with
 * it (a daemon child); the resource tracker unlinks those.
 */
public final class SegmentTracker implements Concurrent, OnServerShutdown {
    private final Set<String> names = new LinkedHashSet<>();

    SegmentTracker() {}

    /** The tracker of the server making it now. */
    public static SegmentTracker forServer() {
        return ManagerServer.makingSegments();
    }

    public synchronized void track(String name) {
        names.add(name);
    }

    public synchronized void untrack(String name) {
        names.remove(name);
    }

    public synchronized List<String> names() {
        return List.copyOf(names);
    }

    @Override
    public void serverShutdown() {
        for (String name : names()) {
            try (SharedMemory shm = SharedMemory.attach(name)) {
                shm.unlink();
            } catch (IOException | RuntimeException e) {
                // Already unlinked by its user: nothing left to do.
                LibraryLog.get().log(Level.DEBUG,
                        "shared memory " + name + " was already gone: " + e);
            }
            untrack(name);
        }
    }
}
