package multiprocessing.sharedctypes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import multiprocessing.internal.heap.Block;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * A shared array of {@code long} (typecode {@code "q"}) read and written without boxing,
 * made by {@link RawArray#ofLongs}. {@link #get} and {@link #set} are plain accesses, like
 * a Java array's (a lock, an Event or a join orders them between processes);
 * {@link #getAndAdd}, {@link #compareAndSet}, {@link #getVolatile} and {@link #setVolatile}
 * are atomic across processes.
 * The object travels to other processes as the same memory, never a copy.
 */
public final class SharedLongArray {
    static {
        Serialization.register(SharedLongArray.class, new Reducer<SharedLongArray>() {
            @Override
            public void reduce(SharedLongArray value, Out out) {
                out.writeObject(value.block);
                out.writeInt(value.length);
            }

            @Override
            public SharedLongArray rebuild(In in) {
                Block block = (Block) in.readObject();
                return new SharedLongArray(block, in.readInt());
            }
        });
    }

    private static final ValueLayout.OfLong E = ValueLayout.JAVA_LONG;
    /** Made at first use: every process initializes this class (its reducer); few use it. */
    private static final class Access {
        static final VarHandle H = E.arrayElementVarHandle();
    }

    private final Block block;
    private final int length;
    private final MemorySegment segment;

    SharedLongArray(Block block, int length) {
        this.block = block;
        this.length = length;
        this.segment = block.segment().asSlice(0, (long) length * 8);
    }

    /** {@return the number of elements} */
    public int length() {
        return length;
    }

    /**
     * Element {@code index} (a plain read).
     *
     * @param index the element's position
     * @return the element
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < length()}
     */
    public long get(int index) {
        return segment.getAtIndex(E, Objects.checkIndex(index, length));
    }

    /**
     * Sets element {@code index} (a plain write).
     *
     * @param index the element's position
     * @param value the new element
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < length()}
     */
    public void set(int index, long value) {
        segment.setAtIndex(E, Objects.checkIndex(index, length), value);
    }

    /**
     * Element {@code index} with volatile semantics.
     *
     * @param index the element's position
     * @return the element
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < length()}
     */
    public long getVolatile(int index) {
        return (long) Access.H.getVolatile(segment, 0L, (long) Objects.checkIndex(index, length));
    }

    /**
     * Sets element {@code index} with volatile semantics.
     *
     * @param index the element's position
     * @param value the new element
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < length()}
     */
    public void setVolatile(int index, long value) {
        Access.H.setVolatile(segment, 0L, (long) Objects.checkIndex(index, length), value);
    }

    /**
     * Adds {@code delta} to element {@code index} and returns its previous value, atomically.
     *
     * @param index the element's position
     * @param delta what to add
     * @return the element before the addition
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < length()}
     */
    public long getAndAdd(int index, long delta) {
        long i = Objects.checkIndex(index, length);
        return (long) Access.H.getAndAdd(segment, 0L, i, delta);
    }

    /**
     * Sets element {@code index} to {@code value} if it is {@code expected}, atomically.
     *
     * @param index    the element's position
     * @param expected the element's value for the update to happen
     * @param value    the new element
     * @return whether it was set
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < length()}
     */
    public boolean compareAndSet(int index, long expected, long value) {
        long i = Objects.checkIndex(index, length);
        return Access.H.compareAndSet(segment, 0L, i, expected, value);
    }

    /**
     * Copies {@code count} elements of {@code src} from {@code srcOffset} into this array at
     * {@code index} (one bulk copy).
     *
     * @param index     where in this array the copy goes
     * @param src       the Java array copied from
     * @param srcOffset where in {@code src} the copy starts
     * @param count     how many elements
     * @throws IndexOutOfBoundsException if either range runs past its array's end
     */
    public void copyFrom(int index, long[] src, int srcOffset, int count) {
        Objects.checkFromIndexSize(index, count, length);
        MemorySegment.copy(src, srcOffset, segment, E, (long) index * 8, count);
    }

    /**
     * Copies {@code count} elements from {@code index} of this array into {@code dst} at
     * {@code dstOffset} (one bulk copy).
     *
     * @param index     where in this array the copy starts
     * @param dst       the Java array copied into
     * @param dstOffset where in {@code dst} the copy goes
     * @param count     how many elements
     * @throws IndexOutOfBoundsException if either range runs past its array's end
     */
    public void copyTo(int index, long[] dst, int dstOffset, int count) {
        Objects.checkFromIndexSize(index, count, length);
        MemorySegment.copy(segment, E, (long) index * 8, dst, dstOffset, count);
    }

    /** {@return all elements, copied into a new Java array} */
    public long[] toArray() {
        return segment.toArray(E);
    }

    /** {@return the whole backing memory: {@code length() * 8} bytes} */
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public String toString() {
        return "SharedLongArray(length " + length + ")";
    }
}
