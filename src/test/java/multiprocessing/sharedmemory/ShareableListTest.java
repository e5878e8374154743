package multiprocessing.sharedmemory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ShareableListTest {

    @Test
    void valuesOfEveryKindRoundTrip() throws Exception {
        ShareableList list = ShareableList.create(Arrays.asList(
                42, -7L, (short) 3, 2.5, 1.5f, true, false, "howdy", "", new byte[] {1, 2, 3},
                null, Long.MIN_VALUE));
        try {
            assertEquals(12, list.size());
            assertEquals(42L, ((Number) list.get(0)).longValue());
            assertInstanceOf(Long.class, list.get(0));
            assertEquals(-7L, list.get(1));
            assertEquals(3L, list.get(2));
            assertEquals(2.5, list.get(3));
            assertEquals(1.5, list.get(4));
            assertEquals(true, list.get(5));
            assertEquals(false, list.get(6));
            assertEquals("howdy", list.get(7));
            assertEquals("", list.get(8));
            assertArrayEquals(new byte[] {1, 2, 3}, (byte[]) list.get(9));
            assertNull(list.get(10));
            assertEquals(Long.MIN_VALUE, list.get(11));
            assertTrue(list.toString().contains("howdy"), list.toString());

            list.set(0, "8 bytes!"); // a number's 8 bytes hold a short string too
            assertEquals("8 bytes!", list.get(0));
            list.set(7, "hi");
            assertEquals("hi", list.get(7));
            list.set(10, 99);
            assertEquals(99L, list.get(10));
            list.set(9, null);
            assertNull(list.get(9));

            // "howdy" had 8 bytes of storage (its 5, rounded up to 8): 8 fit, 9 do not.
            list.set(7, "12345678");
            assertEquals("12345678", list.get(7));
            assertThrows(IllegalArgumentException.class, () -> list.set(7, "123456789"));
            assertThrows(IllegalArgumentException.class, () -> list.set(8, new byte[9]));
            list.set(8, new byte[8]); // "" had a number's 8 bytes
            assertArrayEquals(new byte[8], (byte[]) list.get(8));
            list.set(8, "");
            list.set(7, "hi");
            IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
                    () -> list.set(7, "a string far longer than its slot"));
            assertTrue(tooBig.getMessage().contains("room"), tooBig.getMessage());
            assertEquals("hi", list.get(7), "unchanged after a failed set");
            assertThrows(IllegalArgumentException.class, () -> list.set(1, new Object()));
            assertEquals(-7L, list.get(1));
            assertThrows(IndexOutOfBoundsException.class, () -> list.get(12));
            assertThrows(IndexOutOfBoundsException.class, () -> list.get(-1));
            assertThrows(IndexOutOfBoundsException.class, () -> list.set(12, 1));
            assertThrows(IllegalArgumentException.class,
                    () -> ShareableList.create(List.of(new java.math.BigInteger("1").shiftLeft(70))));
        } finally {
            list.close();
            list.shm().unlink();
        }
        assertThrows(IllegalStateException.class, () -> list.get(0));
    }

    @Test
    void anotherProcessSeesAndChangesTheSameList() throws Exception {
        ShareableList list = ShareableList.create(Arrays.asList(1, "parent", null, 0.0));
        String name = list.shm().name();
        try {
            Process p = new Process(() -> {
                try (ShareableList mine = ShareableList.attach(name)) {
                    if (!"parent".equals(mine.get(1)) || mine.size() != 4) {
                        throw new AssertionError("by name: " + mine);
                    }
                    mine.set(1, "child!");
                }
                // Captured by the target: the same memory, attached by name on arrival.
                list.set(0, ((Number) list.get(0)).longValue() + 1);
                list.set(2, new byte[] {9});
                list.set(3, 3.25);
            });
            p.start();
            p.join();
            assertEquals(0, p.exitCode());
            assertEquals(2L, list.get(0));
            assertEquals("child!", list.get(1));
            assertArrayEquals(new byte[] {9}, (byte[]) list.get(2));
            assertEquals(3.25, list.get(3));
        } finally {
            list.close();
            list.shm().unlink();
        }
    }

    /**
     * An item's storage is stored as an int: one that would round up past the largest multiple
     * of 8 an int holds is refused at creation (it was stored negative, and the list could be
     * neither written nor attached; attack 27). The arithmetic alone: such an item takes 2 GiB
     * of heap twice and of /dev/shm once.
     */
    @Test
    void anItemTooLargeForItsStorageFieldIsRefusedAtCreation() {
        assertEquals(2_147_483_640L, ShareableList.capacity(0, 2_147_483_640L));
        assertEquals(8, ShareableList.capacity(0, 0));
        assertEquals(16, ShareableList.capacity(0, 9));
        for (long size : new long[] {2_147_483_641L, 2_147_483_645L, Integer.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ShareableList.capacity(3, size));
            assertTrue(e.getMessage().contains("item 3 takes " + size + " bytes"), e.getMessage());
        }
    }

    /** Anything that is not a ShareableList is refused at attach, with the segment left alone. */
    @Test
    void attachingSomethingElseIsAClearError() throws Exception {
        assertThrows(java.nio.file.NoSuchFileException.class,
                () -> ShareableList.attach("/nonexistent-" + System.nanoTime()));
        try (SharedMemory plain = SharedMemory.create(64)) {
            try {
                // All zeroes: it used to attach as an empty list.
                IOException e = assertThrows(IOException.class, () -> ShareableList.attach(plain.name()));
                assertTrue(e.getMessage().contains("does not hold a ShareableList"), e.getMessage());
                // A count whose size overflows: it used to attach with size() -1431655765.
                plain.buf().set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 0x0AAAAAAAAAAAAAABL);
                plain.buf().set(java.lang.foreign.ValueLayout.JAVA_LONG, 8, ShareableList.MAGIC_VALUE);
                e = assertThrows(IOException.class, () -> ShareableList.attach(plain.name()));
                assertTrue(e.getMessage().contains("does not hold a ShareableList"), e.getMessage());
                // One item whose data lies outside the segment.
                plain.buf().set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 1L);
                plain.buf().set(java.lang.foreign.ValueLayout.JAVA_LONG, 16, 1L << 40);
                plain.buf().set(java.lang.foreign.ValueLayout.JAVA_INT, 24, 8);
                plain.buf().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 32, (byte) 1);
                e = assertThrows(IOException.class, () -> ShareableList.attach(plain.name()));
                assertTrue(e.getMessage().contains("item 0 is corrupt"), e.getMessage());
                assertTrue(java.nio.file.Files.exists(java.nio.file.Path.of("/dev/shm", plain.name())),
                        "a failed attach leaves the segment");
            } finally {
                plain.unlink();
            }
        }
        multiprocessing.internal.heap.Block block = multiprocessing.internal.heap.Heap.allocate(16);
        try {
            String arena = block.arenaName().substring(1);
            IOException e = assertThrows(IOException.class, () -> ShareableList.attach(arena));
            assertTrue(e.getMessage().contains("does not hold a ShareableList"), e.getMessage());
            assertTrue(java.nio.file.Files.exists(java.nio.file.Path.of("/dev/shm", arena)));
        } finally {
            block.free();
        }
        ShareableList empty = ShareableList.create(List.of());
        try (ShareableList again = ShareableList.attach(empty.shm().name())) {
            assertEquals(0, again.size());
        } finally {
            empty.close();
            empty.shm().unlink();
        }
    }
}
