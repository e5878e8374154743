package multiprocessing.internal.heap;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The shared header of a dedicated arena (one big block, such as a queue's ring), in the
 * arena's first page; the block follows it, page-aligned.
 *
 * <pre>
 *  0  int  holders   processes other than the owner that hold a view of the block, plus
 *                    messages carrying the block that no process has received yet
 * </pre>
 *
 * See {@link Heap} for how the count is kept and what it lets the owner free.
 */
final class ArenaHeader {
    private ArenaHeader() {}

    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("holders")).withName("arenaHeader");

    /** Bytes the header takes at the start of a dedicated arena: one page. */
    static final long BYTES = 4096;

    private static final VarHandle HOLDERS = MethodHandles.insertCoordinates(
            LAYOUT.varHandle(PathElement.groupElement("holders")), 1, 0L);

    static int holders(MemorySegment arena) {
        return (int) HOLDERS.getVolatile(arena);
    }

    static void addHolders(MemorySegment arena, int delta) {
        int ignored = (int) HOLDERS.getAndAdd(arena, delta);
    }
}
