package multiprocessing.sharedmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.ParentHarness;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A full /dev/shm (Docker's default is 64 MiB): shared memory is reserved when it is created,
 * so what does not fit fails then, naming /dev/shm's size, instead of a SIGBUS at a later
 * access; and a lock still travels to a child when there is no room left even for the receipts
 * of what a process holds. A parent JVM runs in a mount namespace of its own where /dev/shm is an 8 MiB tmpfs
 * (unshare and mount need root or CAP_SYS_ADMIN; the test is skipped, saying so, without).
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FullSharedMemoryTest {

    private static boolean smallShmPossible() {
        try {
            java.lang.Process p = new ProcessBuilder("unshare", "-m", "sh", "-c",
                    "mount -t tmpfs -o size=8m tmpfs /dev/shm").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void whatDoesNotFitFailsAtCreationOrPutNamingDevShmsSize() throws Exception {
        Assumptions.assumeTrue(smallShmPossible(), "cannot mount a small tmpfs on /dev/shm in a"
                + " mount namespace here (unshare -m and mount need root or CAP_SYS_ADMIN)");
        // A SIGBUS would end the JVM with 134 (abort after hs_err) or 135 before these lines.
        String out = runOnSmallShm("full-shm");
        String shm = line(out, "shm: ");
        assertTrue(shm.startsWith("IOException") && shm.contains("/dev/shm (8192 KiB"), shm);
        String heap = line(out, "heap: ");
        assertTrue(heap.contains("/dev/shm (8192 KiB") && heap.contains("free"), heap);
        String queue = line(out, "queue: ");
        assertTrue(queue.contains("/dev/shm (8192 KiB"), queue);
        assertEquals("small", line(out, "after: "), "the queue still works: " + out);
        assertEquals("ok", line(out, "receipts: "), "a lock travels on a full /dev/shm: " + out);
    }

    @Test
    void smallObjectsRefusedWhileItIsFullAreMadeOnceThereIsRoom() throws Exception {
        Assumptions.assumeTrue(smallShmPossible(), "cannot mount a small tmpfs on /dev/shm in a"
                + " mount namespace here (unshare -m and mount need root or CAP_SYS_ADMIN)");
        String out = runOnSmallShm("arena-after-full");
        assertEquals("6", line(out, "refused "), out);
        assertEquals("ok", line(out, "then: "), out);
        assertEquals("ok (8 made)", line(out, "smaller: "), out);
    }

    /**
     * Objects made and dropped, many times what /dev/shm holds: their memory is found by a GC
     * before a new one is refused (the third 4 MiB queue was refused on 8 MiB, the 13th on
     * Docker's 64, while the ones before were garbage; attack 27b).
     */
    @Test
    void droppedObjectsAreReclaimedBeforeAFullDevShmRefusesANewOne() throws Exception {
        Assumptions.assumeTrue(smallShmPossible(), "cannot mount a small tmpfs on /dev/shm in a"
                + " mount namespace here (unshare -m and mount need root or CAP_SYS_ADMIN)");
        assertEquals("ok", line(runOnSmallShm("dropped-objects"), "dropped: "));
    }

    /**
     * A manager's reply and a request that find no room in /dev/shm for their large message
     * fail alone, saying so: the reply was dropped and its caller waited for good; the request
     * ended the connection, and with it the lock its process held (review 51).
     */
    @Test
    void aManagersCallsThatFindNoRoomFailAloneAndTheConnectionStays() throws Exception {
        Assumptions.assumeTrue(smallShmPossible(), "cannot mount a small tmpfs on /dev/shm in a"
                + " mount namespace here (unshare -m and mount need root or CAP_SYS_ADMIN)");
        String out = runOnSmallShm("manager-full-shm");
        assertTrue(line(out, "get: ").startsWith("ProcessError naming /dev/shm"), out);
        assertTrue(line(out, "put: ").startsWith("ProcessError naming /dev/shm"), out);
        assertEquals("true", line(out, "small: "), out);
        assertEquals("ok", line(out, "release: "), out);
        assertEquals("200000", line(out, "after: "), out);
    }

    /** Runs the harness in {@code mode} on an 8 MiB /dev/shm of its own; its output. */
    private static String runOnSmallShm(String mode) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String command = "mount -t tmpfs -o size=8m tmpfs /dev/shm && exec \"$0\" \"$@\"";
        java.lang.Process parent = new ProcessBuilder(List.of("unshare", "-m", "sh", "-c", command,
                java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), ParentHarness.class.getName(),
                mode)).start();
        String out = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(parent.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(parent.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, parent.exitValue(), out + err);
        return out;
    }

    private static String line(String out, String prefix) {
        return out.lines().filter(l -> l.startsWith(prefix)).findFirst()
                .map(l -> l.substring(prefix.length())).orElse("no line " + prefix + " in: " + out);
    }
}
