package multiprocessing.internal.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.internal.posix.ProcessIdentity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The tail's and the head's words keep a position modulo 2^40 and a count of records modulo
 * 2^24 (RingLayout): a ring goes on working, in order and with exact counts, as they wrap. A
 * ring is put just before both wraps, as if 2^40 slots had gone by, by writing its words.
 */
@ExtendWith(NoLeftoverSharedMemory.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RingWrapTest {
    private static final int SLOTS = 64;
    private static final int SLOT_BYTES = 32;
    private static final long SECOND = 1_000_000_000L;
    /** Records counted so far: five more wrap the count. */
    private static final int COUNTED = RingLayout.RECORD_COUNT_MASK - 4;

    /**
     * A new empty ring whose head and tail are at {@code position}, with {@link #COUNTED}
     * records put, taken and done.
     */
    private static Ring ringAt(long position, int maxsize, boolean joinable) {
        Ring ring = Ring.create(SLOTS, SLOT_BYTES, maxsize, joinable);
        MemorySegment all = ring.block().segment();
        for (int d = 0; d < SLOTS; d++) {
            // Free for the position it holds next: its state word is that position's lap base.
            long p = RingLayout.position(position + d);
            RingLayout.SLOT_SEQ.set(all, RingLayout.seqOffset()
                    + (p % SLOTS) * RingLayout.SLOT_STATE_BYTES, p - p % SLOTS);
        }
        long word = (long) COUNTED << RingLayout.POSITION_BITS | position;
        RingLayout.TAIL.setVolatile(all, word);
        RingLayout.HEAD.setVolatile(all, word);
        RingLayout.DONE.setVolatile(all, COUNTED);
        return ring;
    }

    private static void put(Ring ring, MemorySegment record, int length, int value) {
        record.set(ValueLayout.JAVA_INT, 0, value);
        assertTrue(ring.put(record, length, 0, SECOND), "put " + value + " found no room");
    }

    private static int take(Ring ring, Ring.Sink sink) {
        assertTrue(ring.take(sink, SECOND), "a take found nothing");
        return MemorySegment.ofArray(sink.buffer).get(ValueLayout.JAVA_INT_UNALIGNED, 0);
    }

    @Test
    void recordsOfOneAndOfSeveralSlotsGoOnInOrderAcrossTheWrap() {
        long position = RingLayout.POSITION_MASK + 1 - 2 * SLOTS;
        Ring ring = ringAt(position, 0, false);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment record = arena.allocate(100);
            Ring.Sink sink = new Ring.Sink();
            int next = 0;
            int expected = 0;
            // Records of 1 and 4 slots, three at a time, past both wraps and round again.
            for (int round = 0; round < 3 * SLOTS; round++) {
                for (int j = 0; j < 3; j++, next++) {
                    put(ring, record, next % 2 == 0 ? 8 : 100, next);
                }
                assertEquals(3, ring.count(), "qsize after round " + round);
                for (int j = 0; j < 3; j++, expected++) {
                    assertEquals(expected, take(ring, sink));
                }
                assertEquals(0, ring.count());
            }
            long tail = (long) RingLayout.TAIL.getVolatile(ring.block().segment());
            assertTrue(RingLayout.position(tail) < position, "the position did not wrap");
            assertTrue(RingLayout.records(tail) < COUNTED, "the count did not wrap");
            assertFalse(ring.take(sink, 0));
        } finally {
            ring.block().free();
        }
    }

    @Test
    void aFullRingAndMaxsizeHoldAcrossTheWrap() {
        Ring ring = ringAt(RingLayout.POSITION_MASK + 1 - SLOTS / 2, 0, false);
        Ring bounded = ringAt(RingLayout.POSITION_MASK + 1 - 2, 3, false);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment record = arena.allocate(8);
            Ring.Sink sink = new Ring.Sink();
            for (int i = 0; i < SLOTS; i++) {
                put(ring, record, 8, i);
            }
            assertEquals(SLOTS, ring.count());
            assertFalse(ring.put(record, 8, 0, 0), "a full ring took one more");
            assertEquals(0, take(ring, sink));
            put(ring, record, 8, SLOTS);
            for (int i = 1; i <= SLOTS; i++) {
                assertEquals(i, take(ring, sink));
            }
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < 3; i++) {
                    put(bounded, record, 8, i);
                }
                assertFalse(bounded.put(record, 8, 0, 0), "maxsize 3 took a fourth");
                assertEquals(3, bounded.count());
                for (int i = 0; i < 3; i++) {
                    assertEquals(i, take(bounded, sink));
                }
            }
        } finally {
            ring.block().free();
            bounded.block().free();
        }
    }

    @Test
    void unfinishedTasksCountAcrossTheWrap() {
        Ring ring = ringAt(RingLayout.POSITION_MASK + 1 - SLOTS, 0, true);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment record = arena.allocate(8);
            Ring.Sink sink = new Ring.Sink();
            assertEquals(0, ring.unfinished());
            for (int i = 0; i < 10; i++) {
                put(ring, record, 8, i);
            }
            assertEquals(10, ring.unfinished());
            for (int i = 0; i < 10; i++) {
                assertEquals(i, take(ring, sink));
                ring.taskDone(true);
                assertEquals(9 - i, ring.unfinished());
            }
            assertThrows(IllegalStateException.class, () -> ring.taskDone(true));
            ring.join(); // returns: nothing is unfinished
            assertEquals(0, ring.unfinished());
        } finally {
            ring.block().free();
        }
    }

    /**
     * A consumer that died holding the last record before the positions wrap: the look for dead
     * claimants finds its claim a lap behind the tail's, the lap before the first being the
     * last, and frees it for a producer waiting for room.
     */
    @Test
    void aDeadConsumersRecordJustBeforeTheWrapIsRecovered() {
        long position = RingLayout.POSITION_MASK + 1 - SLOTS;
        Ring ring = ringAt(position, 0, false);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment record = arena.allocate(8);
            Ring.Sink sink = new Ring.Sink();
            for (int i = 0; i < SLOTS; i++) {
                put(ring, record, 8, i);
            }
            MemorySegment all = ring.block().segment();
            assertEquals(0, RingLayout.position((long) RingLayout.TAIL.getVolatile(all)));
            // A consumer of this pid and another start time (so: dead) took the first record.
            RingLayout.SLOT_CLAIMANT.set(all, RingLayout.seqOffset(), ProcessIdentity.stamp(
                    ProcessIdentity.START + 1, ProcessIdentity.NAMESPACE));
            RingLayout.SLOT_SEQ.set(all, RingLayout.seqOffset(),
                    Ring.claim(true, Ring.PID, 1, position, SLOTS));
            long head = (long) RingLayout.HEAD.getVolatile(all);
            RingLayout.HEAD.setVolatile(all, RingLayout.advanced(head, 1));
            assertEquals(SLOTS - 1, ring.count());
            put(ring, record, 8, SLOTS); // waits for the look, every 100 ms
            for (int i = 1; i <= SLOTS; i++) {
                assertEquals(i, take(ring, sink));
            }
            assertEquals(0, ring.count());
        } finally {
            ring.block().free();
        }
    }
}
