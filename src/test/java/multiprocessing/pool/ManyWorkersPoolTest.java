package multiprocessing.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

import multiprocessing.CpuTimes;
import multiprocessing.ForkServerContext;
import multiprocessing.JvmContext;
import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.OpenDescriptors;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A pool of many more workers than the machine has cores (issue 15's "Pool of 64 workers"):
 * all start, share the work, and are gone with everything they used once the pool is joined.
 */
@ExtendWith(NoLeftoverProcesses.class)
@ExtendWith(NoLeftoverSharedMemory.class)
@Timeout(600)
class ManyWorkersPoolTest {
    private static final int WORKERS = 64;
    private static final int ITEMS = 10_000;

    /**
     * The test is about how many workers there are, not about what a JVM gets by default, so
     * each worker is kept small and cheap to start: C1 alone spends a third less CPU starting a
     * JVM (measured: ~540 ms a child against ~900 ms), and a small first heap takes ~15 MB less
     * memory a child (64 default JVMs want ~4 GB, more than a CI machine may have to spare).
     */
    static final String[] SMALL_JVM = {"-Xss256k", "-XX:TieredStopAtLevel=1", "-Xms8m", "-Xmx64m"};

    private static JvmContext context(String method) {
        return (JvmContext) Multiprocessing.getContext(method).withJvmOptions(SMALL_JVM);
    }

    /** Ends the JVMs that forkserver keeps waiting for the next process (they hold a socket). */
    private static void stopWaiting(JvmContext context) {
        if (context instanceof ForkServerContext forkserver) {
            forkserver.stopWarmJvms();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void sixtyFourWorkersMapTenThousandItemsAndLeaveNothingBehind(String method)
            throws Exception {
        JvmContext context = context(method);
        // A small pool first, so that what the JVM and the library open once (the class
        // server, the resource tracker, jars) is open before the count.
        Pool warmUp = context.pool(2);
        assertEquals(List.of(0, 1, 4), warmUp.map((Integer x) -> x * x, List.of(0, 1, 2)));
        warmUp.close();
        warmUp.join();
        stopWaiting(context);
        Map<String, Integer> fdsBefore = OpenDescriptors.byKind();
        Set<String> shmBefore = NoLeftoverSharedMemory.names();

        long started = System.nanoTime();
        long childCpu = CpuTimes.reapedChildren();
        long ownCpu = CpuTimes.self();
        Pool pool = context.pool(WORKERS);
        List<Long> pids = pool.workerPids();
        assertEquals(WORKERS, new HashSet<>(pids).size(), "64 distinct workers: " + pids);
        List<Integer> items = IntStream.range(0, ITEMS).boxed().toList();
        List<Long> results = pool.map((Integer x) -> (long) x * x, items);
        assertEquals(items.stream().map(x -> (long) x * x).toList(), results);
        pool.close();
        pool.join();
        long wall = (System.nanoTime() - started) / 1_000_000;

        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                    "worker " + pid + " outlived its pool");
        }
        stopWaiting(context);
        NoLeftoverProcesses.assertNoChildren();
        // What it cost, for the record (the suite's time is the concern, not a target here).
        System.out.printf("%s: %d workers started, mapped %d items and joined in %d ms; CPU:"
                + " %d ms in the children, %d ms here%n", method, WORKERS, ITEMS, wall,
                CpuTimes.reapedChildren() - childCpu, CpuTimes.self() - ownCpu);
        OpenDescriptors.assertNoMoreThan(fdsBefore);
        NoLeftoverSharedMemory.assertNoneLeft(shmBefore);
    }
}
