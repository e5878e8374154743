package multiprocessing.sharedmemory;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.zip.CRC32C;

import multiprocessing.internal.util.PyRepr;

/**
 * A fixed-length list of simple values in one shared-memory segment, readable and writable by
 * every process that attaches it by name (Python's {@code ShareableList}), CPython's processes
 * included: the segment has CPython's layout, so a list made here is attached by
 * {@code ShareableList(name=...)} in Python 3.8+ and one made there by {@link #attach} here.
 *
 * <p>Values: {@code null}, integers ({@code Byte}, {@code Short}, {@code Integer}, {@code Long},
 * or a {@code BigInteger} that fits in 64 bits; read back as {@link Long}), {@code Float}/{@code
 * Double} (read back as {@link Double}), {@link Boolean}, {@link String} and {@code byte[]}:
 * Python's int, float, bool, str, bytes and None. As in Python, the list's length and each
 * item's storage are fixed at creation: 8 bytes for a number, a boolean or null, and for a
 * string or byte array its first value's size (a string's UTF-8 bytes) plus one, rounded up to a
 * multiple of 8, as CPython computes it ({@code "hello"} gets 8, {@code "12345678"} 16). Any
 * value that fits there may replace it: {@code "hello"} by {@code "12345678"} but not by {@code
 * "123456789"}, a number by a string of at most 8 bytes, anything by {@code null}; a value that
 * does not fit throws {@link IllegalArgumentException} and leaves the list unchanged. A string
 * or byte array holds at most {@value #MAX_ITEM_BYTES} bytes (CPython's limit: its storage
 * size must be written in a format of 8 characters). A negative index counts from the end, as
 * in Python.
 *
 * <p>Better than CPython: a string or byte array ending in NUL bytes keeps them (CPython strips
 * them, <a href="https://github.com/python/cpython/issues/96779">cpython#96779</a>). CPython
 * reads such an item of a list made here without its trailing NULs, as it reads its own.
 *
 * <p>No locking: a read that overlaps a write of the same item, even from a single writer, may
 * see a mix of the old and new values (one string's bytes with another's format), and two
 * writes of one item may leave such a mix, as on a Python {@code ShareableList}; hold a {@code
 * Lock} around an item's reads and writes when they may overlap, and to make compound updates
 * atomic.
 *
 * <p>Implementation note. CPython's layout ({@link #layout}): the item count N; N + 1 offsets
 * of the items' storage from the start of the data area (the last one is the area's size); the
 * data area; each item's {@code struct} format in 8 bytes ({@code "q"}, {@code "d"},
 * {@code "xxxxxxx?"} for a bool, {@code "xxxxxx?x"} for None, {@code "<capacity>s"} for str and
 * bytes, whose value is padded with NULs); and each item's back-transform code (0: the value
 * as unpacked, 1: str, 2: bytes, 3: None). CPython strips a str's or bytes' trailing NULs as it
 * reads, because their storage keeps no length. A list made here adds a table after CPython's
 * part, which CPython neither reads nor writes: a magic number, then for each item the exact
 * length of its string or bytes and a CRC-32C of them. A read here takes the exact bytes only if
 * the table still describes what the storage holds (the checksum matches and only NULs follow),
 * so an item CPython has written since is read as CPython reads it, but for one case: CPython
 * wrote the value written here without its trailing NULs ({@code b"a"} over {@code b"a\0"}),
 * which leaves the storage as it was, and it reads here as the value written here.
 */
public final class ShareableList implements AutoCloseable, Iterable<Object> {
    /** The most bytes of one string or byte array: its storage, in a format of 8 characters. */
    public static final int MAX_ITEM_BYTES = 9_999_991;

    private static final int FORMAT_SIZE = 8;
    private static final int NUMBER_SIZE = 8;

    /** Back-transform codes: how CPython turns an item's unpacked value into its value. */
    private static final byte AS_IS = 0;
    private static final byte STR = 1;
    private static final byte BYTES = 2;
    private static final byte NONE = 3;

