package multiprocessing.synchronize;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A waiter that is woken and killed before it takes what it was woken for (a semaphore's
 * permit) must not take the wake-up with it: the others would sleep on while the permit is
 * free. Nobody can pass a dead waiter's wake-up on, so every sleeper looks again now and then.
 *
 * <p>The woken waiter is a child that stalls after each wake-up (a test hook of the wait
 * loop), so that it can be killed there; it sleeps first, so the kernel's first-come order
 * gives the release's one wake-up to it.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class KilledWakeeTest {
    /** Threads of any process registered to sleep on the semaphore. */
    private static int waiters(Semaphore s) throws ReflectiveOperationException {
        var field = Class.forName("multiprocessing.internal.sync.SyncLayout")
                .getDeclaredField("WAITERS");
        field.setAccessible(true);
        MemorySegment block = s.sync.memory().segment();
        return ((multiprocessing.internal.shm.IntField) field.get(null)).getVolatile(block);
    }

    private static void awaitWaiters(Semaphore s, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (waiters(s) < n) {
            assertTrue(System.nanoTime() < deadline, "never " + n + " waiters");
            Thread.sleep(10);
        }
    }

    @Test
    void aPermitWhoseWakeeWasKilledReachesAnotherWaiter() throws Exception {
        Semaphore s = new Semaphore(0);
        Process wakee = Multiprocessing.getContext("spawn")
                .withJvmOptions("-Dmultiprocessing.wait.testWokenStallMillis=600000")
                .process(s::acquire);
        wakee.start();
        try {
            awaitWaiters(s, 1);
            AtomicBoolean got = new AtomicBoolean();
            Thread patient = new Thread(() -> {
                s.acquire();
                got.set(true);
            });
            patient.setDaemon(true);
            patient.start();
            awaitWaiters(s, 2);
            s.release();
            Thread.sleep(500); // the wake-up reaches the child, which stalls
            wakee.kill();
            wakee.join();
            patient.join(TimeUnit.SECONDS.toMillis(30));
            assertTrue(got.get(), "the permit stayed free while a waiter slept on (the wake-up"
                    + " died with the waiter killed after it was woken)");
        } finally {
            if (wakee.isAlive()) {
                wakee.kill();
                wakee.join();
            }
        }
    }
}
