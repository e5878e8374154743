package multiprocessing.pool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The pipe messages between a pool and its workers: a frame that something other than the pool
 * wrote (attack 26 wrote into a worker's task pipe through /proc) is refused whole, with what is
 * wrong, before any message of it is handed out; it used to hand out nothing for a count of 0
 * and the worker then failed its next task with a NullPointerException, or to throw a bare
 * BufferUnderflowException.
 */
class FramesTest {

    private static byte[] frame(int count, int... lengthsThenPadding) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * lengthsThenPadding.length + 64);
        b.putInt(count);
        for (int length : lengthsThenPadding) {
            b.putInt(length);
        }
        byte[] all = new byte[b.position()];
        System.arraycopy(b.array(), 0, all, 0, all.length);
        return all;
    }

    @Test
    void wellFormedFramesComeBackAsTheyWerePacked() {
        List<byte[]> parts = List.of(new byte[0], new byte[] {1, 2, 3}, new byte[] {4});
        List<byte[]> back = new ArrayList<>();
        Frames.unpack(Frames.pack(parts), back::add);
        assertEquals(3, back.size());
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(parts.get(i), back.get(i));
        }
    }

    @Test
    void corruptFramesAreRefusedWholeAndSayWhy() {
        byte[] twoThenTrailing = Frames.pack(List.of(new byte[] {1}, new byte[] {2}));
        byte[] trailing = java.util.Arrays.copyOf(twoThenTrailing, twoThenTrailing.length + 3);
        byte[] tooLong = Frames.pack(List.of(new byte[] {1}, new byte[] {2, 3}));
        ByteBuffer.wrap(tooLong).putInt(4 + 4 + 1, 99); // the second length, past the end
        for (byte[] bad : List.of(new byte[0], new byte[] {0, 0}, frame(0), frame(-1),
                frame(Integer.MAX_VALUE, 1), trailing, tooLong)) {
            List<byte[]> handed = new ArrayList<>();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Frames.unpack(bad, handed::add));
            assertTrue(e.getMessage().startsWith("a corrupt pool message of " + bad.length
                    + " bytes: "), e.getMessage());
            assertEquals(List.of(), handed, "nothing handed out before the refusal");
        }
    }
}
