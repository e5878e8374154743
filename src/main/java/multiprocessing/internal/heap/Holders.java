package multiprocessing.internal.heap;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The holder counts of an arena's blocks, in the arena itself: one int cell per 16-byte
 * granule, at the arena's start ({@code cell(offset) = offset / 16 * 4}), so every block, small
 * or dedicated, has its count at a place anyone who maps the arena can compute from the
 * block's offset. A small arena gives its first quarter to the cells (blocks start after
 * them); a dedicated arena's block starts at 4096, so its one cell lies in its header page.
 *
 * <pre>
 * cell (int):  bits 24..31  generation: bumped each time the space is handed out again, so a
 *                           count kept for an earlier block there is never taken for this one
 *              bits  0..23  holders: the owner once it has sent the block, each process
 *                           holding a view of it, each message carrying it not yet received
 * </pre>
 *
 * A count that reaches {@link #SATURATED} stays there: the block is then never freed, which is
 * safe, where a count wrapping to zero would free it under its holders. Every change is a CAS
 * that checks the generation, and a decrement never goes below zero: a stray decrement (a
 * message or a process counted wrongly) cannot reach a block handed out since.
 *
 * <p>See {@link Heap} for who counts what and when the owner frees a block.
 */
final class Holders {
    private Holders() {}

    /** One cell. */
    static final ValueLayout.OfInt CELL = JAVA_INT.withName("holders");
    /** Bytes of arena each cell stands for: the granule every block starts on. */
    static final long GRANULE = Heap.MIN_ALIGNMENT;
    static final int SATURATED = (1 << 24) - 1;
    private static final int COUNT_MASK = SATURATED;

    private static final VarHandle HANDLE = CELL.varHandle();

    /** Bytes the cells of an arena of {@code arenaSize} bytes take at its start. */
    static long tableBytes(long arenaSize) {
        return arenaSize / GRANULE * CELL.byteSize();
    }

    private static long cellOffset(long blockOffset) {
        return blockOffset / GRANULE * CELL.byteSize();
    }

    static int count(int cell) {
        return cell & COUNT_MASK;
    }

    static int generation(int cell) {
        return cell >>> 24;
    }

    static int get(MemorySegment arena, long blockOffset) {
        return (int) HANDLE.getVolatile(arena, cellOffset(blockOffset));
    }

    /** A block handed out at {@code blockOffset}: no holder, the next generation; returns it. */
    static int reset(MemorySegment arena, long blockOffset) {
        long at = cellOffset(blockOffset);
        int generation = (generation((int) HANDLE.getVolatile(arena, at)) + 1) & 0xff;
        HANDLE.setVolatile(arena, at, generation << 24);
        return generation;
    }

    /**
     * One holder more, for a caller that holds the block (so the count cannot be zero) or
     * that counts a hold taken over from a message.
     */
    static void add(MemorySegment arena, long blockOffset, int generation) {
        addIf(arena, blockOffset, generation, false);
    }

    /**
     * One holder more if the block is still held by someone (count above zero) in generation
     * {@code generation}; false if it is not, that is if it may have been freed already.
     */
    static boolean addIfHeld(MemorySegment arena, long blockOffset, int generation) {
        return addIf(arena, blockOffset, generation, true);
    }

    private static boolean addIf(MemorySegment arena, long blockOffset, int generation,
            boolean held) {
        long at = cellOffset(blockOffset);
        while (true) {
            int cell = (int) HANDLE.getVolatile(arena, at);
            if (generation(cell) != generation || (held && count(cell) == 0)) {
                return false;
            }
            if (count(cell) == SATURATED
                    || HANDLE.compareAndSet(arena, at, cell, cell + 1)) {
                return true;
            }
        }
    }

    /** One holder less (never below zero, never from a saturated count); the count left. */
    static int remove(MemorySegment arena, long blockOffset, int generation) {
        long at = cellOffset(blockOffset);
        while (true) {
            int cell = (int) HANDLE.getVolatile(arena, at);
            int count = count(cell);
            if (generation(cell) != generation || count == 0 || count == SATURATED) {
                return generation(cell) != generation ? -1 : count;
            }
            if (HANDLE.compareAndSet(arena, at, cell, cell - 1)) {
                return count - 1;
            }
        }
    }

    /** Whether the block of {@code generation} at {@code blockOffset} has no holder left. */
    static boolean unheld(MemorySegment arena, long blockOffset, int generation) {
        int cell = get(arena, blockOffset);
        return generation(cell) == generation && count(cell) == 0;
    }
}
