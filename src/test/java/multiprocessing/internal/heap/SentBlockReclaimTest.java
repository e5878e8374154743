package multiprocessing.internal.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.Queue;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A dedicated block sent to another process is reclaimed once nobody holds it: a parent that
 * makes a Queue per job and sends it to a child kept every ring (4.5 MiB of /dev/shm each)
 * until it exited.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 900, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SentBlockReclaimTest {
    private static final int QUEUES = 10_000;
    /** Far below the 45 GiB the queues would take if none were reclaimed. */
    private static final int MAX_RINGS = 600;

    @Test
    void tenThousandQueuesSentToAChildAndDroppedKeepDevShmBounded() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection toChild = pipe.left();
            Connection fromParent = pipe.right();
            Process child = new Process(() -> {
                int received = 0;
                while (fromParent.recv() instanceof Queue<?> q) {
                    q.qsize(); // maps the ring here; then drops it
                    received++;
                }
                fromParent.send(received);
            });
            child.start();
            try {
                sendAndDrop(toChild, child);
            } finally {
                if (child.isAlive()) {
                    child.kill();
                    child.join();
                }
            }
        }
    }

    private static void sendAndDrop(Connection toChild, Process child) throws Exception {
        {
            int most = 0;
            for (int i = 0; i < QUEUES; i++) {
                toChild.send(new Queue<Integer>());
                if (i % 100 == 0) {
                    int rings = ringsOfThisProcess();
                    most = Math.max(most, rings);
                    // Fail early: unreclaimed, the rings would fill the machine's /dev/shm.
                    assertTrue(rings <= MAX_RINGS, "after " + i + " queues this process still"
                            + " has " + rings + " rings in /dev/shm; " + Heap.instance().reclaimState());
                }
            }
            toChild.send("done");
            assertEquals(QUEUES, toChild.recv());
            child.join();
            assertEquals(0, child.exitCode());
            assertTrue(most <= MAX_RINGS, "at most " + most + " rings at once");
        }
    }

    /** This process's dedicated arenas still in /dev/shm (a ring each, here). */
    private static int ringsOfThisProcess() {
        int n = 0;
        for (String name : Heap.ownedArenaNames()) {
            try {
                if (Files.size(Path.of("/dev/shm", name.substring(1))) >= Heap.DEDICATED_THRESHOLD) {
                    n++;
                }
            } catch (java.io.IOException gone) {
                // freed meanwhile
            }
        }
        return n;
    }
}
