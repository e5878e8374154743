package multiprocessing.internal.queue;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import org.apache.fory.Fory;
import org.apache.fory.config.Language;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;

/**
 * A queue's ring is shared memory any process of the program can write: a header or a record
 * that cannot be right is a clear error, never an index outside the ring, a spin or a 2 GiB
 * allocation.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RingCorruptionTest {
    private static final int SLOTS = 8;
    private static final int SLOT_BYTES = 64;

    private static void assertCorrupted(Ring ring) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ring.take(new Ring.Sink(), 0));
        assertTrue(e.getMessage().contains("corrupted"), e.getMessage());
    }

    /** A ring with one record of {@code n} bytes whose length field is then overwritten. */
    private static Ring withRecordLength(int length) {
        Ring ring = Ring.create(SLOTS, SLOT_BYTES, 0, false);
        try (Arena arena = Arena.ofConfined()) {
            ring.put(arena.allocate(10), 10, 0, -1);
        }
        ring.block().segment().set(JAVA_INT,
                RingLayout.dataOffset(SLOTS) + RingLayout.LENGTH_OFFSET, length);
        return ring;
    }

    @Test
    void aNegativeRecordLengthIsAnError() {
        Ring ring = withRecordLength(-8);
        try {
            assertCorrupted(ring);
        } finally {
            ring.block().free();
        }
    }

    @Test
    void aHugeRecordLengthIsAnErrorNotAnAllocation() {
        Ring ring = withRecordLength(Integer.MAX_VALUE - 8);
        try {
            assertCorrupted(ring);
        } finally {
            ring.block().free();
        }
    }

    @Test
    void aClaimOfNoSlotIsAnErrorNotASpin() {
        Ring ring = Ring.create(SLOTS, SLOT_BYTES, 0, false);
        try {
            // A consumer's claim word at position 0 that spans 0 slots (lap 0, this pid).
            long claim = Long.MIN_VALUE | (1L << 62) | ((long) Ring.PID & ((1L << 22) - 1)) << 40;
            ring.block().segment().set(JAVA_LONG, RingLayout.seqOffset(), claim);
            assertCorrupted(ring);
        } finally {
            ring.block().free();
        }
    }

    @Test
    void aHeaderThatDoesNotFitItsBlockIsRefused() {
        Ring ring = Ring.create(SLOTS, SLOT_BYTES, 0, false);
        try {
            MemorySegment header = ring.block().segment();
            RingLayout.SLOTS.set(header, 1 << 20);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Ring.attach(ring.block()));
            assertTrue(e.getMessage().contains("do not fit"), e.getMessage());
            RingLayout.SLOTS.set(header, SLOTS);
            RingLayout.SLOT_BYTES.set(header, 7);
            assertThrows(IllegalStateException.class, () -> Ring.attach(ring.block()));
            RingLayout.SLOT_BYTES.set(header, SLOT_BYTES);
            RingLayout.MAGIC_FIELD.set(header, 0);
            assertThrows(IllegalStateException.class, () -> Ring.attach(ring.block()));
        } finally {
            ring.block().free();
        }
    }

    @Test
    void aGadgetInTheRingIsRefusedByTheOneDecoder() {
        Ring ring = Ring.create(SLOTS, 1024, 0, false);
        try (Arena arena = Arena.ofConfined()) {
            byte[] gadget = gadgetBytes();
            MemorySegment src = arena.allocate(gadget.length);
            MemorySegment.copy(gadget, 0, src, java.lang.foreign.ValueLayout.JAVA_BYTE, 0,
                    gadget.length);
            ring.put(src, gadget.length, 0, -1);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Messages.get(ring, 0));
            assertTrue(e.getMessage().contains("java.lang.Thread$State"), e.getMessage());
        } finally {
            ring.block().free();
        }
    }

    /** Fory bytes naming a class the policy refuses, as a peer without the policy writes. */
    private static byte[] gadgetBytes() {
        Fory fory = Fory.builder().withLanguage(Language.JAVA)
                .requireClassRegistration(false).withRefTracking(true).withCodegen(false)
                .build();
        return fory.serialize(new java.util.ArrayList<Object>(
                java.util.List.of(Thread.State.NEW)));
    }

    /** A name such as a large message's shared memory has (the only ones a record may give). */
    private static String largeMessageName() {
        return "mpq_" + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current()
                .nextLong() & 0xffff_ffff_ffffL);
    }

    /** Puts a large-message record naming shared memory {@code name} of {@code length}. */
    private static void putLargeRef(Ring ring, String name, long length) {
        try (Arena arena = Arena.ofConfined()) {
            byte[] utf8 = ("/" + name).getBytes(StandardCharsets.UTF_8);
            MemorySegment ref = arena.allocate(8 + utf8.length, 8);
            ref.set(JAVA_LONG, 0, length);
            MemorySegment.copy(utf8, 0, ref, java.lang.foreign.ValueLayout.JAVA_BYTE, 8,
                    utf8.length);
            ring.put(ref, ref.byteSize(), RingLayout.FLAG_LARGE, -1);
        }
    }

    @Test
    void aGadgetInALargeMessageIsRefusedByTheOneDecoder() throws Exception {
        String name = largeMessageName();
        Path file = Path.of("/dev/shm", name);
        Ring ring = Ring.create(SLOTS, 1024, 0, false);
        try {
            byte[] gadget = gadgetBytes();
            Files.createFile(file, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
            Files.write(file, gadget);
            putLargeRef(ring, name, gadget.length);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Messages.get(ring, 0));
            assertTrue(e.getMessage().contains("java.lang.Thread$State"), e.getMessage());
        } finally {
            Files.deleteIfExists(file);
            ring.block().free();
        }
    }

    @Test
    void aLargeMessageInSharedMemoryOthersMayWriteIsRefused() throws Exception {
        String name = largeMessageName();
        Path file = Path.of("/dev/shm", name);
        Ring ring = Ring.create(SLOTS, 1024, 0, false);
        try {
            Files.createFile(file);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
            Files.write(file, new byte[64]);
            putLargeRef(ring, name, 64);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Messages.get(ring, 0));
            assertTrue(e.getMessage().contains("mode 0644"), e.getMessage());
        } finally {
            Files.deleteIfExists(file);
            ring.block().free();
        }
    }

    /**
     * A large-message record is followed by an unlink of the name it gives: a record naming
     * shared memory that is not a large message's (a user's SharedMemory, a heap arena) is
     * refused and that memory left alone.
     */
    @Test
    void aLargeMessageRecordNamingOtherSharedMemoryIsRefusedAndLeavesItAlone() throws Exception {
        Ring ring = Ring.create(SLOTS, 1024, 0, false);
        try (multiprocessing.sharedmemory.SharedMemory user =
                multiprocessing.sharedmemory.SharedMemory.create(4096)) {
            Path file = Path.of("/dev/shm", user.name());
            multiprocessing.internal.heap.Block block = multiprocessing.internal.heap.Heap.allocate(64);
            Path arena = Path.of("/dev/shm", block.arenaName().substring(1));
            try {
                for (String name : new String[] {user.name(), block.arenaName().substring(1),
                        "mpq_", "mpq_zz", "mpq_1/../x"}) {
                    putLargeRef(ring, name, 64);
                    IllegalStateException e = assertThrows(IllegalStateException.class,
                            () -> Messages.get(ring, 0), name);
                    assertTrue(e.getMessage().contains("corrupted"), e.getMessage());
                }
                assertTrue(Files.exists(file), "the user's shared memory was unlinked");
                assertTrue(Files.exists(arena), "the heap arena was unlinked");
            } finally {
                block.free();
                Files.deleteIfExists(file);
            }
        } finally {
            ring.block().free();
        }
    }
}
