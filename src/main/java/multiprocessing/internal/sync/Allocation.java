package multiprocessing.internal.sync;

import java.lang.foreign.MemorySegment;

import multiprocessing.internal.heap.Block;
import multiprocessing.internal.heap.Heap;
import multiprocessing.internal.reduction.Reducer;

/**
 * Synchronizer blocks from the shared heap: one cache line each, so that 100,000 locks cost a
 * few megabytes of one arena rather than 100,000 shared-memory objects, and two locks never share
 * a cache line. The block travels as the heap's {@link Block} (arena name and offset).
 */
final class Allocation {
    private Allocation() {}

    static SyncMemory allocate() {
        // Zeroed by the heap, reused space too: a free lock, an empty semaphore.
        Block block = Heap.allocate(SyncLayout.SIZE, SyncLayout.CACHE_LINE);
        return new HeapMemory(block);
    }

    static SyncMemory readFrom(Reducer.In in) {
        return new HeapMemory((Block) in.readObject());
    }

    /** Holds the {@link Block}, whose reachability is what keeps its space from being reused. */
    private record HeapMemory(Block block) implements SyncMemory {
        @Override
        public MemorySegment segment() {
            return block.segment();
        }

        @Override
        public void writeTo(Reducer.Out out) {
            out.writeObject(block);
        }
    }
}
