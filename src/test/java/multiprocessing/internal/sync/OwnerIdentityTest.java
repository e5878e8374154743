package multiprocessing.internal.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.internal.posix.ProcessIdentity;
import multiprocessing.synchronize.OwnerDeadException;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A lock's owner is a pid and the start time of the process that had it: a live process that
 * was given a dead owner's pid is not the owner, this one included. The tests write a fake
 * owner into a lock's owner word: the pid of a live child process (or this one) with a start
 * time or namespace of their choice.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class OwnerIdentityTest {
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

    private static LockSync lockOwnedBy(int owner, long start, int namespace) {
        LockSync lock = new LockSync(SyncMemory.allocate(), false);
        SyncLayout.OWNER_WORD.setVolatile(lock.block,
                SyncLayout.ownerWord(owner, ProcessIdentity.tag(start, namespace)));
        return lock;
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

    @Test
    void aLivePidWithAnotherStartTimeIsADeadOwner() throws Exception {
        long wrong = startOfSleeper() + 1; // the owner that had this pid before
        LockSync lock = lockOwnedBy(pid, wrong, ProcessIdentity.NAMESPACE);
        OwnerDeadException e = assertThrows(OwnerDeadException.class,
                () -> lock.acquire(0, TimeUnit.SECONDS.toNanos(30)));
        assertTrue(e.getMessage().contains(String.valueOf(pid)), e.getMessage());
        // The waiter took the lock over: it is this process's now, and releases normally.
        assertEquals(Synchronizer.PID, lock.owner());
        lock.release();
        assertFalse(lock.locked());
    }

    @Test
    void aNonBlockingAcquireSeesTheReusedPidToo() throws Exception {
        LockSync lock = lockOwnedBy(pid, startOfSleeper() + 1, ProcessIdentity.NAMESPACE);
        assertThrows(OwnerDeadException.class, () -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                lock.acquire(0, 0);
                Thread.sleep(20);
            }
        });
        lock.release();
    }

    @Test
    void shortTimedWaitsRetriedSeeTheDeadOwnerToo() throws Exception {
        // Each wait ends before the 100 ms a sleeping waiter waits between its looks at the
        // owner: the timed-out ones look, as failed polls do.
        LockSync lock = lockOwnedBy(pid, startOfSleeper() + 1, ProcessIdentity.NAMESPACE);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        OwnerDeadException e = assertThrows(OwnerDeadException.class, () -> {
            while (System.nanoTime() < deadline) {
                lock.acquire(0, TimeUnit.MILLISECONDS.toNanos(20));
            }
        });
        assertTrue(e.getMessage().contains(String.valueOf(pid)), e.getMessage());
        assertTrue(lock.heldByCurrentThread());
        lock.release();
    }

    @Test
    void theRightStartTimeIsALiveOwner() throws Exception {
        LockSync lock = lockOwnedBy(pid, startOfSleeper(), ProcessIdentity.NAMESPACE);
        assertFalse(lock.acquire(0, TimeUnit.MILLISECONDS.toNanos(300)));
        assertEquals(pid, lock.owner());
    }

    @Test
    void aDeadOwnerThatHadThisProcesssPidIsTakenOverFrom() throws Exception {
        LockSync lock = lockOwnedBy(Synchronizer.PID, ProcessIdentity.START + 1,
                ProcessIdentity.NAMESPACE);
        assertFalse(lock.heldByCurrentThread(), "another process's hold passed for this one's");
        OwnerDeadException e = assertThrows(OwnerDeadException.class,
                () -> lock.acquire(0, TimeUnit.SECONDS.toNanos(30)));
        assertTrue(e.getMessage().contains(String.valueOf(Synchronizer.PID)), e.getMessage());
        assertTrue(lock.heldByCurrentThread());
        lock.release();
        assertFalse(lock.locked());
    }

    @Test
    void aLockHeldByAnotherThreadOfThisProcessIsNotTakenOver() throws Exception {
        LockSync lock = new LockSync(SyncMemory.allocate(), false);
        assertTrue(lock.acquire(0, 0));
        // Another thread of this process waits on it as long as it asks, owner checks
        // included: the owner lives.
        FutureTask<Boolean> other = new FutureTask<>(
                () -> lock.acquire(0, TimeUnit.MILLISECONDS.toNanos(500)));
        Thread.ofPlatform().start(other);
        assertFalse(other.get());
        assertTrue(lock.heldByCurrentThread());
        lock.release();
    }

    @Test
    void aThreadOfAnotherProcessWithTheSameIdIsNotThisThread() {
        // The moment attack 28 found: this thread reads the owner word naming this process,
        // whose holder then releases, and the next owner, a thread of another process that
        // has this thread's id, writes who it is before this thread reads that. Both reads
        // are set up here at once: the word still says this process, the thread field says
        // the other process's thread.
        for (boolean recursive : new boolean[] {false, true}) {
            LockSync lock = new LockSync(SyncMemory.allocate(), recursive);
            SyncLayout.OWNER_WORD.setVolatile(lock.block,
                    SyncLayout.ownerWord(Synchronizer.PID, ProcessIdentity.TAG));
            SyncLayout.OWNER_THREAD.setVolatile(lock.block,
                    LockSync.token(pid, Thread.currentThread().threadId()));
            SyncLayout.RECURSION.setVolatile(lock.block, 1);
            assertFalse(lock.heldByCurrentThread(), "recursive " + recursive);
            assertEquals(0, lock.holdCount(), "recursive " + recursive);
            // Not entered again as this thread's own (an RLock's hold count raised on
            // another's hold): it waits, and the hold count stays the other thread's.
            assertFalse(lock.acquire(0, 0), "recursive " + recursive);
            assertEquals(1, (int) SyncLayout.RECURSION.getVolatile(lock.block));
            if (recursive) {
                assertThrows(IllegalMonitorStateException.class, lock::release);
            }
        }
    }

    @Test
    void anOwnerOfAnotherPidNamespaceIsNeverTakenForDead() throws Exception {
        // Its pid means nothing here, even one no process has: better wait than take a live
        // owner's lock.
        LockSync lock = lockOwnedBy(Integer.MAX_VALUE >> 8, 12345, ProcessIdentity.NAMESPACE ^ 1);
        assertFalse(lock.acquire(0, TimeUnit.MILLISECONDS.toNanos(300)));
        assertTrue(lock.locked());
    }
}
