package multiprocessing.internal.heap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;

import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.util.Cleaning;

/**
 * A piece of shared memory handed out by {@link Heap#allocate}: {@link #size()} bytes at
 * {@link #offset()} in the heap arena {@link #arenaName()}, seen through {@link #segment()}.
 *
 * <p>A block crosses a process line as (arena name, offset, size), inside any object that
 * holds it: the receiving process maps the arena once and slices it, so both processes see the
 * same bytes. Only the process that allocated a block owns it: its space goes back to the heap
 * when {@link #free()} is called there or when the block becomes unreachable there (a
 * {@link Cleaner}: neither it nor a segment sliced from its {@link #segment()} is reachable),
 * and, if it was ever sent to another process, once no process holds a view
 * of it and no message carrying it is still unread (see {@link Heap}): space handed out again
 * is zeroed, which would change the receivers' object under them (a sent lock dropped by its
 * creator used to become another lock's word while a child held it). A block received from
 * another process is a view, which holds the block for this process until it and its
 * segments are unreachable: {@link #free()} does nothing on it.
 */
public final class Block {
    static {
        Serialization.register(Block.class, new BlockReducer());
    }

    private final Heap.LocalArena arena;
    private final long offset;
    private final long size;
    /** The generation of the space's holder count when the block was handed out. */
    private final int generation;
    private final MemorySegment segment;
    private final Cleaner.Cleanable cleanable;
    private final Heap.Freer freer;

    Block(Heap.LocalArena arena, long offset, long size, int generation, Heap.Freer freer) {
        this.arena = arena;
        this.offset = offset;
        this.size = size;
        this.generation = generation;
        // A scope of the block's own, which every segment sliced from this one keeps
        // reachable: the space is let go of once neither the block nor any such segment is
        // (review 43: a program that kept only a RawArray's segment had its space freed,
        // zeroed and handed to the next objects made, a lock's word among them, under it).
        this.segment = arena.segment().asSlice(offset, size).reinterpret(Arena.ofAuto(), null);
        this.freer = freer;
        this.cleanable = freer == null ? null : whenUnreachable(freer);
    }

    /**
     * Has {@code action} run once neither this block nor any segment sliced from its
     * {@link #segment()} is reachable; {@code action} must hold neither.
     */
    Cleaner.Cleanable whenUnreachable(Runnable action) {
        return Cleaning.register(segment.scope(), action);
    }

    /** The block's memory: exactly {@link #size()} bytes, aligned as requested. */
    public MemorySegment segment() {
        return segment;
    }

    /**
     * Has {@code action} run on the block's memory once the block is freed and nobody holds it,
     * before its space is handed out again (owner only; nothing on a received block): for what
     * the memory names that would outlive it (a queue's large messages). {@code action} must
     * hold neither the block nor a segment of it, and must not throw.
     */
    public void beforeReuse(java.util.function.Consumer<MemorySegment> action) {
        if (freer != null) {
            freer.beforeReuse = action;
        }
    }

    /** The shared-memory name of the arena the block lies in (with its leading "/"). */
    public String arenaName() {
        return arena.name();
    }

    /** Where the block starts in its arena. */
    public long offset() {
        return offset;
    }

    /** The size asked for. */
    public long size() {
        return size;
    }

    Heap.LocalArena arena() {
        return arena;
    }

    int generation() {
        return generation;
    }

    /** Whether this process allocated the block (and so frees it). */
    public boolean owned() {
        return cleanable != null;
    }

    /**
     * Gives the space back to the heap (owner only; a no-op on a received block and on a
     * second call): at once if the block was never sent to another process, else once no
     * other process holds it. Neither the segment nor any slice of it may be used afterwards:
     * the space may belong to another block by then, and a block of its own arena (256 KiB and
     * more) is unmapped, where a late access crashes the JVM.
     */
    public void free() {
        if (cleanable != null) {
            cleanable.clean();
        }
    }

    @Override
    public String toString() {
        return "Block[" + arena.name() + "+" + offset + ", " + size + " bytes"
                + (owned() ? "" : ", received") + "]";
    }

    private static final class BlockReducer implements Reducer<Block> {
        @Override
        public void reduce(Block value, Out out) {
            // Another process will use it: unreachable here no longer means unused.
            Receipts.Receipt ticket = Heap.sending(value, value.freer);
            // A message that never goes out (a full queue's putNowait, a failed write) would
            // hold the block for good, and its ticket an entry of this process's receipts.
            out.ifUnsent(() -> Heap.unsent(value, ticket));
            out.writeString(value.arena.name());
            out.writeLong(value.arena.size());
            out.writeLong(value.offset);
            out.writeLong(value.size);
            out.writeInt(value.generation);
            if (ticket == null) {
                out.writeInt(0);
                return;
            }
            out.writeInt(ticket.pid());
            out.writeLong(ticket.start());
            out.writeInt(ticket.namespace());
            out.writeInt(ticket.segment());
            out.writeInt(ticket.index());
            out.writeLong(ticket.state());
        }

        @Override
        public Block rebuild(In in) {
            String name = in.readString();
            long arenaSize = in.readLong();
            long offset = in.readLong();
            long size = in.readLong();
            int generation = in.readInt();
            int pid = in.readInt();
            Receipts.Receipt ticket = pid == 0 ? null : new Receipts.Receipt(pid, in.readLong(),
                    in.readInt(), in.readInt(), in.readInt(), in.readLong());
            return Heap.instance().received(name, arenaSize, offset, size, generation, ticket);
        }
    }
}