    private static final String LONG_FORMAT = "q";
    private static final String DOUBLE_FORMAT = "d";
    private static final String BOOL_FORMAT = "xxxxxxx?";
    private static final String NONE_FORMAT = "xxxxxx?x";
    /** Where a bool's byte lies in its storage ({@code "xxxxxxx?"}: after 7 pad bytes). */
    private static final int BOOL_BYTE = 7;

    /** Marks this library's table after CPython's part ("JSLEN", then a version). */
    static final long TABLE_MAGIC = 0x4A534C454E000001L;

    /** One item's entry in this library's table. */
    static final StructLayout TABLE_ENTRY = MemoryLayout.structLayout(
            JAVA_INT_UNALIGNED.withName("length"),
            JAVA_INT_UNALIGNED.withName("crc"));
    private static final long LENGTH_OFFSET = TABLE_ENTRY.byteOffset(groupElement("length"));
    private static final long CRC_OFFSET = TABLE_ENTRY.byteOffset(groupElement("crc"));

    private final SharedMemory shm;

    private ShareableList(SharedMemory shm) {
        this.shm = shm;
    }

    /**
     * The layout of a list of {@code count} items whose storage takes {@code dataSize} bytes:
     * CPython's part, then this library's table (declared with it, never read by CPython).
     */
    static StructLayout layout(long count, long dataSize) {
        return MemoryLayout.structLayout(
                JAVA_LONG.withName("count"),
                MemoryLayout.sequenceLayout(count + 1, JAVA_LONG).withName("offsets"),
                MemoryLayout.sequenceLayout(dataSize, JAVA_BYTE).withName("data"),
                MemoryLayout.sequenceLayout(count,
                        MemoryLayout.sequenceLayout(FORMAT_SIZE, JAVA_BYTE)).withName("formats"),
                MemoryLayout.sequenceLayout(count, JAVA_BYTE).withName("codes"),
                JAVA_LONG_UNALIGNED.withName("tableMagic"),
                MemoryLayout.sequenceLayout(count, TABLE_ENTRY).withName("table"));
    }

    /** Where the parts of a list of {@code count} items and {@code dataSize} bytes of storage lie. */
    private record Geometry(long count, long offsets, long data, long formats, long codes,
            long cpythonEnd, long tableMagic, long table, long end) {
        static Geometry of(long count, long dataSize) {
            StructLayout l = layout(count, dataSize);
            long codes = l.byteOffset(groupElement("codes"));
            return new Geometry(count, l.byteOffset(groupElement("offsets")),
                    l.byteOffset(groupElement("data")), l.byteOffset(groupElement("formats")),
                    codes, codes + count, l.byteOffset(groupElement("tableMagic")),
                    l.byteOffset(groupElement("table")), l.byteSize());
        }

        /** Where item {@code index}'s entry in this library's table lies. */
        long entryOf(int index) {
            return table + TABLE_ENTRY.byteSize() * index;
        }

        /** Where the offset of item {@code index}'s storage lies ({@code count}: the end's). */
        long offsetOf(long index) {
            return offsets + JAVA_LONG.byteSize() * index;
        }
    }

    /**
     * Creates a list holding {@code values} in a new segment (with a generated name).
     *
     * @param values the items: nulls, integers that fit in 64 bits, floats and doubles,
     *               booleans, strings and byte arrays
     * @return the list
     * @throws IllegalArgumentException for a value of an unsupported type, an integer that
     *                                  does not fit in 64 bits, or a string or byte array of
     *                                  more than {@value #MAX_ITEM_BYTES} bytes
     * @throws IOException if the operating system refuses the segment
     */
    public static ShareableList create(List<?> values) throws IOException {
        java.util.Objects.requireNonNull(values, "values");
        List<Encoded> encoded = new ArrayList<>(values.size());
        long[] capacities = new long[values.size()];
        long dataSize = 0;
        for (Object value : values) {
            Encoded e = encode(value);
            int i = encoded.size();
            capacities[i] = capacity(i, e);
            encoded.add(e);
            dataSize += capacities[i];
        }
        Geometry g = Geometry.of(values.size(), dataSize);
        SharedMemory shm = SharedMemory.create(g.end());
        ShareableList list = new ShareableList(shm);
        try {
            MemorySegment buf = shm.buf();
            buf.set(JAVA_LONG, 0, values.size());
            long offset = 0;
            for (int i = 0; i < capacities.length; i++) {
                buf.set(JAVA_LONG, g.offsetOf(i), offset);
                offset += capacities[i];
            }
            buf.set(JAVA_LONG, g.offsetOf(capacities.length), offset);
            buf.set(JAVA_LONG_UNALIGNED, g.tableMagic(), TABLE_MAGIC);
            for (int i = 0; i < encoded.size(); i++) {
                list.write(buf, g, i, encoded.get(i));
            }
        } catch (RuntimeException | Error e) {
            shm.close();
            shm.unlink();
            throw e;
        }
        return list;
    }

