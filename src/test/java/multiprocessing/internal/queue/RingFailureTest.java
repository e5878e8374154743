package multiprocessing.internal.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A put or a take that fails between its claim and its release (an Error: no memory for the
 * copy, a stack overflow) leaves the ring working: its claim, held by a live process, was never
 * freed by any recovery, and every consumer (a put's) or, once the tail came round, every
 * producer (a take's) waited at it for good, in every process (review 44).
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RingFailureTest {
    /** Records of 100 bytes take 4 slots: their slots are freed as a whole. */
    private static final int SLOTS = 64;
    private static final int SLOT_BYTES = 32;
    private static final long SECOND = 1_000_000_000L;

    /** Puts and takes enough records, one at a time, for the tail to go round several times. */
    private static void goesRound(Ring ring) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment record = arena.allocate(100);
            Ring.Sink sink = new Ring.Sink();
            for (int i = 0; i < 10 * SLOTS; i++) {
                record.set(ValueLayout.JAVA_INT, 0, i);
                assertTrue(ring.put(record, 100, 0, SECOND), "put " + i + " found no room");
                assertTrue(ring.take(sink, SECOND), "take " + i + " found nothing");
                assertEquals(i, MemorySegment.ofArray(sink.buffer).get(ValueLayout.JAVA_INT_UNALIGNED, 0));
            }
        }
    }

    @Test
    void aPutThatFailsWhileWritingLeavesTheRingWorking() {
        Ring ring = Ring.create(SLOTS, SLOT_BYTES, 0, true);
        try {
            MemorySegment gone;
            try (Arena arena = Arena.ofConfined()) {
                gone = arena.allocate(100);
            }
            MemorySegment closed = gone;
            // The copy from a closed segment throws after the claim.
            assertThrows(IllegalStateException.class, () -> ring.put(closed, 100, 0, -1));
            goesRound(ring);
            assertEquals(0, ring.unfinished() - 10 * SLOTS, "the failed put counted as a task");
        } finally {
            ring.block().free();
        }
    }

    /**
     * A process killed while it recovered a dead producer's claim, after taking the claim over
     * and before moving the tail past it: the next recovery moved the head past it, not the
     * tail, and the tail stayed behind the head for good: qsize() 16,777,215 and every put
     * refused (attack 61). Both recoveries' claimants are a pid that has exited.
     */
    @Test
    void aRecoveryKilledBeforeItMovedTheTailLeavesTheRingWorking() throws Exception {
        java.lang.Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        int deadPid = (int) exited.pid();
        Ring ring = Ring.create(SLOTS, SLOT_BYTES, 0, false);
        try {
            MemorySegment all = ring.block().segment();
            RingLayout.SLOT_SEQ.setVolatile(all, RingLayout.seqOffset(),
                    Ring.claim(true, deadPid, 1, 0, SLOTS) | Ring.RECOVERED);
            assertEquals(0, ring.count());
            ring.recoverDead();
            assertEquals(0, ring.count(), "the head passed the tail");
            goesRound(ring);
            assertEquals(0, ring.count());
            // A bounded ring in that state, its head moved past the claim by a consumer: a
            // put at once finds a place (the head's count past the tail's is none taken:
            // it read as full, review 59).
            Ring bounded = Ring.create(SLOTS, SLOT_BYTES, 1, false);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment b = bounded.block().segment();
                RingLayout.SLOT_SEQ.setVolatile(b, RingLayout.seqOffset(),
                        Ring.claim(true, deadPid, 1, 0, SLOTS) | Ring.RECOVERED);
                RingLayout.HEAD.setVolatile(b, RingLayout.advanced(0L, 1));
                assertTrue(bounded.put(arena.allocate(8), 8, 0, 0), "no place in an empty queue");
                assertEquals(1, bounded.count());
            } finally {
                bounded.block().free();
            }
            // The same state met by a producer first: it moves the tail past the claim.
            Ring other = Ring.create(SLOTS, SLOT_BYTES, 0, false);
            try {
                MemorySegment o = other.block().segment();
                RingLayout.SLOT_SEQ.setVolatile(o, RingLayout.seqOffset(),
                        Ring.claim(true, deadPid, 1, 0, SLOTS) | Ring.RECOVERED);
                assertTrue(other.hasRoom());
                assertEquals(1, RingLayout.position((long) RingLayout.TAIL.getVolatile(o)));
                goesRound(other);
            } finally {
                other.block().free();
            }
        } finally {
            ring.block().free();
        }
    }

    /**
     * Room held by a process that died and whose pid another process got is given back: it was
     * judged by pid alone and kept for good, the other producers leaving it free (attack 42).
     * One held by a live process of the same pid, this one, is kept.
     */
    @Test
    void roomHeldByADeadProcessWhosePidWasReusedIsGivenBack() {
        Ring ring = Ring.create(SLOTS, SLOT_BYTES, 0, false);
        try {
            MemorySegment header = ring.block().segment();
            long word = (long) Ring.PID << 32 | 4;
            RingLayout.ROOM_HELD.setVolatile(header, word);
            RingLayout.ROOM_HELD_STAMP.setVolatile(header,
                    multiprocessing.internal.posix.ProcessIdentity.STAMP);
            ring.recoverDead();
            assertEquals(word, RingLayout.ROOM_HELD.getVolatile(header), "its holder lives");
            RingLayout.ROOM_HELD_STAMP.setVolatile(header,
                    multiprocessing.internal.posix.ProcessIdentity.stamp(
                            multiprocessing.internal.posix.ProcessIdentity.START + 1,
                            multiprocessing.internal.posix.ProcessIdentity.NAMESPACE));
            ring.recoverDead();
            assertEquals(0L, RingLayout.ROOM_HELD.getVolatile(header), "still held");
        } finally {
            ring.block().free();
        }
    }

    @Test
    void aTakeThatFailsWhileCopyingLeavesTheRingWorking() {
        Ring ring = Ring.create(SLOTS, SLOT_BYTES, 0, true);
        try {
            try (Arena arena = Arena.ofConfined()) {
                assertTrue(ring.put(arena.allocate(100), 100, 0, -1));
            }
            Ring.Sink broken = new Ring.Sink();
            broken.buffer = null; // the copy fails after the claim
            assertThrows(NullPointerException.class, () -> ring.take(broken, 0));
            assertEquals(0, ring.unfinished(), "the lost item still counts as unfinished");
            goesRound(ring);
        } finally {
            ring.block().free();
        }
    }
}
