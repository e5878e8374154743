package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import multiprocessing.sharedctypes.Value;
import multiprocessing.synchronize.Event;
import multiprocessing.synchronize.Lock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Many processes alive at once (issue 15's "200 processes"), each holding synchronization
 * objects shared with the parent: all run to the end, and nothing they used is left behind.
 */
@ExtendWith(NoLeftoverProcesses.class)
@ExtendWith(NoLeftoverSharedMemory.class)
@Timeout(600)
class ManyProcessesTest {
    private static final int PROCESSES = 200;

    /**
     * The test is about how many processes there are, not about what a JVM gets by default, so
     * each child is kept small and cheap to start: C1 alone spends a third less CPU starting a
     * JVM (measured: ~540 ms a child against ~900 ms), and a small first heap takes ~15 MB less
     * memory a child (~42 MB PSS each then, 8.5 GB for the 200 as measured; with default
     * heaps they would want ~12 GB).
     */
    private static final Context SMALL = Multiprocessing.getContext("spawn")
            .withJvmOptions("-Xss256k", "-XX:TieredStopAtLevel=1", "-Xms8m", "-Xmx64m");

    /** What 200 such children take, with room to spare (measured ~42 MB PSS each). */
    private static final long NEEDED_BYTES = PROCESSES * (56L << 20);

    private static long memAvailable() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemAvailable:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) << 10;
            }
        }
        return Long.MAX_VALUE; // an old kernel that does not say: try
    }

    @Test
    void twoHundredProcessesAliveAtOnceEachWithALockAQueueAndAValueRunToTheEnd()
            throws Exception {
        long available = memAvailable();
        assumeTrue(available >= NEEDED_BYTES, "200 child JVMs need about "
                + (NEEDED_BYTES >> 20) + " MiB of memory; this machine has "
                + (available >> 20) + " MiB available");
        Lock lock = new Lock();
        // Not Value.of("i", 0, lock): the value's accessors take the value's own lock, and a
        // Lock is not reentrant (in Python too), so the child would wait for itself.
        Value count = Value.of("i", 0);
        Queue<Long> reports = new Queue<>();
        Event go = new Event();

        // One child first, so that what the JVM and the library open once (the class server,
        // the resource tracker, the queue's reading end) is open before the count.
        Process first = SMALL.process(() -> reports.put(ProcessHandle.current().pid()));
        first.start();
        assertEquals(first.pid(), reports.get(Duration.ofMinutes(2)));
        first.join();
        assertEquals(0, first.exitCode());
        first.close();
        Map<String, Integer> fdsBefore = OpenDescriptors.byKind();
        Set<String> shmBefore = NoLeftoverSharedMemory.names();

        long started = System.nanoTime();
        long childCpu = CpuTimes.reapedChildren();
        long ownCpu = CpuTimes.self();
        List<Process> processes = new ArrayList<>();
        for (int i = 0; i < PROCESSES; i++) {
            // Daemons: should the test fail or this JVM die, none is left waiting for go.
            Process p = Process.builder().daemon(true).context(SMALL).target(() -> {
                lock.lock();
                try {
                    count.value((Integer) count.value() + 1);
                } finally {
                    lock.unlock();
                }
                reports.put(ProcessHandle.current().pid());
                // Set only once all have reported: every child is alive until then.
                if (!go.await(Duration.ofMinutes(10))) {
                    throw new IllegalStateException("no go after 10 minutes");
                }
                if ((Integer) count.value() != PROCESSES) {
                    throw new IllegalStateException("count is " + count.value() + " after go");
                }
            }).build();
            p.start();
            processes.add(p);
        }
        Set<Long> reported = new HashSet<>();
        for (int i = 0; i < PROCESSES; i++) {
            reported.add(reports.get(Duration.ofMinutes(5)));
        }
        long allAlive = System.nanoTime();
        int fdsAtPeak = OpenDescriptors.byKind().values().stream().mapToInt(n -> n).sum();
        Set<Long> pids = new HashSet<>();
        for (Process p : processes) {
            pids.add(p.pid());
            assertTrue(p.isAlive(), p + " is alive until go");
        }
        assertEquals(PROCESSES, pids.size(), "distinct pids");
        assertEquals(pids, reported, "each child reported its own pid once");
        assertEquals(PROCESSES, count.value(), "every increment under the lock counted");

        go.set();
        List<Integer> exits = new ArrayList<>();
        for (Process p : processes) {
            p.join();
            exits.add(p.exitCode());
            p.close();
        }
        assertEquals(Collections.nCopies(PROCESSES, 0), exits);
        long ended = System.nanoTime();
        // What it cost, for the record (the suite's time is the concern, not a target here).
        System.out.printf("%d processes started and all alive after %d ms, all joined after"
                + " %d ms; CPU: %d ms in the children, %d ms here; %d descriptors open here"
                + " while all were alive%n", PROCESSES, (allAlive - started) / 1_000_000,
                (ended - started) / 1_000_000, CpuTimes.reapedChildren() - childCpu,
                CpuTimes.self() - ownCpu, fdsAtPeak);

        reports.close();
        reports.joinThread();
        NoLeftoverProcesses.assertNoChildren();
        OpenDescriptors.assertNoMoreThan(fdsBefore);
        NoLeftoverSharedMemory.assertNoneLeft(shmBefore);
    }
}
