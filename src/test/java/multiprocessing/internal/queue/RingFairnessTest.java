package multiprocessing.internal.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A record of several slots gets into a full ring though producers of one-slot records keep
 * it full: they took each slot a consumer freed, and the larger record's put, which needs its
 * slots in a row, waited as long as they kept coming (review 44).
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RingFairnessTest {
    private static final int SLOTS = 64;
    private static final int SLOT_BYTES = 32;
    private static final int PRODUCERS = 4;
    /**
     * The consumer's pause between takes: slower than the producers, so the ring stays full.
     * With it, a record of 4 slots waited 2.6 s and more on the code before (3 s: given up),
     * 2-8 ms now.
     */
    private static final int PAUSE_NANOS = 200_000;

    @Test
    void aLargerRecordGetsInWhileSmallOnesKeepTheRingFull() throws Exception {
        Ring ring = Ring.create(SLOTS, SLOT_BYTES, 0, false);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger small = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        try {
            for (int i = 0; i < PRODUCERS; i++) {
                threads.add(Thread.ofPlatform().daemon().start(() -> {
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment record = arena.allocate(8);
                        while (!stop.get()) {
                            if (ring.put(record, 8, 0, 100_000_000L)) {
                                small.incrementAndGet();
                            }
                        }
                    }
                }));
            }
            AtomicInteger large = new AtomicInteger();
            threads.add(Thread.ofPlatform().daemon().start(() -> {
                Ring.Sink sink = new Ring.Sink();
                while (!stop.get() || ring.count() > 0) {
                    if (ring.take(sink, 100_000_000L) && sink.length == 100) {
                        large.incrementAndGet();
                    }
                    LockSupport.parkNanos(PAUSE_NANOS);
                }
            }));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (ring.hasRoom() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            try (Arena arena = Arena.ofConfined()) {
                for (int i = 0; i < 5; i++) {
                    assertTrue(ring.put(arena.allocate(100), 100, 0, 3_000_000_000L),
                            "record " + i + " of 4 slots found no room in 3 s while "
                                    + small.get() + " one-slot records got in");
                }
            }
            stop.set(true);
            for (Thread t : threads) {
                t.join(10_000);
            }
            assertEquals(5, large.get());
        } finally {
            stop.set(true);
            for (Thread t : threads) {
                t.join(10_000);
            }
            ring.block().free();
        }
    }
}
