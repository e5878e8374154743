package multiprocessing.sharedctypes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

import multiprocessing.internal.heap.Block;
import multiprocessing.internal.heap.Heap;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * An array of C values of one typecode in shared memory (Python's
 * {@code multiprocessing.sharedctypes.RawArray}); elements go in and come out as
 * {@link RawValue} describes per typecode. Element access is plain and takes no lock: use
 * {@link Array} for a locked one, or the typed views ({@link #ofInts}, {@link #ofLongs},
 * {@link #ofDoubles}, {@link #ofBytes}) to read and write without boxing, atomically where they
 * say so.
 *
 * <p>Small arrays come from the shared heap's arenas, arrays of 256 KiB or more get a
 * shared-memory object of their own; either way the array travels to other processes as the same
 * memory, never a copy.
 */
public class RawArray {
    static {
        Serialization.register(RawArray.class, new Reducer<RawArray>() {
            @Override
            public void reduce(RawArray value, Out out) {
                out.writeObject(value.block);
                out.writeString(value.type.code());
                out.writeInt(value.length);
            }

            @Override
            public RawArray rebuild(In in) {
                Block block = (Block) in.readObject();
                Typecode t = Typecode.of(in.readString());
                return new RawArray(block, t, in.readInt());
            }
        });
    }

    final Block block;
    final Typecode type;
    final int length;
    final MemorySegment segment;
    private final long stride;

    RawArray(Block block, Typecode type, int length) {
        this.block = block;
        this.type = type;
        this.length = length;
        this.stride = type.size();
        this.segment = block.segment().asSlice(0, stride * length);
    }

    /** Shares {@code other}'s memory (a synchronized wrapper). */
    RawArray(RawArray other) {
        this(other.block, other.type, other.length);
    }

    /**
     * A new zeroed array of {@code size} elements of {@code typecode}.
     *
     * @param typecode the elements' Python typecode
     * @param size     how many elements
     * @return the array in shared memory
     * @throws IllegalArgumentException for a bad typecode or a negative size
     */
    public static RawArray of(String typecode, int size) {
        Typecode t = Typecode.of(typecode);
        return new RawArray(allocate(t.layout, size), t, size);
    }

    /** A primitive array whose elements are already the typecode's: copied in one go. */
    private static MemorySegment bulkSource(Typecode t, Object initializer) {
        return switch (initializer) {
            case byte[] bytes when t == Typecode.b || t == Typecode.c -> MemorySegment.ofArray(bytes);
            case int[] ints when t == Typecode.i -> MemorySegment.ofArray(ints);
            case long[] longs when t == Typecode.l || t == Typecode.q -> MemorySegment.ofArray(longs);
            case double[] doubles when t == Typecode.d -> MemorySegment.ofArray(doubles);
            case null, default -> null;
        };
    }

    /**
     * A new array of {@code typecode} (Python's {@code RawArray(typecode, size_or_initializer)}):
     * an {@code Integer} {@code initializer} is the size of a zeroed array; otherwise its elements
     * are copied in and its length is the array's: a primitive array ({@code int[]},
     * {@code double[]}, ...), an {@code Object[]}, a {@code Collection}, or for {@code "c"} and
     * {@code "u"} a {@code String}.
     *
     * @param typecode    the elements' Python typecode
     * @param initializer the elements, or an {@code Integer} size for zeroed ones
     * @return the array in shared memory
     * @throws IllegalArgumentException for a bad typecode, an initializer of another kind, or
     *         an element that does not fit the typecode (nothing is allocated then)
     */
    public static RawArray of(String typecode, Object initializer) {
        Typecode t = Typecode.of(typecode);
        if (initializer instanceof Integer size) {
            return of(typecode, (int) size);
        }
        MemorySegment bulk = bulkSource(t, initializer);
        if (bulk != null) {
            int n = (int) (bulk.byteSize() / t.layout.byteSize());
            RawArray a = new RawArray(allocate(t.layout, n), t, n);
            MemorySegment.copy(bulk, 0, a.segment, 0, bulk.byteSize());
            return a;
        }
        // Checked before allocating: a bad element fails the call, not half an array.
        List<?> values = elements(t, initializer);
        for (Object v : values) {
            t.check(v);
        }
        RawArray a = new RawArray(allocate(t.layout, values.size()), t, values.size());
        for (int k = 0; k < values.size(); k++) {
            t.write(a.segment, k * a.stride, values.get(k));
        }
        return a;
    }

    private static List<?> elements(Typecode t, Object initializer) {
        if (initializer instanceof Collection<?> c) {
            return new ArrayList<>(c);
        }
        if (initializer instanceof Object[] objects) {
            return java.util.Arrays.asList(objects);
        }
        if (initializer instanceof String s && (t == Typecode.c || t == Typecode.u)) {
            if (t == Typecode.u) {
                return s.codePoints().mapToObj(Character::toString).toList();
            }
            return s.chars().mapToObj(ch -> (Object) (char) ch).toList();
        }
        if (initializer != null && initializer.getClass().isArray()) {
            int n = java.lang.reflect.Array.getLength(initializer);
            List<Object> list = new ArrayList<>(n);
            for (int k = 0; k < n; k++) {
                list.add(java.lang.reflect.Array.get(initializer, k));
            }
            return list;
        }
        throw new IllegalArgumentException("an array's initializer is an Integer size, a"
                + " primitive array, an Object[] or a Collection, not " + (initializer == null
                ? "null" : initializer.getClass().getSimpleName()));
    }

    static Block allocate(ValueLayout element, long count) {
        if (count < 0) {
            throw new IllegalArgumentException("negative array size " + count);
        }
        return Heap.allocate(Math.max(1, element.byteSize() * count), element.byteAlignment());
    }

    /**
     * A new zeroed {@code int} array (typecode {@code "i"}) with atomic element updates.
     *
     * @param length how many elements
     * @return the array in shared memory
     */
    public static SharedIntArray ofInts(int length) {
        return new SharedIntArray(allocate(ValueLayout.JAVA_INT, length), length);
    }

    /**
     * A new zeroed {@code long} array (typecode {@code "q"}) with atomic element updates.
     *
     * @param length how many elements
     * @return the array in shared memory
     */
    public static SharedLongArray ofLongs(int length) {
        return new SharedLongArray(allocate(ValueLayout.JAVA_LONG, length), length);
    }

    /**
     * A new zeroed {@code double} array (typecode {@code "d"}).
     *
     * @param length how many elements
     * @return the array in shared memory
     */
    public static SharedDoubleArray ofDoubles(int length) {
        return new SharedDoubleArray(allocate(ValueLayout.JAVA_DOUBLE, length), length);
    }

    /**
     * A new zeroed {@code byte} array (typecode {@code "b"}).
     *
     * @param length how many elements
     * @return the array in shared memory
     */
    public static SharedByteArray ofBytes(int length) {
        return new SharedByteArray(allocate(ValueLayout.JAVA_BYTE, length), length);
    }

    /** {@return the number of elements} */
    public int length() {
        return length;
    }

    /** {@return the typecode of the elements} */
    public String typecode() {
        return type.code();
    }

    /**
     * Element {@code index}.
     *
     * @param index the element's position
     * @return the element, boxed as the typecode reads (see {@link RawValue})
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < length()}
     */
    public Object get(int index) {
        Objects.checkIndex(index, length);
        return type.read(segment, index * stride);
    }

    /**
     * Sets element {@code index}.
     *
     * @param index the element's position
     * @param value the new element
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < length()}
     * @throws IllegalArgumentException if {@code value} does not fit the typecode
     */
    public void set(int index, Object value) {
        Objects.checkIndex(index, length);
        type.write(segment, index * stride, value);
    }

    /**
     * Elements {@code from} (inclusive) to {@code to} (exclusive), copied out (Python's
     * {@code a[from:to]}).
     *
     * @param from the first element's position
     * @param to   the position after the last element
     * @return the elements, copied
     * @throws IndexOutOfBoundsException unless {@code 0 <= from <= to <= length()}
     */
    public List<Object> slice(int from, int to) {
        Objects.checkFromToIndex(from, to, length);
        List<Object> out = new ArrayList<>(to - from);
        for (int k = from; k < to; k++) {
            out.add(type.read(segment, k * stride));
        }
        return out;
    }

    /**
     * Writes {@code values} from element {@code from} on (Python's
     * {@code a[from:from+len(values)] = values}); all are checked first, so a value that does
     * not fit leaves the array unchanged.
     *
     * @param from   the first element written
     * @param values the new elements
     * @throws IndexOutOfBoundsException if the values run past the end
     * @throws IllegalArgumentException if a value does not fit the typecode
     */
    public void setSlice(int from, List<?> values) {
        Objects.checkFromIndexSize(from, values.size(), length);
        for (Object v : values) {
            type.check(v);
        }
        int k = from;
        for (Object v : values) {
            type.write(segment, k++ * stride, v);
        }
    }

    /** {@return all elements, copied out} */
    public List<Object> toList() {
        return slice(0, length);
    }

    /** {@return the whole backing memory: {@code length()} elements of the typecode's size} */
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public String toString() {
        return "RawArray('" + type.code() + "', " + preview() + ")";
    }

    String preview() {
        int n = Math.min(length, 16);
        String s = slice(0, n).stream().map(RawValue::quoted).toList().toString();
        return length > n ? s.substring(0, s.length() - 1) + ", ... (" + length + " elements)]" : s;
    }
}
