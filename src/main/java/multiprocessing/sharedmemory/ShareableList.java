package multiprocessing.sharedmemory;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A fixed-length list of simple values in one shared-memory segment, readable and writable by
 * every process that attaches it by name (Python's {@code ShareableList}).
 *
 * <p>Values: {@code null}, integers ({@code Byte}, {@code Short}, {@code Integer}, {@code Long},
 * or a {@code BigInteger} that fits in 64 bits; read back as {@link Long}), {@code Float}/{@code Double} (read back as {@link Double}), {@link Boolean},
 * {@link String} and {@code byte[]}. As in Python, the list's length and each item's storage
 * are fixed at creation: an item's storage is its first value's encoded size (8 bytes for a
 * number, a string's UTF-8 bytes, a byte array's length; at least 8) rounded up to a multiple
 * of 8, as in Python, whose items are 8-byte aligned too. Any value that fits there may
 * replace it: {@code "hello"} (5 bytes, 8 of storage) by {@code "12345678"} but not by
 * {@code "123456789"}, a number by a string of at most 8 bytes, anything by {@code null}; a
 * value that does not fit throws {@link IllegalArgumentException} and leaves the list
 * unchanged.
 *
 * <p>Layout (declared once, {@link #HEADER} and {@link #ITEM}): a header with the item count,
 * then one descriptor per item (its data's offset in the segment, its capacity, its current
 * type and, for strings and bytes, their length), then the items' data, each 8-byte aligned.
 * It follows CPython's idea (a header with the count, then per-item offsets and formats) but
 * is <em>not</em> byte-compatible with CPython's, so a Python process cannot attach a Java
 * {@code ShareableList} nor the reverse.
 *
 * <p>No locking: a read that overlaps a write of the same item, even from a single writer, may
 * see a mix of the old and new values (one string's length with another's bytes, a type with
 * the other value's bytes), and two writes of one item may leave such a mix, as on a Python
 * {@code ShareableList}; hold a {@code Lock} around an item's reads and writes when they may
 * overlap, and to make compound updates atomic.
 */
public final class ShareableList implements AutoCloseable {
    /** The segment's header. */
    static final StructLayout HEADER = MemoryLayout.structLayout(
            JAVA_LONG.withName("count"),
            JAVA_LONG.withName("magic"));
    /** One item's descriptor; {@code count} of them follow the header. */
    static final StructLayout ITEM = MemoryLayout.structLayout(
            JAVA_LONG.withName("offset"),
            JAVA_INT.withName("capacity"),
            JAVA_INT.withName("length"),
            JAVA_BYTE.withName("type"),
            MemoryLayout.paddingLayout(7));

    private static final VarHandle COUNT = HEADER.varHandle(groupElement("count"));
    private static final VarHandle MAGIC = HEADER.varHandle(groupElement("magic"));
    /**
     * Marks a segment as a ShareableList ("JSHLIST" and a format version), so that attaching
     * anything else (a plain SharedMemory, a heap arena) is refused instead of read as a list.
     */
    static final long MAGIC_VALUE = 0x4A53484C49535401L;
    private static final VarHandle OFFSET = ITEM.varHandle(groupElement("offset"));
    private static final VarHandle CAPACITY = ITEM.varHandle(groupElement("capacity"));
    private static final VarHandle LENGTH = ITEM.varHandle(groupElement("length"));
    private static final VarHandle TYPE = ITEM.varHandle(groupElement("type"));

    private static final byte NULL = 0;
    private static final byte LONG = 1;
    private static final byte DOUBLE = 2;
    private static final byte BOOLEAN = 3;
    private static final byte STRING = 4;
    private static final byte BYTES = 5;
    private static final int NUMBER_SIZE = 8;

    private final SharedMemory shm;

    private ShareableList(SharedMemory shm) {
        this.shm = shm;
    }

    /**
     * Creates a list holding {@code values} in a new segment (with a generated name).
     *
     * @param values the items: nulls, integers that fit in 64 bits, doubles, booleans, strings
     *               and byte arrays
     * @return the list
     * @throws IllegalArgumentException for a value of an unsupported type, an integer that
     *                                  does not fit in 64 bits, or a string or array of more
     *                                  than 2,147,483,640 bytes
     * @throws IOException if the operating system refuses the segment
     */
    public static ShareableList create(List<?> values) throws IOException {
        List<Encoded> encoded = new ArrayList<>(values.size());
        long data = HEADER.byteSize() + ITEM.byteSize() * values.size();
        for (Object value : values) {
            Encoded e = encode(value);
            encoded.add(e);
            data += capacity(encoded.size() - 1, e.size());
        }
        SharedMemory shm = SharedMemory.create(data);
        MemorySegment buf = shm.buf();
        COUNT.set(buf, 0L, (long) values.size());
        MAGIC.set(buf, 0L, MAGIC_VALUE);
        long offset = HEADER.byteSize() + ITEM.byteSize() * values.size();
        for (int i = 0; i < encoded.size(); i++) {
            MemorySegment item = item(buf, i);
            int capacity = (int) capacity(i, encoded.get(i).size());
            OFFSET.set(item, 0L, offset);
            CAPACITY.set(item, 0L, capacity);
            write(buf, item, encoded.get(i));
            offset += capacity;
        }
        return new ShareableList(shm);
    }

    /**
     * Attaches to the list in the segment {@code name} (see {@link SharedMemory#attach}).
     *
     * @param name the segment's name
     * @return the list
     * @throws java.nio.file.NoSuchFileException if no segment has that name
     * @throws IOException if the segment does not hold a ShareableList (the segment is left
     *                     as it is)
     */
    public static ShareableList attach(String name) throws IOException {
        SharedMemory shm = SharedMemory.attach(name);
        try {
            check(shm);
        } catch (IOException e) {
            shm.close();
            throw e;
        }
        return new ShareableList(shm);
    }

    /** Checks the header and every item's descriptor, so that no read can go astray later. */
    private static void check(SharedMemory shm) throws IOException {
        MemorySegment buf = shm.buf();
        String not = "shared memory '" + shm.name() + "' does not hold a ShareableList";
        if (shm.size() < HEADER.byteSize() || (long) MAGIC.get(buf, 0L) != MAGIC_VALUE) {
            throw new IOException(not);
        }
        long count = (long) COUNT.get(buf, 0L);
        long dataStart = HEADER.byteSize();
        if (count < 0 || count > (shm.size() - dataStart) / ITEM.byteSize()) {
            throw new IOException(not + " (item count " + count + " does not fit in "
                    + shm.size() + " bytes)");
        }
        dataStart += ITEM.byteSize() * count;
        for (int i = 0; i < count; i++) {
            MemorySegment item = item(buf, i);
            long offset = (long) OFFSET.get(item, 0L);
            int capacity = (int) CAPACITY.get(item, 0L);
            int length = (int) LENGTH.get(item, 0L);
            byte type = (byte) TYPE.get(item, 0L);
            if (offset < dataStart || capacity < NUMBER_SIZE || offset > shm.size() - capacity
                    || length < 0 || length > capacity || type < NULL || type > BYTES) {
                throw new IOException(not + " (item " + i + " is corrupt)");
            }
        }
    }

    /** {@return the number of items (fixed at creation)} */
    public int size() {
        return (int) (long) COUNT.get(shm.buf(), 0L);
    }

    /**
     * The item at {@code index}: {@code null}, a {@link Long}, {@link Double}, {@link Boolean},
     * {@link String} or {@code byte[]}.
     *
     * @param index the item's position
     * @return the item
     */
    public Object get(int index) {
        MemorySegment buf = shm.buf();
        MemorySegment item = item(buf, checkIndex(index));
        long offset = (long) OFFSET.get(item, 0L);
        int length = (int) LENGTH.get(item, 0L);
        return switch ((byte) TYPE.get(item, 0L)) {
            case NULL -> null;
            case LONG -> buf.get(JAVA_LONG, offset);
            case DOUBLE -> buf.get(JAVA_DOUBLE, offset);
            case BOOLEAN -> buf.get(JAVA_BYTE, offset) != 0;
            case STRING -> new String(buf.asSlice(offset, length).toArray(JAVA_BYTE),
                    StandardCharsets.UTF_8);
            case BYTES -> buf.asSlice(offset, length).toArray(JAVA_BYTE);
            default -> throw new IllegalStateException("item " + index + " of '" + shm.name()
                    + "' has an unknown type (not a ShareableList?)");
        };
    }

    /**
     * Replaces the item at {@code index}.
     *
     * @param index the item's position
     * @param value the new item, of a supported type
     * @throws IllegalArgumentException if the value is of an unsupported type or needs more
     *                                  room than the item has (the list is then unchanged)
     */
    public void set(int index, Object value) {
        MemorySegment buf = shm.buf();
        MemorySegment item = item(buf, checkIndex(index));
        Encoded e = encode(value);
        int capacity = (int) CAPACITY.get(item, 0L);
        if (e.size() > capacity) {
            throw new IllegalArgumentException("the value needs " + e.size()
                    + " bytes but item " + index + " has room for " + capacity);
        }
        write(buf, item, e);
    }

    /** {@return the segment that holds the list (to {@code unlink()} it, or for its name)} */
    public SharedMemory shm() {
        return shm;
    }

    /** Closes this process's view (the segment stays; see {@link SharedMemory#close()}). */
    @Override
    public void close() {
        shm.close();
    }

    @Override
    public String toString() {
        if (shm.closed()) {
            return "ShareableList(closed, name='" + shm.name() + "')";
        }
        List<Object> items = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            Object v = get(i);
            items.add(v instanceof byte[] b ? "b" + java.util.Arrays.toString(b) : v);
        }
        return "ShareableList(" + items + ", name='" + shm.name() + "')";
    }

    private int checkIndex(int index) {
        int size = size();
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("index " + index + " out of range for a "
                    + "ShareableList of " + size + " items");
        }
        return index;
    }

    private static MemorySegment item(MemorySegment buf, int index) {
        return buf.asSlice(HEADER.byteSize() + ITEM.byteSize() * index, ITEM.byteSize());
    }

    private record Encoded(byte type, long bits, byte[] bytes) {
        int size() {
            return bytes == null ? (type == NULL ? 0 : NUMBER_SIZE) : bytes.length;
        }
    }

    private static Encoded encode(Object value) {
        return switch (value) {
            case null -> new Encoded(NULL, 0, null);
            case Boolean b -> new Encoded(BOOLEAN, b ? 1 : 0, null);
            case Byte b -> new Encoded(LONG, b, null);
            case Short s -> new Encoded(LONG, s, null);
            case Integer i -> new Encoded(LONG, i, null);
            case Long l -> new Encoded(LONG, l, null);
            case BigInteger big when big.bitLength() < 64 -> new Encoded(LONG, big.longValue(), null);
            case Float f -> new Encoded(DOUBLE, Double.doubleToRawLongBits(f), null);
            case Double d -> new Encoded(DOUBLE, Double.doubleToRawLongBits(d), null);
            case String s -> new Encoded(STRING, 0, s.getBytes(StandardCharsets.UTF_8));
            case byte[] b -> new Encoded(BYTES, 0, b.clone());
            default -> throw new IllegalArgumentException("a ShareableList cannot hold "
                    + (value instanceof BigInteger ? "an integer wider than 64 bits: " + value
                            : "a " + value.getClass().getName()));
        };
    }

    /**
     * Writes the data, then the length, then the type: three plain stores, which a reader on
     * another CPU may see in any mix (see the class's "No locking").
     */
    private static void write(MemorySegment buf, MemorySegment item, Encoded e) {
        long offset = (long) OFFSET.get(item, 0L);
        switch (e.type()) {
            case NULL -> { }
            case BOOLEAN -> buf.set(JAVA_BYTE, offset, (byte) e.bits());
            case LONG, DOUBLE -> buf.set(JAVA_LONG, offset, e.bits());
            default -> MemorySegment.copy(e.bytes(), 0, buf, JAVA_BYTE, offset, e.bytes().length);
        }
        LENGTH.set(item, 0L, e.bytes() == null ? 0 : e.bytes().length);
        TYPE.set(item, 0L, e.type());
    }

    /**
     * The storage of item {@code index}, whose first value takes {@code size} bytes: stored as
     * an int, so at most the largest multiple of 8 an int holds (a capacity rounded up past it
     * was stored negative: the list was made, and neither written nor attached).
     *
     * @throws IllegalArgumentException if it is larger
     */
    static long capacity(int index, long size) {
        long capacity = roundUp8(Math.max(NUMBER_SIZE, size));
        if (capacity > MAX_ITEM_BYTES) {
            throw new IllegalArgumentException("item " + index + " takes " + size + " bytes; a"
                    + " ShareableList item holds at most " + MAX_ITEM_BYTES);
        }
        return capacity;
    }

    /** The largest storage of one item. */
    static final long MAX_ITEM_BYTES = Integer.MAX_VALUE & -8L;

    private static long roundUp8(long n) {
        return (n + 7) & -8L;
    }
}
