package multiprocessing.pool;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.Consumer;

/**
 * Several serialized messages in one pipe message: {@code [int count]([int length][bytes])*}.
 * Between a pool and its workers every message travels this way, so that the tasks queued for a
 * worker while its sender thread was writing cross the pipe with one write and one read instead
 * of one each (results go back one by one: see {@link Worker}).
 */
final class Frames {
    private Frames() {}

    /** The most bytes one message may have to be packed ({@link #pack}'s array must hold it). */
    static final int MAX_PART = Integer.MAX_VALUE - 16;

    /**
     * Packs {@code parts}, whose lengths with their headers must add up to at most
     * {@link #MAX_PART} + 8 bytes (the pool's sender batches by a much smaller bound).
     *
     * @throws IllegalArgumentException if they do not fit one array
     */
    static byte[] pack(List<byte[]> parts) {
        long size = 4;
        for (byte[] p : parts) {
            size += 4 + p.length;
        }
        if (size > MAX_PART + 8L) {
            throw new IllegalArgumentException(parts.size() + " messages of " + (size - 4
                    - 4L * parts.size()) + " bytes in all do not fit one pipe message");
        }
        ByteBuffer b = ByteBuffer.allocate((int) size);
        b.putInt(parts.size());
        for (byte[] p : parts) {
            b.putInt(p.length).put(p);
        }
        return b.array();
    }

    static void unpack(byte[] frame, Consumer<byte[]> each) {
        ByteBuffer b = ByteBuffer.wrap(frame);
        int count = b.getInt();
        for (int i = 0; i < count; i++) {
            byte[] p = new byte[b.getInt()];
            b.get(p);
            each.accept(p);
        }
    }
}
