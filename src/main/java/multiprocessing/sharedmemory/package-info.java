/**
 * Python's {@code multiprocessing.shared_memory}: named POSIX shared memory
 * ({@link multiprocessing.sharedmemory.SharedMemory}) seen as a
 * {@link java.lang.foreign.MemorySegment}, and {@link multiprocessing.sharedmemory.ShareableList}.
 * What a process tree leaves behind is unlinked by the resource tracker when the tree is gone.
 */
package multiprocessing.sharedmemory;