    /**
     * Attaches to the list in the segment {@code name} (see {@link SharedMemory#attach}), made
     * here or by CPython.
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
            ShareableList list = new ShareableList(shm);
            Geometry g = list.geometry();
            for (int i = 0; i < g.count(); i++) {
                list.read(shm.buf(), g, i);
            }
            return list;
        } catch (IllegalStateException e) {
            shm.close();
            throw new IOException(e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            shm.close();
            throw e;
        }
    }

    /**
     * Reads the count and the storage's size and checks that the list's parts lie in the
     * segment, in order, so that no read can go astray.
     *
     * @throws IllegalStateException if they do not
     */
    private Geometry geometry() {
        MemorySegment buf = shm.buf();
        long size = shm.size();
        long count = size < 8 ? -1 : buf.get(JAVA_LONG, 0);
        // The offsets alone take 8 (count + 1) bytes after the count.
        if (count < 0 || count > size / 8 - 2 || count > Integer.MAX_VALUE) {
            throw notAList("its item count " + count + " does not fit in " + size + " bytes");
        }
        // Where the storage's size lies depends on the count alone.
        long dataSize = buf.get(JAVA_LONG, Geometry.of(count, 0).offsetOf(count));
        if (dataSize < 0 || dataSize > size) {
            throw notAList("its storage of " + dataSize + " bytes does not fit in " + size);
        }
        Geometry g = Geometry.of(count, dataSize);
        // CPython's layout has no magic number, but CPython makes its segment of exactly the
        // size the layout needs (ftruncate), and a list made here carries its table's: what
        // has neither (a plain segment, a heap arena) is not taken for a list.
        if (g.cpythonEnd() != size && !hasTable(buf, g)) {
            throw notAList("its " + count + " items and " + dataSize + " bytes of storage need "
                    + g.cpythonEnd() + " bytes, not " + size);
        }
        return g;
    }

    /** Whether this library's table follows CPython's part (a list made here). */
    private boolean hasTable(MemorySegment buf, Geometry g) {
        return shm.size() >= g.end()
                && buf.get(JAVA_LONG_UNALIGNED, g.tableMagic()) == TABLE_MAGIC;
    }

    private IllegalStateException notAList(String why) {
        return new IllegalStateException("shared memory '" + shm.name()
                + "' does not hold a ShareableList: " + why);
    }

    /** {@return the number of items (fixed at creation)} */
    public int size() {
        try {
            return (int) geometry().count();
        } catch (InternalError fault) {
            throw shrank(fault);
        }
    }

    /**
     * The segment was made shorter under this list (another process truncated it): a read or
     * write of its pages past the new end faults, which the JVM reports as InternalError, an
     * Error callers do not expect to catch (attack 44). CPython's process dies of SIGBUS.
     */
    private IllegalStateException shrank(InternalError fault) {
        return new IllegalStateException("shared memory '" + shm.name() + "' was made shorter"
                + " under this ShareableList (truncated by another process): its pages past the"
                + " new end are gone", fault);
    }

