package multiprocessing.sharedmemory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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

    /**
     * Python's {@code index}, {@code count}, iteration and repr, as its documentation's
     * example uses them (review 54: none was there, and bytes printed as a list of numbers).
     */
    @Test
    void indexCountIterationAndReprAsInPython() throws Exception {
        ShareableList a = ShareableList.create(Arrays.asList(
                "howdy", "HoWdY".getBytes(StandardCharsets.US_ASCII), -273.154, 100, null, true,
                42, "it's"));
        try {
            assertEquals(6, a.index(42));
            assertEquals(6, a.index(42L));
            assertEquals(3, a.index(100.0), "100 == 100.0, as in Python");
            assertEquals(4, a.index(null));
            assertEquals(1, a.count("HoWdY".getBytes(StandardCharsets.US_ASCII)));
            assertEquals(0, a.count(1), "True is no number here");
            assertEquals(1, a.count(true));
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                    () -> a.index("nope"));
            assertEquals("'nope' not in this container", missing.getMessage());
            List<Object> items = new ArrayList<>();
            a.forEach(items::add);
            assertEquals(8, items.size());
            assertEquals("howdy", items.get(0));
            assertEquals(List.of(100L), items.subList(3, 4));
            assertEquals("ShareableList(['howdy', b'HoWdY', -273.154, 100, None, True, 42,"
                    + " \"it's\"], name='" + a.shm().name() + "')", a.toString());
        } finally {
            a.close();
            a.shm().unlink();
        }
    }

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
            list.set(8, new byte[8]); // "" had 8 bytes
            assertArrayEquals(new byte[8], (byte[]) list.get(8), "trailing NULs kept");
            list.set(8, "");
            list.set(7, "hi");
            IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
                    () -> list.set(7, "a string far longer than its slot"));
            assertTrue(tooBig.getMessage().contains("room"), tooBig.getMessage());
            assertEquals("hi", list.get(7), "unchanged after a failed set");
            assertThrows(IllegalArgumentException.class, () -> list.set(1, new Object()));
            assertEquals(-7L, list.get(1));
            assertThrows(IndexOutOfBoundsException.class, () -> list.get(12));
            assertEquals(Long.MIN_VALUE, list.get(-1), "from the end, as in Python");
            assertThrows(IndexOutOfBoundsException.class, () -> list.get(-13));
            assertThrows(IndexOutOfBoundsException.class, () -> list.set(12, 1));
            list.set(-12, 5);
            assertEquals(5L, list.get(0));
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
     * An item's storage as CPython computes it: 8 for a number, and for a string or bytes of n
     * bytes 8 (n / 8 + 1), so that "12345678" gets 16 (it got 8 here, and a 9-byte string did
     * not fit where CPython's does; review 48). At most 9,999,991 bytes: CPython writes the
     * storage's size in a format of 8 characters.
     */
    @Test
    void anItemsStorageIsCPythonsAndItsLimitToo() {
        assertEquals(8, ShareableList.capacity(0, 0));
        assertEquals(8, ShareableList.capacity(0, 7));
        assertEquals(16, ShareableList.capacity(0, 8));
        assertEquals(16, ShareableList.capacity(0, 9));
        assertEquals(9_999_992, ShareableList.capacity(0, ShareableList.MAX_ITEM_BYTES));
        assertEquals("9999992s".length(), 8);
        for (long size : new long[] {ShareableList.MAX_ITEM_BYTES + 1L, Integer.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ShareableList.capacity(3, size));
            assertTrue(e.getMessage().contains("item 3 takes " + size + " bytes"), e.getMessage());
        }
    }

    /**
     * Strings and bytes keep their trailing NUL bytes, which CPython's ShareableList strips
     * (cpython#96779), also after other writes to the same item.
     */
    @Test
    void trailingNulBytesAreKept() throws Exception {
        ShareableList list = ShareableList.create(Arrays.asList(new byte[] {0, 1, 0, 0},
                "a\0", 7));
        try (ShareableList other = ShareableList.attach(list.shm().name())) {
            assertArrayEquals(new byte[] {0, 1, 0, 0}, (byte[]) other.get(0));
            assertEquals("a\0", other.get(1));
            other.set(0, new byte[] {5, 0});
            assertArrayEquals(new byte[] {5, 0}, (byte[]) list.get(0));
            other.set(0, 3);
            other.set(0, new byte[] {0});
            assertArrayEquals(new byte[] {0}, (byte[]) list.get(0));
            other.set(2, "\0\0\0\0\0\0\0\0");
            assertEquals("\0".repeat(8), list.get(2));
        } finally {
            list.close();
            list.shm().unlink();
        }
    }

    /**
     * A segment made shorter under the list (another process truncated it) fails each use with
     * IllegalStateException saying so; it threw InternalError, an Error (attack 44).
     */
    @Test
    void aSegmentTruncatedUnderTheListFailsClearly() throws Exception {
        ShareableList list = ShareableList.create(Arrays.asList(1, "x".repeat(20_000)));
        try {
            java.nio.file.Path file = java.nio.file.Path.of("/dev/shm",
                    list.shm().name().replaceFirst("^/", ""));
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(0);
            }
            for (org.junit.jupiter.api.function.Executable use : List.<org.junit.jupiter.api
                    .function.Executable>of(list::size, () -> list.get(1), () -> list.set(0, 2))) {
                IllegalStateException e = assertThrows(IllegalStateException.class, use);
                assertTrue(e.getMessage().contains("was made shorter"), e.getMessage());
            }
        } finally {
            list.close();
            list.shm().unlink();
        }
    }

    /** python3's multiprocessing.shared_memory, or the test is skipped (and says so). */
    private static void needsPython() throws Exception {
        try {
            java.lang.Process p = new ProcessBuilder("python3", "-c",
                    "import multiprocessing.shared_memory").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            org.junit.jupiter.api.Assumptions.assumeTrue(p.waitFor() == 0,
                    "python3 has no multiprocessing.shared_memory: interop not tested");
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.abort("python3 is not installed: interop not tested");
        }
    }

    /** Runs {@code script} with python3 and {@code args}; its standard output. */
    private static String python(String script, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("python3", "-c", script));
        command.addAll(List.of(args));
        java.lang.Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python3 did not end");
        assertEquals(0, p.exitValue(), out);
        return out.strip();
    }

    /**
     * A list made here is CPython's ShareableList too: python3 attaches it, reads every kind of
     * value and writes some, and this process reads what it wrote (the layout was this
     * library's own, which neither could read; review 48).
     */
    @Test
    void cpythonAttachesAListMadeHereAndWritesIt() throws Exception {
        needsPython();
        ShareableList list = ShareableList.create(Arrays.asList(42, 2.5, true, false, "héllo",
                new byte[] {1, 2}, null, "x", 9));
        try {
            String seen = python("""
                    import sys
                    from multiprocessing import resource_tracker
                    from multiprocessing.shared_memory import ShareableList
                    sl = ShareableList(name=sys.argv[1])
                    # 3.11 tracks an attached segment too, and would unlink it at its exit.
                    resource_tracker.unregister(sl.shm._name, "shared_memory")
                    print(repr(list(sl)))
                    sl[0] = -5
                    sl[1] = "a str"
                    sl[6] = b"by"
                    sl[7] = None
                    sl[8] = 1.25
                    sl.shm.close()
                    """, list.shm().name());
            assertEquals("[42, 2.5, True, False, 'héllo', b'\\x01\\x02', None, 'x', 9]", seen);
            assertEquals(-5L, list.get(0));
            assertEquals("a str", list.get(1));
            assertArrayEquals("by".getBytes(), (byte[]) list.get(6));
            assertNull(list.get(7));
            assertEquals(1.25, list.get(8));
            assertEquals(true, list.get(2));
        } finally {
            list.close();
            list.shm().unlink();
        }
    }

    /** A list CPython made is attached here, read and written, and CPython reads the writes. */
    @Test
    void aListCPythonMadeIsAttachedHere() throws Exception {
        needsPython();
        java.lang.Process p = new ProcessBuilder("python3", "-c", """
                import sys
                from multiprocessing.shared_memory import ShareableList
                sl = ShareableList([7, 1.5, True, "abc", b"xyz", None, "longer text"])
                print(sl.shm.name, flush=True)
                sys.stdin.readline()
                print(repr(list(sl)), flush=True)
                sl.shm.close()
                sl.shm.unlink()
                """).start();
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(
                    p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
            String name = out.readLine();
            try (ShareableList list = ShareableList.attach(name)) {
                assertEquals(7, list.size());
                assertEquals(List.of(7L, 1.5, true, "abc"), Arrays.asList(list.get(0),
                        list.get(1), list.get(2), list.get(3)));
                assertArrayEquals("xyz".getBytes(), (byte[]) list.get(4));
                assertNull(list.get(5));
                assertEquals("longer text", list.get(6));
                list.set(0, "str!");
                list.set(3, false);
                list.set(5, 2.75);
                list.set(6, new byte[] {0, 9});
                assertThrows(IllegalArgumentException.class,
                        () -> list.set(4, "more than 8 b"));
            }
            p.getOutputStream().write('\n');
            p.getOutputStream().flush();
            assertEquals("['str!', 1.5, True, False, b'xyz', 2.75, b'\\x00\\t']", out.readLine());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
    }

    /** Anything that is not a ShareableList is refused at attach, with the segment left alone. */
    @Test
    void attachingSomethingElseIsAClearError() throws Exception {
        assertThrows(java.nio.file.NoSuchFileException.class,
                () -> ShareableList.attach("/nonexistent-" + System.nanoTime()));
        try (SharedMemory plain = SharedMemory.create(64)) {
            try {
                // All zeroes: it used to attach as an empty list (CPython's empty list takes 16
                // bytes, not 64).
                IOException e = assertThrows(IOException.class,
                        () -> ShareableList.attach(plain.name()));
                assertTrue(e.getMessage().contains("does not hold a ShareableList"), e.getMessage());
                // A count whose size overflows: it used to attach with size() -1431655765.
                plain.buf().set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 0x0AAAAAAAAAAAAAABL);
                e = assertThrows(IOException.class, () -> ShareableList.attach(plain.name()));
                assertTrue(e.getMessage().contains("does not hold a ShareableList"), e.getMessage());
                // One item whose storage lies outside the segment.
                plain.buf().set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 1L);
                plain.buf().set(java.lang.foreign.ValueLayout.JAVA_LONG, 8, 0L);
                plain.buf().set(java.lang.foreign.ValueLayout.JAVA_LONG, 16, 1L << 40);
                e = assertThrows(IOException.class, () -> ShareableList.attach(plain.name()));
                assertTrue(e.getMessage().contains("does not hold a ShareableList"), e.getMessage());
                // One item of 8 bytes, in a segment of the size CPython's layout needs (41
                // bytes), whose format is none a ShareableList writes.
                try (SharedMemory one = SharedMemory.create(41)) {
                    try {
                        one.buf().set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 1L);
                        one.buf().set(java.lang.foreign.ValueLayout.JAVA_LONG, 16, 8L);
                        one.buf().set(java.lang.foreign.ValueLayout.JAVA_LONG, 24, 42L);
                        one.buf().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 32, (byte) 'q');
                        try (ShareableList fine = ShareableList.attach(one.name())) {
                            assertEquals(42L, fine.get(0), "CPython's layout, read");
                        }
                        one.buf().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 32, (byte) 'z');
                        e = assertThrows(IOException.class, () -> ShareableList.attach(one.name()));
                        assertTrue(e.getMessage().contains("item 0 has format 'z'"), e.getMessage());
                    } finally {
                        one.unlink();
                    }
                }
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
