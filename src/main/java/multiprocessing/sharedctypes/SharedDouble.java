package multiprocessing.sharedctypes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import multiprocessing.internal.heap.Block;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * A shared {@code double} (typecode {@code "d"}) read and written without boxing, made by
 * {@link RawValue#ofDouble}. Every operation is atomic across the threads and processes that
 * share it, with the memory effects of an {@link java.util.concurrent.atomic.AtomicLong} over
 * its bits ({@code get} and {@code set} are volatile): the operations are var-handle accesses on
 * the shared segment, which the processor makes atomic whoever maps the memory. The object travels to other processes
 * as the same memory, never a copy.
 */
public final class SharedDouble {
    static {
        Serialization.register(SharedDouble.class, new Reducer<SharedDouble>() {
            @Override
            public void reduce(SharedDouble value, Out out) {
                out.writeObject(value.block);
            }

            @Override
            public SharedDouble rebuild(In in) {
                return new SharedDouble((Block) in.readObject());
            }
        });
    }

    /** Made at first use: every process initializes this class (its reducer); few use it. */
    private static final class Access {
        static final VarHandle H = ValueLayout.JAVA_DOUBLE.varHandle();
    }

    private final Block block;
    private final MemorySegment segment;

    SharedDouble(Block block) {
        this.block = block;
        this.segment = block.segment().asSlice(0, 8);
    }

    /** {@return the value (a volatile read)} */
    public double get() {
        return (double) Access.H.getVolatile(segment, 0L);
    }

    /**
     * Sets the value (a volatile write).
     *
     * @param value the new value
     */
    public void set(double value) {
        Access.H.setVolatile(segment, 0L, value);
    }

    /**
     * Sets {@code value} and returns the previous value, atomically.
     *
     * @param value the new value
     * @return the value before
     */
    public double getAndSet(double value) {
        return (double) Access.H.getAndSet(segment, 0L, value);
    }

    /**
     * Adds {@code delta} and returns the previous value, atomically.
     *
     * @param delta what to add
     * @return the value before the addition
     */
    public double getAndAdd(double delta) {
        // Memory-segment var handles have no floating-point getAndAdd: a CAS loop instead.
        while (true) {
            double current = (double) Access.H.getVolatile(segment, 0L);
            if (Access.H.weakCompareAndSet(segment, 0L, current, current + delta)) {
                return current;
            }
        }
    }

    /**
     * Adds {@code delta} and returns the new value, atomically.
     *
     * @param delta what to add
     * @return the value after the addition
     */
    public double addAndGet(double delta) {
        return getAndAdd(delta) + delta;
    }

    /**
     * Sets {@code value} if the current value is {@code expected} (compared bit for bit, as
     * {@code Double.doubleToRawLongBits} does); atomic.
     *
     * @param expected the current value for the update to happen
     * @param value    the new value
     * @return whether it was set
     */
    public boolean compareAndSet(double expected, double value) {
        return Access.H.compareAndSet(segment, 0L, expected, value);
    }

    /** {@return the backing memory: 8 bytes} */
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public String toString() {
        return "SharedDouble(" + get() + ")";
    }
}
