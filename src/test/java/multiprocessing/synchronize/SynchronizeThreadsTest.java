package multiprocessing.synchronize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverSharedMemory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The primitives between threads of one process: semantics, timeouts and every misuse error. */
@ExtendWith(NoLeftoverSharedMemory.class)
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SynchronizeThreadsTest {

    /**
     * awaitUntil with a deadline centuries away waits for a signal: its milliseconds times
     * 10^6 wrapped, and it returned false after milliseconds (review 45).
     */
    @Test
    void awaitUntilAFarDeadlineWaitsForTheSignal() throws Exception {
        Lock lock = new Lock();
        Condition cond = new Condition(lock);
        java.util.concurrent.atomic.AtomicReference<Object> outcome =
                new java.util.concurrent.atomic.AtomicReference<>();
        // 2^64 ns and 200 ms from now (~585 years): its nanoseconds wrapped to 200 ms.
        java.util.Date far = new java.util.Date(System.currentTimeMillis()
                + 18_446_744_073_710L + 200);
        Thread waiter = Thread.ofPlatform().start(() -> {
            lock.acquire();
            try {
                outcome.set(cond.awaitUntil(far));
            } catch (Throwable t) {
                outcome.set(t);
            } finally {
                lock.release();
            }
        });
        Thread.sleep(300);
        assertEquals(null, outcome.get(), "returned before the signal");
        lock.acquire();
        try {
            cond.signalAll();
        } finally {
            lock.release();
        }
        waiter.join(10_000);
        assertEquals(Boolean.TRUE, outcome.get());
    }

    private static Thread start(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static long millisOf(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Test
    void lockBasicsTimeoutsAndErrors() throws Exception {
        Lock lock = Multiprocessing.getContext().lock();
        assertTrue(lock.toString().contains("owner=None"), lock.toString());
        assertThrows(IllegalStateException.class, lock::release);
        assertTrue(lock.acquire());
        assertTrue(lock.isHeldByCurrentThread());
        assertTrue(lock.locked());
        // Not recursive: the holder itself waits.
        assertFalse(lock.acquire(false));
        long ms = millisOf(() -> assertFalse(lock.acquire(Duration.ofMillis(100))));
        assertTrue(ms >= 95 && ms < 2000, "waited " + ms + " ms");
        ms = millisOf(() -> assertFalse(lock.acquire(Duration.ofMillis(-5))));
        assertTrue(ms < 50, "a negative timeout waits " + ms + " ms");
        assertFalse(lock.acquire(false, Duration.ofSeconds(10)), "block=false ignores the timeout");
        // Any thread may release a Lock.
        Thread other = start(lock::release);
        other.join();
        assertFalse(lock.locked());
        assertFalse(lock.isHeldByCurrentThread());
        assertThrows(IllegalStateException.class, lock::release);
        // java.util.concurrent.locks.Lock
        assertTrue(lock.tryLock());
        assertFalse(lock.tryLock(20, TimeUnit.MILLISECONDS));
        lock.unlock();
        lock.lock();
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, lock::lockInterruptibly);
        AtomicInteger interrupted = new AtomicInteger();
        Thread waiter = start(() -> {
            try {
                lock.lockInterruptibly();
            } catch (InterruptedException e) {
                interrupted.incrementAndGet();
            }
        });
        Thread.sleep(50);
        waiter.interrupt();
        waiter.join(2000);
        assertEquals(1, interrupted.get());
        // A blocked waiter gets the lock when it is released.
        CountDownLatch got = new CountDownLatch(1);
        start(() -> {
            lock.acquire();
            got.countDown();
        });
        Thread.sleep(100);
        assertEquals(1, got.getCount());
        lock.release();
        assertTrue(got.await(5, TimeUnit.SECONDS));
    }

    @Test
    void rLockIsRecursiveAndOwned() throws Exception {
        RLock lock = new RLock();
        assertThrows(IllegalMonitorStateException.class, lock::release);
        assertTrue(lock.acquire());
        assertTrue(lock.acquire(false));
        assertTrue(lock.acquire(Duration.ofMillis(1)));
        assertEquals(3, lock.getHoldCount());
        AtomicInteger errors = new AtomicInteger();
        Thread t = start(() -> {
            assertFalse(lock.acquire(false));
            assertFalse(lock.acquire(Duration.ofMillis(50)));
            try {
                lock.release();
            } catch (IllegalMonitorStateException e) {
                errors.incrementAndGet();
            }
        });
        t.join();
        assertEquals(1, errors.get(), "a non-owner thread may not release an RLock");
        lock.release();
        lock.release();
        assertTrue(lock.isHeldByCurrentThread());
        lock.release();
        assertFalse(lock.isHeldByCurrentThread());
        assertThrows(IllegalMonitorStateException.class, lock::release);
        Thread t2 = start(() -> {
            lock.acquire();
            lock.release();
        });
        t2.join(5000);
        assertFalse(t2.isAlive());
    }

    @Test
    void semaphores() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> new Semaphore(-1));
        assertThrows(IllegalArgumentException.class, () -> Multiprocessing.getContext().semaphore(-1));
        assertThrows(IllegalArgumentException.class,
                () -> Multiprocessing.getContext().boundedSemaphore(-1));
        Semaphore s = new Semaphore(2);
        assertTrue(s.acquire());
        assertTrue(s.acquire(false));
        assertFalse(s.acquire(false));
        assertFalse(s.acquire(Duration.ofMillis(30)));
        s.release();
        s.release();
        s.release(); // an unbounded semaphore goes above its initial value
        assertEquals(3, s.getValue());
        assertEquals("<Semaphore(value=3)>", s.toString());

        BoundedSemaphore b = Multiprocessing.getContext().boundedSemaphore(2);
        assertThrows(IllegalStateException.class, b::release);
        assertEquals(2, b.getValue());
        b.acquire();
        b.release();
        assertThrows(IllegalStateException.class, b::release);
        assertEquals("<BoundedSemaphore(value=2, maxvalue=2)>", b.toString());
        BoundedSemaphore zero = new BoundedSemaphore(0);
        assertFalse(zero.acquire(false));
        assertThrows(IllegalStateException.class, zero::release);

        Semaphore empty = new Semaphore(0);
        CountDownLatch got = new CountDownLatch(3);
        for (int i = 0; i < 3; i++) {
            start(() -> {
                empty.acquire();
                got.countDown();
            });
        }
        Thread.sleep(50);
        assertEquals(3, got.getCount());
        empty.release();
        empty.release();
        Thread.sleep(100);
        assertEquals(1, got.getCount());
        empty.release();
        assertTrue(got.await(5, TimeUnit.SECONDS));
    }

    @Test
    void conditionMisuseSignalAndTimeouts() throws Exception {
        Condition cond = Multiprocessing.getContext().condition();
        assertThrows(IllegalMonitorStateException.class, cond::signal);
        assertThrows(IllegalMonitorStateException.class, cond::signalAll);
        assertThrows(IllegalMonitorStateException.class, () -> cond.signal(2));
        assertThrows(IllegalMonitorStateException.class, cond::await);
        assertThrows(IllegalMonitorStateException.class, () -> cond.await(Duration.ofMillis(1)));
        assertThrows(IllegalMonitorStateException.class, cond::release);
        assertTrue(cond.acquire());
        assertTrue(cond.acquire()); // an RLock by default
        long ms = millisOf(() -> {
            try {
                assertFalse(cond.await(Duration.ofMillis(100)));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        assertTrue(ms >= 95, "waited " + ms);
        assertTrue(((RLock) cond.getLock()).isHeldByCurrentThread());
        assertEquals(2, ((RLock) cond.getLock()).getHoldCount(), "await restores every hold");
        assertFalse(cond.waitFor(() -> false, Duration.ofMillis(50)));
        assertTrue(cond.waitFor(() -> true, Duration.ofMillis(50)));
        cond.release();
        cond.release();

        // signal(n) wakes n of the waiters present; signalAll the rest.
        Lock lock = new Lock();
        Condition c = lock.newCondition();
        AtomicInteger woken = new AtomicInteger();
        List<Thread> waiters = new ArrayList<>();
        CountDownLatch waiting = new CountDownLatch(4);
        for (int i = 0; i < 4; i++) {
            waiters.add(start(() -> {
                c.acquire();
                try {
                    waiting.countDown();
                    if (c.await(Duration.ofSeconds(20))) {
                        woken.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                } finally {
                    c.release();
                }
            }));
        }
        assertTrue(waiting.await(5, TimeUnit.SECONDS));
        lock.acquire(); // every waiter is inside await once we hold the lock after the latch
        lock.release();
        Thread.sleep(100);
        c.acquire();
        c.signal();
        c.release();
        Thread.sleep(300);
        assertEquals(1, woken.get());
        c.acquire();
        c.signal(2);
        c.release();
        Thread.sleep(300);
        assertEquals(3, woken.get());
        c.acquire();
        c.signalAll();
        c.release();
        for (Thread t : waiters) {
            t.join(5000);
        }
        assertEquals(4, woken.get());
        // A signal with nobody waiting is not remembered.
        c.acquire();
        c.signal();
        assertFalse(c.await(Duration.ofMillis(50)));
        c.release();
    }

    @Test
    void eventSetClearAwait() throws Exception {
        Event e = Multiprocessing.getContext().event();
        assertFalse(e.isSet());
        assertFalse(e.await(Duration.ofMillis(50)));
        e.set();
        assertTrue(e.isSet());
        assertTrue(e.await());
        assertTrue(e.await(Duration.ZERO));
        e.clear();
        assertFalse(e.isSet());
        ConcurrentLinkedQueue<Boolean> results = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ts.add(start(() -> results.add(e.await(Duration.ofSeconds(10)))));
        }
        Thread.sleep(100);
        e.set();
        e.clear(); // a pulse still releases everyone who was waiting
        for (Thread t : ts) {
            t.join(5000);
        }
        assertEquals(List.of(true, true, true), List.copyOf(results));
        assertEquals("<Event unset>", e.toString());
    }

    /**
     * More threads than parties, round after round: every await returns an index and each
     * index is returned once a round. A woken waiter may get the lock back many rounds after its
     * own ended; one that did so after more than 31 rounds was told its whole round had broken
     * (attack 29b: 143 of 10,000 rounds with seven threads on a Barrier(3)).
     */
    @Test
    void moreThreadsThanPartiesGetEveryRoundsIndexesAndNoBreak() throws Exception {
        final int parties = 3;
        final int rounds = 10_000;
        Barrier b = new Barrier(parties);
        AtomicInteger[] indexes = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};
        AtomicInteger trips = new AtomicInteger();
        AtomicInteger brokenBeforeTheEnd = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean over =
                new java.util.concurrent.atomic.AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 7; t++) {
            threads.add(start(() -> {
                while (true) {
                    try {
                        int i = b.await(Duration.ofSeconds(60));
                        indexes[i].incrementAndGet();
                        if (i == parties - 1 && trips.incrementAndGet() == rounds) {
                            over.set(true);
                            b.abort(); // the end: the others' next waits break
                        }
                    } catch (BrokenBarrierException e) {
                        if (!over.get()) {
                            brokenBeforeTheEnd.incrementAndGet();
                        }
                        return;
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join(120_000);
            assertFalse(t.isAlive(), "a thread still waits");
        }
        assertEquals(0, brokenBeforeTheEnd.get(), "waits broken while no round broke");
        // Every round that ended gave out 0, 1 and 2 once, its waiters woken by the abort after
        // it ended included (another round may end between the last count and the abort).
        int ended = trips.get();
        assertTrue(ended >= rounds, ended + " rounds");
        assertEquals(List.of(ended, ended, ended),
                List.of(indexes[0].get(), indexes[1].get(), indexes[2].get()));
    }

    @Test
    void barrierRoundsTimeoutResetAbort() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> new Barrier(0));
        Barrier b = Multiprocessing.getContext().barrier(3);
        assertEquals(3, b.parties());
        ConcurrentLinkedQueue<Integer> indexes = new ConcurrentLinkedQueue<>();
        for (int round = 0; round < 3; round++) {
            List<Thread> ts = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ts.add(start(() -> {
                    try {
                        indexes.add(b.await(Duration.ofSeconds(10)));
                    } catch (Exception ex) {
                        indexes.add(-100);
                    }
                }));
            }
            for (Thread t : ts) {
                t.join(10_000);
            }
        }
        assertEquals(9, indexes.size());
        assertEquals(List.of(0, 0, 0, 1, 1, 1, 2, 2, 2), indexes.stream().sorted().toList());
        assertFalse(b.broken());
        assertEquals(0, b.nWaiting());

        // A timeout breaks the barrier for everyone, until reset().
        AtomicInteger broken = new AtomicInteger();
        Thread waiter = start(() -> {
            try {
                b.await();
            } catch (BrokenBarrierException ex) {
                broken.incrementAndGet();
            } catch (InterruptedException ex) {
                throw new AssertionError(ex);
            }
        });
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (b.nWaiting() != 1 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(1, b.nWaiting());
        assertThrows(BrokenBarrierException.class, () -> b.await(Duration.ofMillis(100)));
        waiter.join(5000);
        assertEquals(1, broken.get());
        assertTrue(b.broken());
        assertThrows(BrokenBarrierException.class, () -> b.await(Duration.ofSeconds(1)));
        b.reset();
        assertFalse(b.broken());
        b.abort();
        assertTrue(b.broken());
        assertThrows(BrokenBarrierException.class, b::await);
        b.reset();
        Barrier one = new Barrier(1);
        assertEquals(0, one.await());
    }

    @Test
    void threadsCountExactlyUnderEachLock() throws Exception {
        Lock lock = new Lock();
        RLock rlock = new RLock();
        int[] counters = new int[2];
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ts.add(start(() -> {
                for (int j = 0; j < 50_000; j++) {
                    lock.acquire();
                    counters[0]++;
                    lock.release();
                    rlock.acquire();
                    rlock.acquire();
                    counters[1]++;
                    rlock.release();
                    rlock.release();
                }
            }));
        }
        for (Thread t : ts) {
            t.join(30_000);
        }
        lock.acquire();
        rlock.acquire();
        assertEquals(200_000, counters[0]);
        assertEquals(200_000, counters[1]);
    }

    @Test
    void oneHundredThousandLocks() {
        List<Lock> locks = new ArrayList<>(100_000);
        for (int i = 0; i < 100_000; i++) {
            Lock l = new Lock();
            locks.add(l);
        }
        for (Lock l : locks) {
            assertTrue(l.acquire(false));
        }
        for (Lock l : locks) {
            l.release();
        }
        assertEquals(100_000, locks.size());
    }
}
