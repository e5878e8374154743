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

    /**
     * Hands each message of {@code frame} to {@code each}, in order, once the whole frame is
     * found well formed (at least one message, each length within what is left, nothing after
     * the last): the pipe then still holds whole frames.
     *
     * @throws IllegalStateException naming what is wrong, before any message is handed out
     */
    static void unpack(byte[] frame, Consumer<byte[]> each) {
        ByteBuffer b = ByteBuffer.wrap(frame);
        int count = frame.length >= 4 ? b.getInt() : -1;
        if (count < 1 || count > (frame.length - 4) / 4) {
            throw corrupt(frame, "it counts " + count + " messages");
        }
        for (int i = 0; i < count; i++) {
            int length = b.remaining() >= 4 ? b.getInt() : -1;
            if (length < 0 || length > b.remaining()) {
                throw corrupt(frame, "its message " + (i + 1) + " of " + count + " has "
                        + length + " bytes, " + b.remaining() + " are left");
            }
            b.position(b.position() + length);
        }
        if (b.hasRemaining()) {
            throw corrupt(frame, b.remaining() + " bytes follow its last message");
        }
        b.position(4);
        for (int i = 0; i < count; i++) {
            byte[] p = new byte[b.getInt()];
            b.get(p);
            each.accept(p);
        }
    }

    private static IllegalStateException corrupt(byte[] frame, String why) {
        return new IllegalStateException("a corrupt pool message of " + frame.length
                + " bytes: " + why + " (something other than the pool wrote to the pipe)");
    }
}