    /**
     * The item at {@code index}: {@code null}, a {@link Long}, {@link Double}, {@link Boolean},
     * {@link String} or {@code byte[]}.
     *
     * @param index the item's position; a negative one counts from the end
     * @return the item
     * @throws IndexOutOfBoundsException if there is no such item
     * @throws IllegalStateException if the item's format is none a ShareableList writes, or
     *         the segment was made shorter under the list
     */
    public Object get(int index) {
        try {
            Geometry g = geometry();
            return read(shm.buf(), g, checkIndex(g, index));
        } catch (InternalError fault) {
            throw shrank(fault);
        }
    }

    /**
     * Replaces the item at {@code index}.
     *
     * @param index the item's position; a negative one counts from the end
     * @param value the new item, of a supported type
     * @throws IndexOutOfBoundsException if there is no such item
     * @throws IllegalArgumentException if the value is of an unsupported type or needs more
     *                                  room than the item has (the list is then unchanged)
     */
    public void set(int index, Object value) {
        Encoded e = encode(value);
        try {
            Geometry g = geometry();
            int i = checkIndex(g, index);
            long capacity = storage(shm.buf(), g, i)[1];
            if (e.size() > capacity) {
                throw new IllegalArgumentException("the value needs " + e.size()
                        + " bytes but item " + i + " has room for " + capacity);
            }
            write(shm.buf(), g, i, e);
        } catch (InternalError fault) {
            throw shrank(fault);
        }
    }

    /**
     * The position of the first item equal to {@code value} (Python's {@code index}): numbers
     * are equal when their values are ({@code 42}, {@code 42L} and {@code 42.0} alike, as in
     * Python), byte arrays when their contents are, anything else by {@code equals};
     * {@code null} finds a {@code None}. A boolean equals only a boolean (Python's
     * {@code True == 1} holds; {@code Boolean.TRUE} is no number in Java).
     *
     * @param value the value to look for
     * @return its first position
     * @throws IllegalArgumentException if no item is equal to it (Python's ValueError)
     */
    public int index(Object value) {
        for (int i = 0, n = size(); i < n; i++) {
            if (same(get(i), value)) {
                return i;
            }
        }
        throw new IllegalArgumentException(PyRepr.of(value) + " not in this container");
    }

    /**
     * {@return how many items are equal to {@code value}, as {@link #index} compares them
     * (Python's {@code count})}
     *
     * @param value the value to count
     */
    public int count(Object value) {
        int c = 0;
        for (int i = 0, n = size(); i < n; i++) {
            if (same(get(i), value)) {
                c++;
            }
        }
        return c;
    }

    /**
     * The items in order, each read as the iteration reaches it (as Python iterates a
     * ShareableList): a write by another process meanwhile shows in the items not yet read.
     */
    @Override
    public Iterator<Object> iterator() {
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < size();
            }

