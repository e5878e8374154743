package multiprocessing.sharedctypes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import multiprocessing.internal.heap.Block;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * A shared {@code int} (typecode {@code "i"}) read and written without boxing, made by
 * {@link RawValue#ofInt}. Every operation is atomic across the threads and processes that share
 * it, with the memory effects of {@link java.util.concurrent.atomic.AtomicInteger}'s ({@code get}
 * and {@code set} are volatile): the operations are var-handle accesses on the shared segment,
 * which the processor makes atomic whoever maps the memory. The object travels to other processes
 * as the same memory, never a copy.
 */
public final class SharedInt {
    static {
        Serialization.register(SharedInt.class, new Reducer<SharedInt>() {
            @Override
            public void reduce(SharedInt value, Out out) {
                out.writeObject(value.block);
            }

            @Override
            public SharedInt rebuild(In in) {
                return new SharedInt((Block) in.readObject());
            }
        });
    }

    /** Made at first use: every process initializes this class (its reducer); few use it. */
    private static final class Access {
        static final VarHandle H = ValueLayout.JAVA_INT.varHandle();
    }

    private final Block block;
    private final MemorySegment segment;

    SharedInt(Block block) {
        this.block = block;
        this.segment = block.segment().asSlice(0, 4);
    }

    /** {@return the value (a volatile read)} */
    public int get() {
        return (int) Access.H.getVolatile(segment, 0L);
    }

    /**
     * Sets the value (a volatile write).
     *
     * @param value the new value
     */
    public void set(int value) {
        Access.H.setVolatile(segment, 0L, value);
    }

    /**
     * Sets {@code value} and returns the previous value, atomically.
     *
     * @param value the new value
     * @return the value before
     */
    public int getAndSet(int value) {
        return (int) Access.H.getAndSet(segment, 0L, value);
    }

    /**
     * Adds {@code delta} and returns the previous value, atomically. It wraps around on
     * overflow ({@code Integer.MAX_VALUE + 1} is {@code MIN_VALUE}), as {@link
     * java.util.concurrent.atomic.AtomicInteger}'s does.
     *
     * @param delta what to add
     * @return the value before the addition
     */
    public int getAndAdd(int delta) {
        return (int) Access.H.getAndAdd(segment, 0L, delta);
    }

    /**
     * Adds {@code delta} and returns the new value, atomically.
     *
     * @param delta what to add
     * @return the value after the addition
     */
    public int addAndGet(int delta) {
        return getAndAdd(delta) + delta;
    }

    /**
     * Sets {@code value} if the current value is {@code expected}; atomic.
     *
     * @param expected the current value for the update to happen
     * @param value    the new value
     * @return whether it was set
     */
    public boolean compareAndSet(int expected, int value) {
        return Access.H.compareAndSet(segment, 0L, expected, value);
    }

    /** {@return the backing memory: 4 bytes} */
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public String toString() {
        return "SharedInt(" + get() + ")";
    }
}
