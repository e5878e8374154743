package multiprocessing.internal.queue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import multiprocessing.NoLeftoverSharedMemory;

/**
 * {@link Messages#outgoing}: a message that waits for room in slices (a manager's link looks
 * at its peer between them) is serialized once, kept across the slices that time out, put
 * once, and a large one never put leaves nothing in /dev/shm; {@link Messages#discard} drops
 * what nobody will read, and its large messages' objects with it.
 */
@ExtendWith(NoLeftoverSharedMemory.class)
class OutgoingTest {
    private static final int SLOTS = 16;
    private static final int SLOT_BYTES = 256;

    /** Counts its serializations. */
    static final class Counted implements Serializable {
        static final AtomicInteger WRITES = new AtomicInteger();
        final String text;

        Counted(String text) {
            this.text = text;
        }

        private void writeObject(ObjectOutputStream out) throws IOException {
            WRITES.incrementAndGet();
            out.defaultWriteObject();
        }
    }

    private static Ring ring(Arena arena) {
        return Ring.create(arena.allocate(Ring.bytes(SLOTS, SLOT_BYTES), 4096), "a test ring", 0,
                SLOTS, SLOT_BYTES);
    }

    /** Puts small items until the ring has no room; how many. */
    private static int fill(Ring ring) {
        int n = 0;
        while (Messages.put(ring, n, 0)) {
            n++;
        }
        return n;
    }

    private static Set<String> shm() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("/dev/shm"))) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    @Test
    void aMessageWithRoomIsPutAtOnce() {
        try (Arena arena = Arena.ofConfined()) {
            Ring ring = ring(arena);
            try (Messages.Outgoing out = Messages.outgoing(ring, "now", true)) {
                assertTrue(out.put(ring, 0), "already in the ring");
            }
            assertEquals("now", Messages.get(ring, 0));
            assertSame(Messages.NONE, Messages.get(ring, 0), "and only once");
        }
    }

    @Test
    void aMessageThatWaitsForRoomIsSerializedOnceAndPutOnce() {
        try (Arena arena = Arena.ofConfined()) {
            Ring ring = ring(arena);
            int items = fill(ring);
            assertTrue(items > 0);
            int before = Counted.WRITES.get();
            try (Messages.Outgoing out = Messages.outgoing(ring, new Counted("later"), true)) {
                for (int slice = 0; slice < 3; slice++) {
                    assertFalse(out.put(ring, 1_000_000L), "no room yet");
                }
                assertEquals(0, Messages.get(ring, 0), "room for one");
                assertTrue(out.put(ring, 1_000_000L));
                assertTrue(out.put(ring, 0), "put already: nothing more to do");
            }
            assertEquals(1, Counted.WRITES.get() - before, "serialized once for all its slices");
            for (int i = 1; i < items; i++) {
                assertEquals(i, Messages.get(ring, 0));
            }
            assertEquals("later", ((Counted) Messages.get(ring, 0)).text);
            assertSame(Messages.NONE, Messages.get(ring, 0), "put once");
        }
    }

    /** Descriptors of this process open on shared-memory objects that have no name. */
    private static long unnamedObjectsOpen() throws IOException {
        try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    String target = java.nio.file.Files.readSymbolicLink(fd).toString();
                    return target.startsWith("/dev/shm/") && target.endsWith("(deleted)");
                } catch (IOException closed) {
                    return false;
                }
            }).count();
        }
    }

    @Test
    void aLargeMessageKeepsItsObjectAcrossSlicesAndDropsItWhenNeverPut() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Ring ring = ring(arena);
            int items = fill(ring);
            byte[] big = new byte[256 * 1024];
            big[12345] = 7;
            Set<String> before = shm();
            long open = unnamedObjectsOpen();
            try (Messages.Outgoing out = Messages.outgoing(ring, big, true)) {
                assertFalse(out.put(ring, 1_000_000L));
                assertEquals(before, shm(), "no name in /dev/shm while it waits for room");
                assertEquals(open + 1, unnamedObjectsOpen(), "its bytes wait, unnamed");
                assertFalse(out.put(ring, 1_000_000L));
                assertEquals(open + 1, unnamedObjectsOpen(), "kept across a slice that timed out");
            }
            assertEquals(open, unnamedObjectsOpen(), "dropped, never put");
            assertEquals(before, shm());

            assertEquals(0, Messages.get(ring, 0));
            try (Messages.Outgoing out = Messages.outgoing(ring, big, true)) {
                assertTrue(out.put(ring, 0), "room for its reference: put at once");
            }
            for (int i = 1; i < items; i++) {
                assertEquals(i, Messages.get(ring, 0));
            }
            assertArrayEquals(big, (byte[]) Messages.get(ring, 0));
        }
    }

    @Test
    void discardDropsWhatNobodyWillReadAndUnlinksLargeMessages() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Ring ring = ring(arena);
            Set<String> before = shm();
            assertTrue(Messages.put(ring, "small", 0));
            assertTrue(Messages.put(ring, new byte[256 * 1024], 0));
            assertTrue(Messages.put(ring, new byte[300 * 1024], 0));
            Set<String> made = new HashSet<>(shm());
            made.removeAll(before);
            assertEquals(2, made.size(), "two large messages wait in /dev/shm: " + made);
            assertEquals(3, Messages.discard(ring));
            assertFalse(shm().stream().anyMatch(made::contains), "their objects are unlinked");
            assertSame(Messages.NONE, Messages.get(ring, 0), "and the ring is empty");
            assertEquals(0, Messages.discard(ring));
            assertTrue(Messages.put(ring, "after", 0));
            assertEquals("after", Messages.get(ring, 0), "the ring works on");
        }
    }
}
