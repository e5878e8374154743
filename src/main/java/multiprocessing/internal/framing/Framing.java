package multiprocessing.internal.framing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

/**
 * The one message framing of the library, CPython's {@code multiprocessing.connection}:
 * a message of n bytes is preceded by n as a 4-byte big-endian signed int; a message of 2 GiB
 * or more by -1 and then n as an 8-byte big-endian unsigned long. Because it is CPython's, a
 * Java {@code Connection} and a Python one exchange bytes.
 */
public final class Framing {
    private Framing() {}

    /** The largest length the short header can hold. */
    public static final long MAX_SHORT_LENGTH = 0x7fffffffL;
    public static final int SHORT_HEADER = 4;
    /** The unsigned 64-bit length that follows {@link #LONG_MARKER} in a long header. */
    public static final int LONG_LENGTH = 8;
    public static final int LONG_HEADER = SHORT_HEADER + LONG_LENGTH;
    /** The short header's value that announces a long one. */
    public static final int LONG_MARKER = -1;

    /*
     * The header goes through a small byte array and a heap ByteBuffer (big-endian by default)
     * rather than a big-endian ValueLayout: that layout's var handle spins ~10 method handle
     * forms, which no AOT cache keeps, in every fresh process's first message (~4 ms of a
     * pool worker's start; bench/RESULTS.md, twenty-sixth session).
     */

    /** Writes the header of a message of {@code length} bytes at 0; returns its size. */
    public static int writeHeader(MemorySegment to, long length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative message length " + length);
        }
        ByteBuffer header = ByteBuffer.allocate(LONG_HEADER);
        if (length <= MAX_SHORT_LENGTH) {
            header.putInt((int) length);
        } else {
            header.putInt(LONG_MARKER).putLong(length);
        }
        MemorySegment.copy(header.array(), 0, to, ValueLayout.JAVA_BYTE, 0, header.position());
        return header.position();
    }

    /** The short header's value: a length, {@link #LONG_MARKER}, or (corrupt) another negative. */
    public static int readShortHeader(MemorySegment from) {
        return read(from, SHORT_HEADER).getInt();
    }

    /** The long length that follows a {@link #LONG_MARKER}; negative if corrupt (over 2^63). */
    public static long readLongLength(MemorySegment from) {
        return read(from, 8).getLong();
    }

    private static ByteBuffer read(MemorySegment from, int count) {
        byte[] bytes = new byte[count];
        MemorySegment.copy(from, ValueLayout.JAVA_BYTE, 0, bytes, 0, count);
        return ByteBuffer.wrap(bytes);
    }
}
