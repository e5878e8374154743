package multiprocessing.managers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Large requests and large replies both ways, from more threads than a connection's rings hold
 * calls for: the server's thread for the connection waits for room for a reply while the
 * client's senders wait for room for their requests. Some caller that has sent must read the
 * replies, or both sides wait for good (attack of the sixteenth session: 64 threads putting 15
 * KB values into a dict, each reply the value before, 500 calls each, hung every time, over
 * rings and over the socket; the reading turn is the same on both).
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(180)
class ManagerFlowTest {
    private static final int THREADS = 64;
    private static final int CALLS = 500;

    @Test
    void largeCallsBothWaysFromManyThreadsAllFinish() throws Exception {
        SyncManager m = Multiprocessing.getContext("spawn").manager();
        try {
            DictProxy<Integer, byte[]> d = m.dict();
            AtomicInteger done = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int k = t % 8;
                Thread th = new Thread(() -> {
                    for (int i = 0; i < CALLS; i++) {
                        d.put(k, new byte[15_000]);
                        done.incrementAndGet();
                    }
                });
                th.setDaemon(true);
                th.start();
                threads.add(th);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            for (Thread th : threads) {
                th.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            }
            assertEquals(THREADS * CALLS, done.get(), "calls finished within 90 s ("
                    + threads.stream().filter(Thread::isAlive).count() + " threads still in one)");
            assertEquals(15_000, d.get(3).length);
        } finally {
            m.shutdown();
        }
    }
}
