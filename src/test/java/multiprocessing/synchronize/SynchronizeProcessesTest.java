package multiprocessing.synchronize;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BrokenBarrierException;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.SerializableRunnable;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;
import multiprocessing.internal.heap.Block;
import multiprocessing.internal.heap.Heap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The primitives between real processes (child JVMs). Each test starts as few children as it
 * can and checks many things in each.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SynchronizeProcessesTest {

    /** Travels as a field of another object: each primitive inside must arrive as itself. */
    record Counting(Lock lock, RLock rlock, Semaphore done, Block counters) implements Serializable {}

    @Test
    void fourChildrenCountExactlyUnderALockAndAnRLock() throws Exception {
        Counting shared = new Counting(new Lock(), new RLock(), new Semaphore(0), Heap.allocate(16));
        List<Process> children = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Process p = new Process(() -> {
                var seg = shared.counters().segment();
                for (int j = 0; j < 10_000; j++) {
                    shared.lock().acquire();
                    seg.set(JAVA_LONG, 0, seg.get(JAVA_LONG, 0) + 1);
                    shared.lock().release();
                }
                for (int j = 0; j < 2_500; j++) {
                    shared.rlock().acquire();
                    shared.rlock().acquire();
                    seg.set(JAVA_LONG, 8, seg.get(JAVA_LONG, 8) + 1);
                    shared.rlock().release();
                    shared.rlock().release();
                }
                shared.done().release();
            });
            p.start();
            children.add(p);
        }
        for (int i = 0; i < 4; i++) {
            assertTrue(shared.done().acquire(Duration.ofSeconds(60)), "child " + i + " done");
        }
        for (Process p : children) {
            p.join();
            assertEquals(0, p.exitCode());
            p.close();
        }
        var seg = shared.counters().segment();
        assertEquals(40_000, seg.get(JAVA_LONG, 0));
        assertEquals(10_000, seg.get(JAVA_LONG, 8));
        assertFalse(shared.lock().locked());
        assertFalse(shared.done().acquire(false));
    }

    record Coordination(Barrier barrier, Event go, Event never, Condition cond, Block state,
            Connection report) implements Serializable {}

    record Report(String what, long pid, Object value) implements Serializable {}

    /**
     * A lock received from a child that has exited since still works here, but cannot be sent
     * on: its arena was unlinked with its creator. start() of a process that captures it
     * refuses at once, saying why; before, the new child died at its start ("never ran"), and
     * a message carrying it was lost at its get (attack 35).
     */
    @Test
    void aLockWhoseCreatorExitedIsRefusedWhenSentOn() throws Exception {
        try (Pipe pipe = Pipe.open(true)) {
            Connection child = pipe.right();
            Process maker = new Process(() -> {
                try {
                    child.send(new Lock());
                    child.recv(); // until the parent has it
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            maker.start();
            Lock lock = (Lock) pipe.left().recv();
            pipe.left().send("got it");
            maker.join();
            assertEquals(0, maker.exitCode());
            assertTrue(lock.acquire(Duration.ofSeconds(10)), "still a lock here");
            lock.release();
            Process user = new Process(() -> lock.acquire());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    user::start);
            assertTrue(e.getMessage().contains("the process that created it has exited"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> pipe.left().send(lock));
            assertTrue(e.getMessage().contains("the process that created it has exited"),
                    e.getMessage());
        }
    }

    /**
     * Python's {@code Barrier(parties, action)}: the last party of each round runs the action,
     * in its own process, before any party is let through; an action that throws breaks the
     * barrier, its party getting the exception.
     */
    @Test
    void aBarriersActionRunsOncePerRoundInTheLastPartysProcess() throws Exception {
        multiprocessing.sharedctypes.SharedLong rounds = multiprocessing.sharedctypes.RawValue.ofLong(0);
        multiprocessing.sharedctypes.SharedLong ranBy = multiprocessing.sharedctypes.RawValue.ofLong(0);
        Barrier barrier = new Barrier(3, () -> {
            rounds.getAndAdd(1);
            ranBy.set(ProcessHandle.current().pid());
        }, Duration.ofSeconds(60));
        SerializableRunnable party = () -> {
            for (int r = 1; r <= 5; r++) {
                int index = barrier.await();
                if (rounds.get() < r) {
                    throw new AssertionError("let through before the action ran: round " + r);
                }
                if (index == 2 && ranBy.get() != ProcessHandle.current().pid()) {
                    throw new AssertionError("the action ran elsewhere than in the last party");
                }
                barrier.await(); // nobody reads ranBy of a round while the next one's runs
            }
        };
        List<Process> children = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            children.add(new Process(party));
        }
        for (Process p : children) {
            p.start();
        }
        party.run();
        for (Process p : children) {
            p.join();
            assertEquals(0, p.exitCode());
        }
        assertEquals(10, rounds.get(), "once per round: 5 rounds of two awaits");

        Barrier failing = new Barrier(2, () -> {
            throw new IllegalStateException("action failed");
        }, Duration.ofSeconds(60));
        java.util.concurrent.atomic.AtomicReference<Throwable> other =
                new java.util.concurrent.atomic.AtomicReference<>();
        Thread first = Thread.ofPlatform().start(() -> {
            try {
                failing.await();
            } catch (Throwable t) {
                other.set(t);
            }
        });
        while (failing.nWaiting() < 1) {
            Thread.sleep(10);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, failing::await);
        assertEquals("action failed", e.getMessage());
        first.join();
        assertTrue(other.get() instanceof BrokenBarrierException, String.valueOf(other.get()));
        assertTrue(failing.broken());
    }

    @Test
    void barrierEventAndConditionAcrossThreeProcesses() throws Exception {
        try (Pipe pipe = Pipe.open(false)) {
            Coordination c = new Coordination(new Barrier(3), new Event(), new Event(),
                    new Condition(new Lock()), Heap.allocate(16), pipe.right());
            List<Process> children = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Process p = new Process(() -> {
                    long me = ProcessHandle.current().pid();
                    try {
                        c.report().send(new Report("barrier", me, c.barrier().await(Duration.ofSeconds(30))));
                        c.report().send(new Report("event", me, c.go().await(Duration.ofSeconds(30))));
                        long t0 = System.nanoTime();
                        boolean never = c.never().await(Duration.ofMillis(200));
                        c.report().send(new Report("timeout", me,
                                never + " " + (System.nanoTime() - t0) / 1_000_000));
                        var seg = c.state().segment();
                        c.cond().acquire();
                        boolean signalled;
                        try {
                            seg.set(JAVA_INT, 0, seg.get(JAVA_INT, 0) + 1); // ready
                            signalled = c.cond().await(Duration.ofSeconds(30));
                            seg.set(JAVA_INT, 4, seg.get(JAVA_INT, 4) + 1); // woken
                        } finally {
                            c.cond().release();
                        }
                        c.report().send(new Report("cond", me, signalled));
                    } catch (Exception e) {
                        c.report().send(new Report("error", me, e.toString()));
                    }
                });
                p.start();
                children.add(p);
            }
            Connection in = pipe.left();
            Set<Integer> indexes = new HashSet<>();
            indexes.add(c.barrier().await(Duration.ofSeconds(60)));
            for (int i = 0; i < 2; i++) {
                Report r = (Report) in.recv();
                assertEquals("barrier", r.what(), r.toString());
                indexes.add((Integer) r.value());
            }
            assertEquals(Set.of(0, 1, 2), indexes);
            assertFalse(c.barrier().broken());

            // Both children now wait for the event.
            assertFalse(in.poll(Duration.ofMillis(200)), "no child gets past an unset event");
            c.go().set();
            for (int i = 0; i < 2; i++) {
                Report r = (Report) in.recv();
                assertEquals(new Report("event", r.pid(), true), r);
            }
            for (int i = 0; i < 2; i++) {
                Report r = (Report) in.recv();
                assertEquals("timeout", r.what(), r.toString());
                String[] parts = ((String) r.value()).split(" ");
                assertEquals("false", parts[0]);
                assertTrue(Long.parseLong(parts[1]) >= 190, r.toString());
            }

            var seg = c.state().segment();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (true) {
                c.cond().acquire();
                int ready = seg.get(JAVA_INT, 0);
                c.cond().release();
                if (ready == 2 || System.nanoTime() > deadline) {
                    break;
                }
                Thread.sleep(10);
            }
            c.cond().acquire();
            c.cond().signal();
            c.cond().release();
            Report first = (Report) in.recv();
            assertEquals(new Report("cond", first.pid(), true), first);
            assertFalse(in.poll(Duration.ofMillis(300)), "signal() woke only one process");
            c.cond().acquire();
            assertEquals(1, seg.get(JAVA_INT, 4));
            c.cond().signalAll();
            c.cond().release();
            Report second = (Report) in.recv();
            assertEquals(new Report("cond", second.pid(), true), second);
            assertTrue(first.pid() != second.pid());
            for (Process p : children) {
                p.join();
                assertEquals(0, p.exitCode());
                p.close();
            }
        }
    }

    record Held(Lock a, RLock r, Lock b, Event held) implements Serializable {}

    @Test
    void deadOwnersAreReportedAndOtherProcessesFollowPythonsRules() throws Exception {
        try (Pipe pipe = Pipe.open(false)) {
            Connection fromParent = pipe.left();
            Held h = new Held(new Lock(), new RLock(), new Lock(), new Event());
            Process holder = new Process(() -> {
                Held got = (Held) fromParent.recv(); // the primitives sent through a pipe
                got.a().acquire();
                got.r().acquire();
                got.r().acquire();
                got.b().acquire();
                got.held().set();
                try {
                    Thread.sleep(120_000);
                } catch (InterruptedException e) {
                    // killed long before
                }
            });
            holder.start();
            pipe.right().send(h);
            assertTrue(h.held().await(Duration.ofSeconds(60)));
            int pid = holder.pid().intValue();

            // While the owner lives: timeouts and Python's errors, no OwnerDeadException.
            assertFalse(h.a().acquire(false));
            assertFalse(h.a().acquire(Duration.ofMillis(300)));
            assertFalse(h.r().acquire(Duration.ofMillis(300)));
            assertTrue(h.a().toString().contains("SomeOtherProcess"), h.a().toString());
            assertThrows(IllegalMonitorStateException.class, h.r()::release);
            h.b().release(); // any process may release a Lock
            assertTrue(h.b().acquire(false));
            h.b().release();
            assertThrows(IllegalStateException.class, h.b()::release);

            holder.kill();
            long t0 = System.nanoTime();
            OwnerDeadException e = assertThrows(OwnerDeadException.class,
                    () -> h.a().acquire(Duration.ofSeconds(20)));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 2000, "detected after " + ms + " ms");
            assertEquals(pid, e.pid());
            assertTrue(e.getMessage().contains(String.valueOf(pid)), e.getMessage());
            // The caller holds the lock now; a plain release makes it usable again.
            assertTrue(h.a().isHeldByCurrentThread());
            h.a().release();
            assertTrue(h.a().acquire(Duration.ofSeconds(1)));
            h.a().release();

            e = assertThrows(OwnerDeadException.class, h.r()::acquire);
            assertEquals(pid, e.pid());
            assertEquals(1, h.r().getHoldCount());
            h.r().release();
            assertFalse(h.r().isHeldByCurrentThread());
            holder.join();
            assertEquals(-9, holder.exitCode());
            holder.close();

            // A child that returns while holding a lock.
            Lock c = new Lock();
            Process leaver = new Process(() -> c.acquire());
            leaver.start();
            leaver.join();
            assertEquals(0, leaver.exitCode());
            assertTrue(c.locked());
            e = assertThrows(OwnerDeadException.class, () -> c.acquire(Duration.ofSeconds(20)));
            assertEquals(leaver.pid().longValue(), e.pid());
            c.release();

            // A caller that only polls (acquire(false), tryLock()) is told too: it used to be
            // refused forever, since only a sleeping waiter looked at the owner.
            Process poller = new Process(() -> c.acquire());
            poller.start();
            poller.join();
            assertTrue(c.locked());
            OwnerDeadException polled = null;
            for (long end = System.nanoTime() + 30_000_000_000L; polled == null && System.nanoTime() < end; ) {
                try {
                    assertFalse(c.tryLock(), "taken without OwnerDeadException");
                    Thread.sleep(10);
                } catch (OwnerDeadException dead) {
                    polled = dead;
                }
            }
            assertTrue(polled != null, "a polling acquire never saw the owner's death");
            assertEquals(poller.pid().longValue(), polled.pid());
            assertTrue(c.isHeldByCurrentThread());
            c.release();
            poller.close();
            leaver.close();
        }
    }

    /**
     * An interrupt wakes a platform thread asleep in the kernel on a Condition at once: the
     * child's sleeps look at their interrupt status, and look again unwoken, only every 10
     * minutes, so only the wake the interrupt makes can end one within the test. A thread
     * asleep on the same word that is not interrupted sleeps on until it is signalled.
     */
    @Test
    void anInterruptWakesAThreadAsleepOnAConditionWithoutWaitingForItsNextLook()
            throws Exception {
        Condition cond = new Condition();
        Event asleep = new Event();
        Process p = multiprocessing.Multiprocessing.getContext("spawn")
                .withJvmOptions("-Dmultiprocessing.wait.interruptCheckMillis=600000",
                        "-Dmultiprocessing.wait.recheckMillis=600000")
                .process(() -> {
                    java.util.concurrent.atomic.AtomicInteger interrupted =
                            new java.util.concurrent.atomic.AtomicInteger();
                    java.util.concurrent.atomic.AtomicInteger signalled =
                            new java.util.concurrent.atomic.AtomicInteger();
                    Thread[] waiters = new Thread[2];
                    for (int i = 0; i < 2; i++) {
                        waiters[i] = new Thread(() -> {
                            cond.acquire();
                            try {
                                cond.await();
                                signalled.incrementAndGet();
                            } catch (InterruptedException e) {
                                interrupted.incrementAndGet();
                            } finally {
                                cond.release();
                            }
                        });
                        waiters[i].start();
                    }
                    try {
                        Thread.sleep(500); // past their spin: both asleep in the kernel
                        asleep.set();
                        waiters[0].interrupt();
                        waiters[0].join(30_000);
                        boolean woken = !waiters[0].isAlive() && interrupted.get() == 1;
                        boolean bystanderSleeps = waiters[1].isAlive() && signalled.get() == 0;
                        cond.acquire();
                        cond.signalAll();
                        cond.release();
                        waiters[1].join(30_000);
                        System.exit(!woken ? 1 : !bystanderSleeps ? 2
                                : signalled.get() != 1 ? 3 : 0);
                    } catch (InterruptedException e) {
                        System.exit(4);
                    }
                });
        p.start();
        try {
            assertTrue(asleep.await(Duration.ofSeconds(60)), "the child's waiters sleep");
            p.join(Duration.ofSeconds(90));
            assertEquals(0, p.exitCode(), "1: the interrupt did not wake its thread; 2: the"
                    + " other waiter's wait ended too; 3: the other was not signalled");
        } finally {
            p.kill();
            p.join();
            p.close();
        }
    }
    /**
     * An interrupt that comes between a sleeper's last look at its interrupt status and its
     * entry into the kernel still ends the wait at once: the child stalls each interruptible
     * sleeper for a second in that window and looks again unwoken only every 10 minutes, and
     * the interrupt comes inside the stall. Where the kernel lacks futex_waitv the library
     * looks every 200 ms for such an interrupt instead, and the test is skipped.
     */
    @Test
    void anInterruptJustBeforeTheSleepEndsTheWaitAtOnce() throws Exception {
        Lock lock = new Lock();
        Process p = multiprocessing.Multiprocessing.getContext("spawn")
                .withJvmOptions("-Dmultiprocessing.wait.interruptCheckMillis=600000",
                        "-Dmultiprocessing.wait.recheckMillis=600000",
                        "-Dmultiprocessing.wait.testBeforeSleepStallMillis=1000")
                .process(() -> {
                    if (!multiprocessing.internal.posix.Futex.waitvAvailable()) {
                        System.exit(5);
                    }
                    java.util.concurrent.atomic.AtomicBoolean interrupted =
                            new java.util.concurrent.atomic.AtomicBoolean();
                    lock.lock();
                    Thread waiter = new Thread(() -> {
                        try {
                            lock.lockInterruptibly();
                            lock.unlock();
                        } catch (InterruptedException e) {
                            interrupted.set(true);
                        }
                    });
                    try {
                        waiter.start();
                        Thread.sleep(300); // past its spin, inside its first stall
                        waiter.interrupt();
                        waiter.join(30_000);
                        System.exit(waiter.isAlive() ? 1 : interrupted.get() ? 0 : 2);
                    } catch (InterruptedException e) {
                        System.exit(4);
                    }
                });
        p.start();
        try {
            p.join(Duration.ofSeconds(90));
            org.junit.jupiter.api.Assumptions.assumeFalse(p.exitCode() == 5,
                    "this kernel has no futex_waitv");
            assertEquals(0, p.exitCode(), "1: the interrupt did not end the wait; 2: the wait"
                    + " ended without InterruptedException");
        } finally {
            p.kill();
            p.join();
            p.close();
        }
    }

    /**
     * A party killed (SIGKILL) while it waits has arrived: its round ends when the others
     * arrive, and the barrier goes on. It was never counted out of Python's drain, and every
     * later wait, timed or not, and every reset waited for it for ever (attack 29).
     */
    @Test
    void aPartyKilledWhileItWaitsLeavesTheBarrierUsable() throws Exception {
        Barrier b = new Barrier(3);
        withAPartyKilledWaiting(b, () -> b.await(), other -> {
            assertEquals(2, b.await(Duration.ofSeconds(30)),
                    "the round ends with its last arrival");
            other.join(Duration.ofSeconds(30));
            assertEquals(0, other.exitCode());
            // The next rounds are as any: one that times out breaks, reset() mends it.
            assertThrows(BrokenBarrierException.class, () -> b.await(Duration.ofMillis(100)));
            assertTrue(b.broken());
            b.reset();
            assertEquals(List.of(0, 1, 2), oneRound(b));
        });
    }

    /** The same party killed, then a reset: the round's live waiter is told, the next goes. */
    @Test
    void aResetAfterAPartyWasKilledWaitingBreaksItsRoundAndTheNextGoes() throws Exception {
        Barrier b = new Barrier(3);
        withAPartyKilledWaiting(b, () -> {
            try {
                b.await();
            } catch (BrokenBarrierException expected) {
                System.exit(7);
            }
        }, other -> {
            b.reset();
            other.join(Duration.ofSeconds(30));
            assertEquals(7, other.exitCode(), "the live waiter of the reset round");
            assertFalse(b.broken());
            assertEquals(0, b.nWaiting());
            assertEquals(List.of(0, 1, 2), oneRound(b));
        });
    }

    /** What a test does once a party of its barrier has been killed waiting. */
    private interface AfterTheKill {
        void run(Process other) throws Exception;
    }

    /**
     * Starts two parties of {@code b} (of three), a victim and {@code other}, kills the victim
     * once both wait, and runs {@code then} with the other; ends both.
     */
    private static void withAPartyKilledWaiting(Barrier b, SerializableRunnable other,
            AfterTheKill then) throws Exception {
        Process victim = new Process(() -> b.await());
        Process live = new Process(other);
        victim.start();
        live.start();
        try {
            awaitWaiting(b, 2);
            victim.kill();
            victim.join();
            then.run(live);
        } finally {
            victim.kill();
            live.kill();
            victim.join();
            live.join();
        }
    }

    private static void awaitWaiting(Barrier b, int n) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (b.nWaiting() < n) {
            assertTrue(System.nanoTime() < deadline, "waiting: " + b);
            Thread.sleep(5);
        }
    }

    /** The indexes of one round of {@code b.parties()} threads of this process, sorted. */
    private static List<Integer> oneRound(Barrier b) throws Exception {
        java.util.concurrent.ExecutorService threads =
                java.util.concurrent.Executors.newFixedThreadPool(b.parties());
        try {
            List<java.util.concurrent.Future<Integer>> indexes = new ArrayList<>();
            for (int i = 0; i < b.parties(); i++) {
                indexes.add(threads.submit(() -> b.await(Duration.ofSeconds(30))));
            }
            List<Integer> got = new ArrayList<>();
            for (var f : indexes) {
                got.add(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
            }
            return got.stream().sorted().toList();
        } finally {
            threads.shutdownNow();
        }
    }
}
