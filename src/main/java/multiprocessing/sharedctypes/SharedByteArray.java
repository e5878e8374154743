package multiprocessing.sharedctypes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

import multiprocessing.internal.heap.Block;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * A shared array of {@code byte} (typecode {@code "b"}) read and written without boxing,
 * made by {@link RawArray#ofBytes}. {@link #get} and {@link #set} are plain accesses, like
 * a Java array's (a lock, an Event or a join orders them between processes).
 * The object travels to other processes as the same memory, never a copy.
 */
public final class SharedByteArray {
    static {
        Serialization.register(SharedByteArray.class, new Reducer<SharedByteArray>() {
            @Override
            public void reduce(SharedByteArray value, Out out) {
                out.writeObject(value.block);
                out.writeInt(value.length);
            }

            @Override
            public SharedByteArray rebuild(In in) {
                Block block = (Block) in.readObject();
                return new SharedByteArray(block, in.readInt());
            }
        });
    }

    private static final ValueLayout.OfByte E = ValueLayout.JAVA_BYTE;

    private final Block block;
    private final int length;
    private final MemorySegment segment;

    SharedByteArray(Block block, int length) {
        this.block = block;
        this.length = length;
        this.segment = block.segment().asSlice(0, (long) length * 1);
    }

    /** {@return the number of elements} */
    public int length() {
        return length;
    }

    /**
     * Element {@code index}.
     *
     * @param index the element's position
     * @return the element
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < length()}
     */
    public byte get(int index) {
        return segment.getAtIndex(E, Objects.checkIndex(index, length));
    }

    /**
     * Sets element {@code index}.
     *
     * @param index the element's position
     * @param value the new element
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < length()}
     */
    public void set(int index, byte value) {
        segment.setAtIndex(E, Objects.checkIndex(index, length), value);
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
    public void copyFrom(int index, byte[] src, int srcOffset, int count) {
        Objects.checkFromIndexSize(index, count, length);
        MemorySegment.copy(src, srcOffset, segment, E, (long) index * 1, count);
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
    public void copyTo(int index, byte[] dst, int dstOffset, int count) {
        Objects.checkFromIndexSize(index, count, length);
        MemorySegment.copy(segment, E, (long) index * 1, dst, dstOffset, count);
    }

    /** {@return all elements, copied into a new Java array} */
    public byte[] toArray() {
        return segment.toArray(E);
    }

    /** {@return the whole backing memory: {@code length() * 1} bytes} */
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public String toString() {
        return "SharedByteArray(length " + length + ")";
    }
}
