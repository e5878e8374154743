package multiprocessing.internal.framing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

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
    public static final int LONG_HEADER = SHORT_HEADER + 8;
    /** The short header's value that announces a long one. */
    public static final int LONG_MARKER = -1;

    private static final ValueLayout.OfInt INT_BE =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LONG_BE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** Writes the header of a message of {@code length} bytes at 0; returns its size. */
    public static int writeHeader(MemorySegment to, long length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative message length " + length);
        }
        if (length <= MAX_SHORT_LENGTH) {
            to.set(INT_BE, 0, (int) length);
            return SHORT_HEADER;
        }
        to.set(INT_BE, 0, LONG_MARKER);
        to.set(LONG_BE, SHORT_HEADER, length);
        return LONG_HEADER;
    }

    /** The short header's value: a length, {@link #LONG_MARKER}, or (corrupt) another negative. */
    public static int readShortHeader(MemorySegment from) {
        return from.get(INT_BE, 0);
    }

    /** The long length that follows a {@link #LONG_MARKER}; negative if corrupt (over 2^63). */
    public static long readLongLength(MemorySegment from) {
        return from.get(LONG_BE, 0);
    }
}
