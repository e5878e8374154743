package multiprocessing.internal.heap;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;

import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * A piece of shared memory handed out by {@link Heap#allocate}: {@link #size()} bytes at
 * {@link #offset()} in the heap arena {@link #arenaName()}, seen through {@link #segment()}.
 *
 * <p>A block crosses a process line as (arena name, offset, size), inside any object that
 * holds it: the receiving process maps the arena once and slices it, so both processes see the
 * same bytes. Only the process that allocated a block owns it: its space goes back to the heap
 * when {@link #free()} is called there or when the block becomes unreachable there (a
 * {@link Cleaner}) and it was never sent to another process. A block that was sent (serialized
 * by its owner) keeps its space until its owner calls {@link #free()} or exits: the owner
 * cannot tell when the receivers are done with it, and space handed out again would be zeroed
 * under them (a sent lock dropped by its creator used to become another lock's word while a
 * child held it); a sent dedicated block (256 KiB or more) is reclaimed once no process holds
 * it (see {@link Heap}). A block received from another process is a view: {@link #free()}
 * does nothing.
 *
 * <p>Keep the block itself reachable while its {@link #segment()} is in use: the segment alone
 * does not keep the space from being freed and reused.
 */
public final class Block {
    static {
        Serialization.register(Block.class, new BlockReducer());
    }

    private final Heap.LocalArena arena;
    private final long offset;
    private final long size;
    private final MemorySegment segment;
    private final Cleaner.Cleanable cleanable;
    private final Heap.Freer freer;

    Block(Heap.LocalArena arena, long offset, long size, Heap.Freer freer) {
        this.arena = arena;
        this.offset = offset;
        this.size = size;
        this.segment = arena.segment().asSlice(offset, size);
        this.freer = freer;
        this.cleanable = freer == null ? null : Heap.CLEANER.register(this, freer);
    }

    /** The block's memory: exactly {@link #size()} bytes, aligned as requested. */
    public MemorySegment segment() {
        return segment;
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

    /** Whether this process allocated the block (and so frees it). */
    public boolean owned() {
        return cleanable != null;
    }

    /**
     * Gives the space back to the heap (owner only; a no-op on a received block and on a
     * second call). The segment must not be used afterwards: its memory stays mapped, so a
     * late access does not crash, but it may belong to another block by then.
     */
    public void free() {
        if (cleanable != null) {
            freer.explicit = true;
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
            if (value.freer != null) {
                // Another process will use it: unreachable here no longer means unused.
                value.freer.escaped = true;
            }
            Heap.sending(value.arena);
            out.writeString(value.arena.name());
            out.writeLong(value.arena.size());
            out.writeLong(value.offset);
            out.writeLong(value.size);
        }

        @Override
        public Block rebuild(In in) {
            String name = in.readString();
            long arenaSize = in.readLong();
            long offset = in.readLong();
            long size = in.readLong();
            return Heap.instance().received(name, arenaSize, offset, size);
        }
    }
}
