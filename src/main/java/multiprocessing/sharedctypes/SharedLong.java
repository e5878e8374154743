package multiprocessing.sharedctypes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import multiprocessing.internal.heap.Block;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * A shared {@code long} (typecode {@code "q"}) read and written without boxing, made by
 * {@link RawValue#ofLong}. Every operation is atomic across the threads and processes that share
 * it, with the memory effects of {@link java.util.concurrent.atomic.AtomicLong}'s ({@code get}
 * and {@code set} are volatile): the operations are var-handle accesses on the shared segment,
 * which the processor makes atomic whoever maps the memory. The object travels to other processes
 * as the same memory, never a copy.
 */
public final class SharedLong {
    static {
        Serialization.register(SharedLong.class, new Reducer<SharedLong>() {
            @Override
            public void reduce(SharedLong value, Out out) {
                out.writeObject(value.block);
            }

            @Override
            public SharedLong rebuild(In in) {
                return new SharedLong((Block) in.readObject());
            }
        });
    }

    /** Made at first use: every process initializes this class (its reducer); few use it. */
    private static final class Access {
        static final VarHandle H = ValueLayout.JAVA_LONG.varHandle();
    }

    private final Block block;
    private final MemorySegment segment;

    SharedLong(Block block) {
        this.block = block;
        this.segment = block.segment().asSlice(0, 8);
    }

    /** {@return the value (a volatile read)} */
    public long get() {
        return (long) Access.H.getVolatile(segment, 0L);
    }

    /**
     * Sets the value (a volatile write).
     *
     * @param value the new value
     */
    public void set(long value) {
        Access.H.setVolatile(segment, 0L, value);
    }

    /**
     * Sets {@code value} and returns the previous value, atomically.
     *
     * @param value the new value
     * @return the value before
     */
    public long getAndSet(long value) {
        return (long) Access.H.getAndSet(segment, 0L, value);
    }

    /**
     * Adds {@code delta} and returns the previous value, atomically. It wraps around on
     * overflow ({@code Long.MAX_VALUE + 1} is {@code MIN_VALUE}), as {@link
     * java.util.concurrent.atomic.AtomicLong}'s does.
     *
     * @param delta what to add
     * @return the value before the addition
     */
    public long getAndAdd(long delta) {
        return (long) Access.H.getAndAdd(segment, 0L, delta);
    }

    /**
     * Adds {@code delta} and returns the new value, atomically.
     *
     * @param delta what to add
     * @return the value after the addition
     */
    public long addAndGet(long delta) {
        return getAndAdd(delta) + delta;
    }

    /**
     * Sets {@code value} if the current value is {@code expected}; atomic.
     *
     * @param expected the current value for the update to happen
     * @param value    the new value
     * @return whether it was set
     */
    public boolean compareAndSet(long expected, long value) {
        return Access.H.compareAndSet(segment, 0L, expected, value);
    }

    /** {@return the backing memory: 8 bytes} */
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public String toString() {
        return "SharedLong(" + get() + ")";
    }
}
