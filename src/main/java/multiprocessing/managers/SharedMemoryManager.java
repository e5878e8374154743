package multiprocessing.managers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

import multiprocessing.Context;
import multiprocessing.connection.Address;
import multiprocessing.internal.managers.SegmentTrackerProxy;
import multiprocessing.internal.managers.StandardTypes;
import multiprocessing.sharedmemory.ShareableList;
import multiprocessing.sharedmemory.SharedMemory;

/**
 * A manager of shared memory (Python's {@code SharedMemoryManager}): {@link #sharedMemory(int)}
 * and {@link #shareableList(List)} create segments (in the calling process, as Python does)
 * whose names the server records, and {@link #shutdown()} unlinks every one of them. If the
 * creator dies without shutting down (SIGKILL included), the server goes with it and the
 * resource tracker unlinks the segments once the last process that used them is gone.
 */
public class SharedMemoryManager extends BaseManager {
    private static final String TRACKER = StandardTypes.SEGMENT_TRACKER.typeId();
    private SegmentTrackerProxy tracker;

    /** A manager on a fresh private Unix socket path with the process's key; not started. */
    public SharedMemoryManager() {
        this(null, null, null);
    }

    /**
     * A manager on {@code address}, not started.
     *
     * @param address where the server listens; null for a fresh Unix socket path in the server process's private directory
     * @param authKey the key clients authenticate with; null for the process's {@code authKey()}
     */
    public SharedMemoryManager(Address address, byte[] authKey) {
        this(address, authKey, null);
    }

    /**
     * A manager on {@code address} whose server is started with {@code context}; not started.
     *
     * @param address where the server listens; null for a fresh Unix socket path in the server process's private directory
     * @param authKey the key clients authenticate with; null for the process's {@code authKey()}
     * @param context the start method of the server process, or null for the default context
     */
    public SharedMemoryManager(Address address, byte[] authKey, Context context) {
        super(address, authKey, context);
        registerStandard(StandardTypes.SEGMENT_TRACKER);
    }

    private synchronized SegmentTrackerProxy tracker() {
        if (tracker == null) {
            tracker = create(TRACKER);
        }
        return tracker;
    }

    /**
     * A new segment of {@code size} bytes, unlinked when the manager shuts down.
     *
     * @param size the segment's size in bytes
     * @return the segment, created in this process
     */
    public SharedMemory sharedMemory(int size) {
        SegmentTrackerProxy t = tracker();
        SharedMemory shm;
        try {
            shm = SharedMemory.create(size);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        track(t, shm);
        return shm;
    }

    /**
     * Hands {@code shm} to the server; if that fails (the server gone), unlinks it here, as
     * CPython does: nobody would unlink it before this program's end.
     */
    private static void track(SegmentTrackerProxy t, SharedMemory shm) {
        try {
            t.track(shm.name());
        } catch (RuntimeException | Error e) {
            try {
                shm.close();
                shm.unlink();
            } catch (IOException | RuntimeException notUnlinked) {
                e.addSuppressed(notUnlinked);
            }
            throw e;
        }
    }

    /**
     * A new ShareableList of {@code values}, unlinked when the manager shuts down.
     *
     * @param values the list's items
     * @return the list, created in this process
     */
    public ShareableList shareableList(List<?> values) {
        SegmentTrackerProxy t = tracker();
        ShareableList list;
        try {
            list = ShareableList.create(values);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        track(t, list.shm());
        return list;
    }

    /** {@return the names of the segments the server will unlink at shutdown} */
    public List<String> segmentNames() {
        return tracker().names();
    }
}
