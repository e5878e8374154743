package multiprocessing.sharedmemory;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedMemoryTest {

    /** This process's mappings of shared-memory object {@code name}, from /proc/self/maps. */
    private static long mappings(String name) throws Exception {
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(l -> l.endsWith("/dev/shm/" + name)
                    || l.endsWith("/dev/shm/" + name + " (deleted)")).count();
        }
    }

    /**
     * A SharedMemory that arrived from another process (here: serialized and read back, as a
     * task's captured one arrives in a pool worker) is unmapped once it is unreachable, as
     * Python's __del__ closes it: a worker kept every job's mapped, and an unlinked one's memory
     * in /dev/shm, for as long as the pool lived (review 43). One closed explicitly is unmapped
     * once, its segments then refused.
     */
    @Test
    void aReceivedSharedMemoryIsUnmappedOnceUnreachable() throws Exception {
        SharedMemory shm = SharedMemory.create(1 << 20);
        try {
            byte[] sent = multiprocessing.internal.reduction.Serialization.serialize(shm);
            SharedMemory received =
                    (SharedMemory) multiprocessing.internal.reduction.Serialization.deserialize(sent);
            received.buf().set(JAVA_INT, 0, 7);
            assertEquals(7, shm.buf().get(JAVA_INT, 0));
            assertEquals(2, mappings(shm.name()));
            received = null;
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (mappings(shm.name()) > 1 && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(20);
            }
            assertEquals(1, mappings(shm.name()), "the received one is still mapped");

            SharedMemory closed =
                    (SharedMemory) multiprocessing.internal.reduction.Serialization.deserialize(sent);
            java.lang.foreign.MemorySegment b = closed.buf();
            closed.close();
            closed.close();
            assertThrows(IllegalStateException.class, () -> b.get(JAVA_INT, 0));
            assertEquals(1, mappings(shm.name()));
        } finally {
            shm.close();
            shm.unlink();
        }
    }

    private static String uniqueName(String what) {
        return "mpj_test_" + what + "_" + ProcessHandle.current().pid() + "_" + System.nanoTime();
    }

    @Test
    void createAttachWriteReadCloseUnlink() throws Exception {
        SharedMemory shm = SharedMemory.create(4096);
        try {
            assertTrue(shm.name().matches("psm_[0-9a-f]{8}"), shm.name());
            assertEquals(4096, shm.size());
            assertEquals(4096, shm.buf().byteSize());
            assertEquals(0, shm.buf().get(JAVA_LONG, 4088), "fresh memory is zero");
            assertTrue(Files.exists(Path.of("/dev/shm", shm.name())));
            assertEquals("rw-------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(Path.of("/dev/shm", shm.name()))));
            shm.buf().set(JAVA_INT, 100, 0xCAFE);
            try (SharedMemory other = SharedMemory.attach(shm.name())) {
                assertEquals(4096, other.size());
                assertEquals(0xCAFE, other.buf().get(JAVA_INT, 100));
                other.buf().set(JAVA_INT, 200, 7);
            }
            assertEquals(7, shm.buf().get(JAVA_INT, 200));
            assertTrue(shm.toString().contains(shm.name()));
        } finally {
            shm.close();
            shm.close();
            shm.unlink();
        }
        assertThrows(IllegalStateException.class, shm::buf);
        assertEquals(4096, shm.size(), "size and name survive close");
        assertThrows(NoSuchFileException.class, () -> SharedMemory.attach(shm.name()));
        assertThrows(NoSuchFileException.class, shm::unlink);
        assertFalse(Files.exists(Path.of("/dev/shm", shm.name())));
    }

    @Test
    void segmentsObtainedBeforeCloseFailCleanlyAfterIt() throws Exception {
        try (SharedMemory shm = SharedMemory.create(64)) {
            var buf = shm.buf();
            shm.close();
            assertThrows(IllegalStateException.class, () -> buf.get(JAVA_INT, 0));
            shm.unlink();
        }
    }

    @Test
    void namedSegmentsAndLeadingSlash() throws Exception {
        String name = uniqueName("named");
        try (SharedMemory shm = SharedMemory.create(name, 100)) {
            assertEquals(name, shm.name());
            assertEquals(100, shm.size());
            assertTrue(Files.exists(Path.of("/dev/shm", name)));
            FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
                    () -> SharedMemory.create(name, 100));
            assertTrue(e.getMessage().contains(name), e.getMessage());
            // As in Python, a name may be given with its leading "/"; it is the same object.
            try (SharedMemory slash = SharedMemory.attach("/" + name)) {
                assertEquals("/" + name, slash.name());
                slash.buf().set(JAVA_INT, 0, 99);
            }
            assertEquals(99, shm.buf().get(JAVA_INT, 0));
            shm.unlink();
        }
    }

    @Test
    void badSizesAndNames() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.create(0));
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.create(-1));
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.create(uniqueName("z"), 0));
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.create("", 10));
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.create("a\nb", 10));
        // shm_open's one '/' is in front: "/" alone and one inside are refused by name.
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.create("/", 10));
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.create("a/b", 10));
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.attach("//a"));
        // Not "exists": they name /dev/shm itself and its parent.
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.create(".", 10));
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.create("/..", 10));
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.attach(".."));
        String missing = uniqueName("missing");
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> SharedMemory.attach(missing));
        assertTrue(e.getMessage().contains(missing), e.getMessage());
        assertFalse(Files.exists(Path.of("/dev/shm", missing)), "a failed attach creates nothing");
    }

    @Test
    void aFailedAttachNeverUnlinks() throws Exception {
        // An attach that fails after opening (here: a zero-size object) leaves the name alone.
        String name = uniqueName("empty");
        Files.createFile(Path.of("/dev/shm", name));
        try {
            assertThrows(java.io.IOException.class, () -> SharedMemory.attach(name));
            assertTrue(Files.exists(Path.of("/dev/shm", name)));
        } finally {
            Files.delete(Path.of("/dev/shm", name));
        }
    }

    /**
     * One child sees the same memory three ways: captured by its target, attached by name, and
     * received through a pipe; each side sees the other's writes. The child's exit (it only
     * attached) leaves every segment in place.
     */
    @Test
    void childSeesTheSameMemoryCapturedAttachedAndSent() throws Exception {
        String named = uniqueName("child");
        try (SharedMemory captured = SharedMemory.create(256);
                SharedMemory byName = SharedMemory.create(named, 256);
                SharedMemory sent = SharedMemory.create(1 << 20);
                Pipe pipe = Pipe.open()) {
            captured.buf().set(JAVA_INT, 0, 1);
            byName.buf().set(JAVA_INT, 0, 2);
            sent.buf().set(JAVA_INT, (1 << 20) - 4, 3);
            Connection toChild = pipe.left();
            Connection fromParent = pipe.right();
            Process p = new Process(() -> {
                if (captured.buf().get(JAVA_INT, 0) != 1) {
                    throw new AssertionError("captured: parent's write not seen");
                }
                captured.buf().set(JAVA_INT, 4, 11);
                try (SharedMemory mine = SharedMemory.attach(named)) {
                    if (mine.buf().get(JAVA_INT, 0) != 2) {
                        throw new AssertionError("by name: parent's write not seen");
                    }
                    mine.buf().set(JAVA_INT, 4, 22);
                }
                SharedMemory received = (SharedMemory) fromParent.recv();
                if (received.size() != 1 << 20
                        || received.buf().get(JAVA_INT, (1 << 20) - 4) != 3) {
                    throw new AssertionError("sent: parent's write not seen");
                }
                received.buf().set(JAVA_INT, 4, 33);
                received.close();
                fromParent.send("done");
            });
            p.start();
            toChild.send(sent);
            assertEquals("done", toChild.recv());
            p.join();
            assertEquals(0, p.exitCode());
            assertEquals(11, captured.buf().get(JAVA_INT, 4));
            assertEquals(22, byName.buf().get(JAVA_INT, 4));
            assertEquals(33, sent.buf().get(JAVA_INT, 4));
            // The child merely attached: its exit unlinked nothing.
            Thread.sleep(300);
            for (SharedMemory s : new SharedMemory[] {captured, byName, sent}) {
                assertTrue(Files.exists(Path.of("/dev/shm", s.name())), s.name());
                s.unlink();
            }
        }
    }

    @Test
    void sendingAnUnlinkedSegmentFailsClearlyOnArrival() throws Exception {
        try (SharedMemory shm = SharedMemory.create(64)) {
            byte[] bytes = multiprocessing.internal.reduction.Serialization.serialize(shm);
            shm.unlink();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> multiprocessing.internal.reduction.Serialization.deserialize(bytes));
            StringBuilder chain = new StringBuilder();
            for (Throwable t = e; t != null; t = t.getCause()) {
                chain.append(t.getMessage()).append('\n');
            }
            assertTrue(chain.toString().contains("cannot attach the shared memory '"
                    + shm.name() + "'"), chain.toString());
            // The message itself says so (it used to say only that the bytes "are not an
            // object this library serialized", the reason three causes down).
            assertTrue(e.getMessage().contains("cannot attach the shared memory '" + shm.name()
                    + "'") && e.getMessage().contains("no shared memory segment"), e.getMessage());

            // The same in a child that receives it: a clear exception from recv(), no crash.
            try (Pipe pipe = Pipe.open(true)) {
                Connection toParent = pipe.right();
                Process child = new Process(() -> {
                    try {
                        toParent.send("received " + toParent.recv());
                    } catch (IllegalStateException refused) {
                        toParent.send(refused.getMessage());
                    }
                });
                child.start();
                pipe.left().send(shm);
                String answer = (String) pipe.left().recv();
                child.join();
                assertEquals(0, child.exitCode());
                child.close();
                assertTrue(answer.contains("cannot attach the shared memory '" + shm.name() + "'"),
                        answer);
            }
        }
    }
}
