package multiprocessing.internal.queue;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.internal.posix.ProcessIdentity;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A ring's claim names its claimant as the locks name their owner: a pid with its start time
 * and pid namespace. A live process that was given a dead claimant's pid is not the claimant
 * (its record is recovered), and a claimant of another pid namespace is never taken for dead.
 * The tests write a producer's claim into a ring: the pid of a live child process, with a start
 * time or namespace of their choice.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ClaimerIdentityTest {
    private static final int SLOTS = 8;
    private static final int SLOT_BYTES = 64;
    private static Process sleeper;
    private static int pid;

    @BeforeAll
    static void startALiveProcess() {
        sleeper = new Process(() -> Thread.sleep(120_000));
        sleeper.start();
        pid = sleeper.pid().intValue();
    }

    @AfterAll
    static void stopIt() throws InterruptedException {
        sleeper.kill();
        sleeper.join();
    }

    private static long startOfSleeper() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long start;
        while ((start = ProcessIdentity.startTime(pid)) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(start > 0, "no start time for live pid " + pid);
        return start;
    }

    /**
     * A ring whose first record is claimed by a producer (pid {@code claimant}, of {@code start}
     * and {@code namespace}) that has not published it, and whose second record, 42, is.
     */
    private static Ring ringWithClaimAtHead(int claimant, long start, int namespace) {
        Ring ring = Ring.create(SLOTS, SLOT_BYTES, 0, false);
        MemorySegment all = ring.block().segment();
        RingLayout.SLOT_CLAIMANT.set(all, RingLayout.seqOffset(),
                ProcessIdentity.stamp(start, namespace));
        RingLayout.SLOT_SEQ.set(all, RingLayout.seqOffset(), Ring.claim(false, claimant, 1, 0, SLOTS));
        RingLayout.TAIL.setVolatile(all, RingLayout.advanced(0L, 1)); // claimed and counted
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment item = arena.allocate(8);
            item.set(JAVA_LONG, 0, 42);
            assertTrue(ring.put(item, 8, 0, -1));
        }
        return ring;
    }

    private static long take(Ring ring, long millis) {
        Ring.Sink sink = new Ring.Sink();
        if (!ring.take(sink, TimeUnit.MILLISECONDS.toNanos(millis))) {
            return -1;
        }
        assertEquals(8, sink.length);
        return MemorySegment.ofArray(sink.buffer).get(JAVA_LONG.withByteAlignment(1), 0);
    }

    @Test
    void aLivePidWithAnotherStartTimeIsADeadProducer() throws Exception {
        // The producer that had this pid before the live process: its record is dropped.
        Ring ring = ringWithClaimAtHead(pid, startOfSleeper() + 1, ProcessIdentity.NAMESPACE);
        try {
            assertEquals(42, take(ring, 30_000), "the dead producer's record was never skipped");
        } finally {
            ring.block().free();
        }
    }

    @Test
    void theRightStartTimeIsALiveProducer() throws Exception {
        Ring ring = ringWithClaimAtHead(pid, startOfSleeper(), ProcessIdentity.NAMESPACE);
        try {
            assertEquals(-1, take(ring, 400), "a live producer's claim was taken over");
        } finally {
            ring.block().free();
        }
    }

    @Test
    void aProducerOfAnotherPidNamespaceIsNeverTakenForDead() throws Exception {
        // Its pid means nothing here, even one no process has.
        Ring ring = ringWithClaimAtHead(Integer.MAX_VALUE >> 10, 12345,
                ProcessIdentity.NAMESPACE + 1);
        try {
            assertEquals(-1, take(ring, 400), "a claim of another namespace was taken over");
        } finally {
            ring.block().free();
        }
    }

    @Test
    void aClaimWhoseClaimantWasNotWrittenYetIsJudgedByItsPid() throws Exception {
        // A producer between its claim and writing its identity: a live pid is a live producer,
        // a pid nobody has is a dead one.
        Ring live = ringWithClaimAtHead(pid, 0, 0);
        Ring dead = ringWithClaimAtHead(Integer.MAX_VALUE >> 10, 0, 0);
        try {
            assertEquals(-1, take(live, 400));
            assertEquals(42, take(dead, 30_000));
        } finally {
            live.block().free();
            dead.block().free();
        }
    }

    @Test
    void aDeadConsumersRecordIsRecoveredByProducersWaitingForRoom() throws Exception {
        // A full ring whose first record a consumer that had the live pid before took and
        // never freed: a producer waiting for room frees it.
        Ring ring = Ring.create(SLOTS, SLOT_BYTES, 0, false);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment item = arena.allocate(8);
            for (int i = 0; i < SLOTS; i++) {
                assertTrue(ring.put(item, 8, 0, 0));
            }
            assertFalse(ring.put(item, 8, 0, 0), "the ring is full");
            MemorySegment all = ring.block().segment();
            RingLayout.SLOT_CLAIMANT.set(all, RingLayout.seqOffset(),
                    ProcessIdentity.stamp(startOfSleeper() + 1, ProcessIdentity.NAMESPACE));
            RingLayout.SLOT_SEQ.set(all, RingLayout.seqOffset(), Ring.claim(true, pid, 1, 0, SLOTS));
            RingLayout.HEAD.setVolatile(all, RingLayout.advanced(0L, 1)); // taken and counted
            assertTrue(ring.put(item, 8, 0, TimeUnit.SECONDS.toNanos(30)),
                    "the dead consumer's room never came back");
        } finally {
            ring.block().free();
        }
    }
}