            @Override
            public Object next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return get(next++);
            }
        };
    }

    /** Python's equality of two items: numbers by value, byte arrays by content. */
    private static boolean same(Object item, Object value) {
        if (item instanceof Number a && value instanceof Number b) {
            boolean floating = a instanceof Double || a instanceof Float
                    || b instanceof Double || b instanceof Float;
            if (floating) {
                return a.doubleValue() == b.doubleValue();
            }
            return new BigInteger(a.toString()).equals(new BigInteger(b.toString()));
        }
        if (item instanceof byte[] a && value instanceof byte[] b) {
            return Arrays.equals(a, b);
        }
        return java.util.Objects.equals(item, value);
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
        List<String> items = new ArrayList<>();
        for (Object v : this) {
            items.add(PyRepr.of(v));
        }
        return "ShareableList([" + String.join(", ", items) + "], name='" + shm.name() + "')";
    }


    private static int checkIndex(Geometry g, int index) {
        long i = index < 0 ? index + g.count() : index;
        if (i < 0 || i >= g.count()) {
            throw new IndexOutOfBoundsException("index " + index + " out of range for a "
                    + "ShareableList of " + g.count() + " items");
        }
        return (int) i;
    }

    /** Item {@code i}'s storage: its offset in the segment and its size, checked. */
    private long[] storage(MemorySegment buf, Geometry g, int i) {
        long start = buf.get(JAVA_LONG, g.offsetOf(i));
        long end = buf.get(JAVA_LONG, g.offsetOf(i + 1));
        long dataSize = g.formats() - g.data();
        if (start < 0 || end < start || end > dataSize) {
            throw notAList("item " + i + "'s storage (" + start + " to " + end
                    + ") is not in its " + dataSize + " bytes");
        }
        return new long[] {g.data() + start, end - start};
    }

    private Object read(MemorySegment buf, Geometry g, int i) {
        long[] at = storage(buf, g, i);
        String format = format(buf, g, i);
        byte code = buf.get(JAVA_BYTE, g.codes() + i);
        long capacity = at[1];
        switch (format) {
            case LONG_FORMAT, DOUBLE_FORMAT, BOOL_FORMAT, NONE_FORMAT -> {
                if (capacity < NUMBER_SIZE || code != (format.equals(NONE_FORMAT) ? NONE : AS_IS)) {
                    throw notAList("item " + i + " has format '" + format + "' with code " + code
                            + " in " + capacity + " bytes");
                }
                return switch (format) {
                    case LONG_FORMAT -> buf.get(JAVA_LONG_UNALIGNED, at[0]);
                    case DOUBLE_FORMAT -> buf.get(JAVA_DOUBLE_UNALIGNED, at[0]);
                    case BOOL_FORMAT -> buf.get(JAVA_BYTE, at[0] + BOOL_BYTE) != 0;
                    default -> null;
                };
            }
            default -> {
                long length = stringLength(format);
                if (length < 0 || length > capacity || (code != STR && code != BYTES)) {
                    throw notAList("item " + i + " has format '" + format + "' with code " + code
                            + " in " + capacity + " bytes");
                }
                byte[] bytes = exactBytes(buf, g, i, at[0], length);
                return code == STR ? new String(bytes, StandardCharsets.UTF_8) : bytes;
            }
        }
    }

    /**
     * A string's or bytes' value: the exact bytes this library's table records, if it still
     * describes what the storage holds; else, as CPython reads them, without trailing NULs.
     */
    private byte[] exactBytes(MemorySegment buf, Geometry g, int i, long at, long length) {
        byte[] all = buf.asSlice(at, length).toArray(JAVA_BYTE);
        int stripped = all.length;
        while (stripped > 0 && all[stripped - 1] == 0) {
            stripped--;
        }
        if (stripped < all.length && hasTable(buf, g)) {
            long entry = g.entryOf(i);
            int exact = buf.get(JAVA_INT_UNALIGNED, entry + LENGTH_OFFSET);
            int crc = buf.get(JAVA_INT_UNALIGNED, entry + CRC_OFFSET);
            // Only NULs follow `stripped`: the recorded length may keep some of them.
            if (exact > stripped && exact <= all.length && crc(all, exact) == crc) {
                return Arrays.copyOf(all, exact);
            }
        }
        return Arrays.copyOf(all, stripped);
    }

    private static int crc(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }

    /** Item {@code i}'s format, its 8 bytes up to the first NUL. */
    private static String format(MemorySegment buf, Geometry g, int i) {
        byte[] raw = buf.asSlice(g.formats() + (long) FORMAT_SIZE * i, FORMAT_SIZE)
                .toArray(JAVA_BYTE);
        int n = 0;
        while (n < raw.length && raw[n] != 0) {
            n++;
        }
        return new String(raw, 0, n, StandardCharsets.US_ASCII);
    }

    /** The length of a {@code "<n>s"} format, or -1 if it is not one. */
    private static long stringLength(String format) {
        if (format.length() < 2 || !format.endsWith("s")) {
            return -1;
        }
        long n = 0;
        for (int k = 0; k < format.length() - 1; k++) {
            char c = format.charAt(k);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }

    private record Encoded(byte code, String format, long bits, byte[] bytes) {
        /** The bytes the value needs in its storage. */
        long size() {
            return bytes == null ? NUMBER_SIZE : bytes.length;
        }
    }

    private static Encoded encode(Object value) {
        return switch (value) {
            case null -> new Encoded(NONE, NONE_FORMAT, 0, null);
            case Boolean b -> new Encoded(AS_IS, BOOL_FORMAT, b ? 1 : 0, null);
            case Byte b -> new Encoded(AS_IS, LONG_FORMAT, b, null);
            case Short s -> new Encoded(AS_IS, LONG_FORMAT, s, null);
            case Integer i -> new Encoded(AS_IS, LONG_FORMAT, i, null);
            case Long l -> new Encoded(AS_IS, LONG_FORMAT, l, null);
            case BigInteger big when big.bitLength() < 64 ->
                    new Encoded(AS_IS, LONG_FORMAT, big.longValue(), null);
            case Float f -> new Encoded(AS_IS, DOUBLE_FORMAT, Double.doubleToRawLongBits(f), null);
            case Double d -> new Encoded(AS_IS, DOUBLE_FORMAT, Double.doubleToRawLongBits(d), null);
            case String s -> new Encoded(STR, null, 0, s.getBytes(StandardCharsets.UTF_8));
            case byte[] b -> new Encoded(BYTES, null, 0, b.clone());
            default -> throw new IllegalArgumentException("a ShareableList cannot hold "
                    + (value instanceof BigInteger ? "an integer wider than 64 bits: " + value
                            : "a " + value.getClass().getName()));
        };
    }

    /**
     * Writes item {@code i}: its storage (a string's or bytes' padded with NULs, as CPython's
     * {@code struct} packs them), its format, its code, then its entry in this library's table.
     * Plain stores, which a reader on another CPU may see in any mix (see "No locking").
     */
    private void write(MemorySegment buf, Geometry g, int i, Encoded e) {
        long[] at = storage(buf, g, i);
        MemorySegment storage = buf.asSlice(at[0], at[1]);
        String format;
        if (e.bytes() == null) {
            storage.asSlice(0, NUMBER_SIZE).fill((byte) 0);
            if (e.format().equals(BOOL_FORMAT)) {
                storage.set(JAVA_BYTE, BOOL_BYTE, (byte) e.bits());
            } else if (!e.format().equals(NONE_FORMAT)) {
                storage.set(JAVA_LONG_UNALIGNED, 0, e.bits());
            }
            format = e.format();
        } else {
            MemorySegment.copy(e.bytes(), 0, storage, JAVA_BYTE, 0, e.bytes().length);
            storage.asSlice(e.bytes().length).fill((byte) 0);
            // CPython's: the whole storage (what it reads, then strips of NULs).
            format = at[1] + "s";
        }
        byte[] f = Arrays.copyOf(format.getBytes(StandardCharsets.US_ASCII), FORMAT_SIZE);
        MemorySegment.copy(f, 0, buf, JAVA_BYTE, g.formats() + (long) FORMAT_SIZE * i,
                FORMAT_SIZE);
        buf.set(JAVA_BYTE, g.codes() + i, e.code());
        if (hasTable(buf, g)) {
            long entry = g.entryOf(i);
            int length = e.bytes() == null ? -1 : e.bytes().length;
            buf.set(JAVA_INT_UNALIGNED, entry + LENGTH_OFFSET, length);
            buf.set(JAVA_INT_UNALIGNED, entry + CRC_OFFSET,
                    length < 0 ? 0 : crc(e.bytes(), length));
        }
    }

    /**
     * The storage of item {@code index}, whose first value is {@code e}: 8 bytes for a number,
     * a boolean or null; for a string or bytes of n bytes, 8 (n / 8 + 1), as CPython computes it.
     *
     * @throws IllegalArgumentException if a string or bytes is longer than
     *         {@value #MAX_ITEM_BYTES} bytes
     */
    private static long capacity(int index, Encoded e) {
        return e.bytes() == null ? NUMBER_SIZE : capacity(index, e.bytes().length);
    }

    /** The storage of a string or bytes of {@code size} bytes (see above). */
    static long capacity(int index, long size) {
        if (size > MAX_ITEM_BYTES) {
            throw new IllegalArgumentException("item " + index + " takes " + size + " bytes; a"
                    + " ShareableList's string or bytes holds at most " + MAX_ITEM_BYTES
                    + " (as CPython's: its storage's size is written in 8 characters)");
        }
        return 8 * (size / 8 + 1);
    }
}
