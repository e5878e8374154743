package multiprocessing.internal.sync;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import multiprocessing.internal.reduction.Reducer;

/**
 * The shared memory behind one synchronizer block: a {@link SyncLayout#SIZE}-byte segment that
 * stays mapped as long as this object is reachable, and the way it travels to another process
 * (written by the primitive's reducer, read back there as the same memory, never a copy).
 */
public interface SyncMemory {
    /** The block, {@link SyncLayout#SIZE} bytes, zeroed when it was allocated. */
    MemorySegment segment();

    /** Writes what identifies this memory in another process. */
    void writeTo(Reducer.Out out);

    /** A fresh zeroed block in memory every process of the tree can map. */
    static SyncMemory allocate() {
        return Allocation.allocate();
    }

    /** The block {@link #writeTo} wrote, mapped in this process. */
    static SyncMemory readFrom(Reducer.In in) {
        return Allocation.readFrom(in);
    }

    /**
     * A block in this process's own memory: threads of one process can synchronize on it (shared
     * futexes work on any mapping), other processes cannot.
     */
    static SyncMemory local() {
        MemorySegment s = Arena.ofAuto().allocate(SyncLayout.SIZE, SyncLayout.CACHE_LINE);
        return new SyncMemory() {
            @Override
            public MemorySegment segment() {
                return s;
            }

            @Override
            public void writeTo(Reducer.Out out) {
                throw new IllegalStateException("a process-local synchronizer cannot be sent");
            }
        };
    }
}
