package multiprocessing.internal.heap;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;

/**
 * A block received from another process names an arena by its shared-memory name: only an
 * arena this user created for itself (owner this uid, mode 0600) is mapped.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HeapAttachTest {
    private static final long SIZE = 1 << 16;

    /** A name a heap arena could have: only those are looked at. */
    private static String freshName() {
        return Heap.NAME_PREFIX + Long.toHexString(
                java.util.concurrent.ThreadLocalRandom.current().nextLong() & 0xffff_ffff_ffffL);
    }

    @Test
    void anArenaOthersMayWriteIsRefused() throws Exception {
        String name = freshName();
        Path file = Path.of("/dev/shm", name);
        try {
            Files.createFile(file);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
            try (var ch = java.nio.channels.FileChannel.open(file,
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(SIZE);
                ch.write(java.nio.ByteBuffer.allocate(1), SIZE - 1);
            }
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Heap.instance().received("/" + name, SIZE, 0, 16));
            assertTrue(e.getMessage().contains("mode 0666"), e.getMessage());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void anArenaOfAnotherUserIsRefused() throws Exception {
        Assumptions.assumeTrue(System.getProperty("user.name").equals("root"),
                "only root can create an object as another user here");
        String name = freshName();
        Path file = Path.of("/dev/shm", name);
        try {
            // Mode 0600 like ours: only the owner differs.
            java.lang.Process p = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534",
                    "--clear-groups", "sh", "-c", "umask 077; truncate -s " + SIZE + " \"$1\"",
                    "sh", file.toString()).inheritIO().start();
            Assumptions.assumeTrue(p.waitFor() == 0, "setpriv could not run as nobody");
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Heap.instance().received("/" + name, SIZE, 0, 16));
            assertTrue(e.getMessage().contains("uid 65534"), e.getMessage());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * A message names the arena by its name: one outside the heap's (a user's SharedMemory,
     * a queue's large message) is refused before it is opened, however private it is.
     */
    @Test
    void aNameOutsideTheHeapIsRefused() throws Exception {
        try (multiprocessing.sharedmemory.SharedMemory shm =
                multiprocessing.sharedmemory.SharedMemory.create(SIZE)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Heap.instance().received("/" + shm.name(), SIZE, 0, 16));
            assertTrue(e.getMessage().contains("not a heap arena"), e.getMessage());
            shm.unlink();
        }
        for (String name : new String[] {"/mph_00ff", "/mph_xyz", "/mph_", "/mph_rabc", "/../etc"}) {
            assertThrows(IllegalStateException.class,
                    () -> Heap.instance().received(name, SIZE, 0, 16), name);
        }
    }

    /** A block must start where the heap starts blocks: never in the arena's holder counts. */
    @Test
    void aBlockInsideTheHolderCountsIsRefused() {
        Block mine = Heap.allocate(64, 8);
        try {
            long arenaSize = mine.arena().size();
            for (long offset : new long[] {0, 16, Holders.tableBytes(arenaSize) - 16,
                    mine.offset() + 8}) {
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> Heap.instance().received(mine.arenaName(), arenaSize, offset, 16));
                assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
            }
        } finally {
            mine.free();
        }
    }

    @Test
    void aBlockOutsideItsArenaIsRefusedWithoutOverflow() {
        Block mine = Heap.allocate(64, 8);
        try {
            assertThrows(IllegalStateException.class, () -> Heap.instance().received(
                    mine.arenaName(), 0, Long.MAX_VALUE - 8, 64));
        } finally {
            mine.free();
        }
    }
}
