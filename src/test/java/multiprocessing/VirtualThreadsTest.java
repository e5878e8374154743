package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

import multiprocessing.synchronize.Lock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Virtual threads block in the library's calls without holding their carriers: each workload
 * runs in a child JVM whose virtual thread scheduler has 2 carriers and may not add any
 * ({@code -Djdk.virtualThreadScheduler.parallelism=2 -Djdk.virtualThreadScheduler.maxPoolSize=2},
 * as on a 2-CPU machine), with far more virtual threads blocked at once than carriers, so a call
 * that held its carrier would leave nobody to run the thread that unblocks them: the child would
 * hang, and its join here times out (a failure, never a hang of the suite). Each child records
 * JFR's {@code jdk.VirtualThreadPinned} events and reports those with a frame of the library.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class VirtualThreadsTest {
    /** The scheduler of a 2-CPU machine, with no compensating carriers. */
    static final String[] TWO_CARRIERS = {
        "-Djdk.virtualThreadScheduler.parallelism=2", "-Djdk.virtualThreadScheduler.maxPoolSize=2"};

    private static Context twoCarriers() {
        return Multiprocessing.getContext("spawn").withJvmOptions(TWO_CARRIERS);
    }

    /** What a child reports: a count its workload checks, and the pinning JFR saw in the library. */
    record Report(long count, long expected, List<String> pinnedInLibrary, String failure)
            implements Serializable {}

    /**
     * Runs {@code target} in a child with two carriers and returns its report, failing if the
     * child does not end within {@code limit}.
     */
    private static Report runInChild(Queue<Report> reports, SerializableRunnable target,
            Duration limit) throws Exception {
        Process child = twoCarriers().process(target);
        child.start();
        try {
            Report report = reports.get(limit);
            child.join(Duration.ofSeconds(30));
            assertEquals(0, child.exitCode(), "the child's exit code");
            return report;
        } catch (EmptyException e) {
            throw new AssertionError("the child's virtual threads did not finish within " + limit
                    + " (blocked calls holding both carriers?)", e);
        } finally {
            if (child.isAlive()) {
                child.kill();
                child.join();
            }
            child.close();
        }
    }

    private static void assertComplete(Report r) {
        assertEquals(null, r.failure(), "the child's workload failed");
        assertEquals(r.expected(), r.count(), "the child's count");
        assertTrue(r.pinnedInLibrary().isEmpty(),
                "virtual threads pinned in the library: " + r.pinnedInLibrary());
    }

    // ---------------------------------------------------------------- the workloads (children)

    /** Runs {@code work} with JFR recording pinning; the report carries what it counted. */
    static Report recordPinning(long expected, Work work) {
        List<String> pinned = new ArrayList<>();
        long count;
        String failure = null;
        try (Recording recording = new Recording()) {
            recording.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
            recording.start();
            try {
                count = work.run();
            } catch (Throwable t) {
                count = -1;
                failure = t.toString();
            }
            recording.stop();
            Path file = Files.createTempFile("pinned", ".jfr");
            try {
                recording.dump(file);
                for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                    if (e.getStackTrace() != null && e.getStackTrace().getFrames().stream()
                            .anyMatch(VirtualThreadsTest::libraryFrame)) {
                        pinned.add(e.getStackTrace().getFrames().stream().limit(12)
                                .map(f -> f.getMethod().getType().getName() + "."
                                        + f.getMethod().getName())
                                .toList().toString());
                    }
                }
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return new Report(count, expected, pinned, failure);
    }

    private static boolean libraryFrame(RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        return type.startsWith("multiprocessing.") && !type.startsWith(VirtualThreadsTest.class.getName());
    }

    interface Work {
        long run() throws Exception;
    }

    /** Starts {@code n} virtual threads running {@code body(i)} and waits for them all. */
    static void inVirtualThreads(int n, IntBody body) throws InterruptedException {
        List<Thread> threads = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int k = i;
            threads.add(Thread.ofVirtual().name("vt-" + i).start(() -> {
                try {
                    body.run(k);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
    }

    interface IntBody {
        void run(int i) throws Exception;
    }

    // ---------------------------------------------------------------- lock

    static final int LOCK_THREADS = 10_000;

    /**
     * 10,000 virtual threads contend for one Lock and sleep inside it: the owner sleeps (and so
     * leaves its carrier) while thousands wait, and must get a carrier back to release.
     */
    @Test
    void tenThousandVirtualThreadsContendALockWithASleepInside() throws Exception {
        Lock lock = new Lock();
        Queue<Report> reports = new Queue<>();
        Report r = runInChild(reports, () -> reports.put(recordPinning(LOCK_THREADS, () -> {
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            int[] counter = {0};
            inVirtualThreads(LOCK_THREADS, i -> {
                lock.acquire();
                try {
                    if (inside.incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    Thread.sleep(Duration.ofNanos(20_000));
                    counter[0]++;
                    inside.decrementAndGet();
                } finally {
                    lock.release();
                }
            });
            return overlaps.get() == 0 ? counter[0] : -overlaps.get();
        })), Duration.ofSeconds(120));
        assertComplete(r);
        assertFalse(lock.locked());
    }
}
