package multiprocessing.synchronize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.Process;
import multiprocessing.NoLeftoverSharedMemory;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A waiter that is woken by a release and then gives up (interrupted) must pass the wake-up on:
 * otherwise the lock is free while another waiter sleeps on until something else wakes it.
 *
 * <p>The waiter that must not be forgotten is a plain {@code lock()} in the owner's own process:
 * it sleeps with no time limit (an owner of its own process cannot die under it). It starts to
 * wait after the interruptible ones, so that the kernel's first-come order gives the release's
 * one wake-up to an interruptible waiter, which is interrupted at once.
 *
 * <p>The rounds run in a child whose sleepers look again unwoken only every 10 minutes: a
 * wake-up that is not passed on then leaves the patient waiter asleep past the test's bound,
 * where the default recheck (1 s) ended its sleep and hid the loss. It was lost in about half
 * the rounds when the release's wake-up and the interrupt's reached a waiter together (the
 * kernel then names only the interrupt's word).
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WakeUpHandOffTest {
    private static final int ROUNDS = 30;
    private static final int INTERRUPTIBLE = 3;

    private static Thread start(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Takes the lock if it can, lets it go at once; an interrupt just ends the wait. */
    private static Runnable interruptibleWaiter(Lock lock, boolean timed) {
        return () -> {
            try {
                if (timed) {
                    if (!lock.tryLock(1, TimeUnit.MINUTES)) {
                        return;
                    }
                } else {
                    lock.lockInterruptibly();
                }
                lock.unlock();
            } catch (InterruptedException expected) {
                // gave up: the point of the test is what it left for the others
            }
        };
    }

    private static void joinOrFail(List<Thread> threads, String what) throws InterruptedException {
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(20));
            if (t.isAlive()) {
                fail(what + ": " + t.getName() + " still waits for a free lock (a lost wake-up)");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void anInterruptedWaiterPassesTheWakeUpOnToAThreadThatWaitsForever(boolean timed)
            throws Exception {
        Process child = Multiprocessing.getContext("spawn")
                .withJvmOptions("-Dmultiprocessing.wait.recheckMillis=600000")
                .process(() -> rounds(timed));
        child.start();
        child.join();
        assertEquals(0, child.exitCode(), "a round failed in the child (its stderr says which)");
        child.close();
    }

    private static void rounds(boolean timed) throws InterruptedException {
        for (int round = 0; round < ROUNDS; round++) {
            Lock lock = new Lock();
            lock.lock();
            List<Thread> interruptible = new ArrayList<>();
            for (int i = 0; i < INTERRUPTIBLE; i++) {
                interruptible.add(start("interruptible-" + i, interruptibleWaiter(lock, timed)));
            }
            Thread.sleep(10); // they sleep in the kernel now (no timing is asserted)
            Thread patient = start("patient", () -> {
                lock.lock();
                lock.unlock();
            });
            Thread.sleep(3);
            lock.unlock();
            interruptible.forEach(Thread::interrupt);
            joinOrFail(interruptible, "round " + round);
            joinOrFail(List.of(patient), "round " + round);
            assertFalse(lock.locked());
        }
    }
}
