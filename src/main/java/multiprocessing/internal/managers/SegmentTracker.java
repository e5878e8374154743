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
 * {@code _SharedMemoryTracker}). One per server process. Segments whose creator dies by
 * SIGKILL take the server with it (a daemon child); the resource tracker unlinks those.
 */
public final class SegmentTracker implements Concurrent, OnServerShutdown {
    private static final SegmentTracker INSTANCE = new SegmentTracker();
    private final Set<String> names = new LinkedHashSet<>();

    /** The server process's tracker. */
    public static SegmentTracker instance() {
        return INSTANCE;
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
