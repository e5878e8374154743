package multiprocessing.internal.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import multiprocessing.internal.posix.ProcessIdentity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** LockSync's owner word, written as another process would have left it. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LockSyncTest {

    /**
     * A lock whose owner has this process's pid but another pid namespace's identity is not
     * taken over: two containers sharing /dev/shm number their processes alike (both JVMs pid
     * 1), and a live owner there was taken for dead here, the lock then held twice (review 45).
     */
    @Test
    void anOwnerOfThisPidInAnotherNamespaceIsNotTakenForDead() throws Exception {
        SyncMemory memory = SyncMemory.local();
        LockSync lock = new LockSync(memory, false);
        int otherNamespace = (ProcessIdentity.NAMESPACE & 0x7fff) ^ 0x155;
        int tag = ProcessIdentity.tag(ProcessIdentity.START + 1, otherNamespace);
        assertTrue(ProcessIdentity.ofAnotherNamespace(tag));
        SyncLayout.OWNER_WORD.setVolatile(memory.segment(), SyncLayout.ownerWord(Synchronizer.PID, tag));
        // Twice the owner-check interval: a timed acquire looks at the owner as it waits.
        assertFalse(lock.acquire(0, 300_000_000L), "taken from a live owner");
        assertEquals(Synchronizer.PID, lock.owner());

        // The same pid with this namespace's identity but another start: that owner is dead.
        int mine = ProcessIdentity.tag(ProcessIdentity.START + 1, ProcessIdentity.NAMESPACE);
        SyncLayout.OWNER_WORD.setVolatile(memory.segment(), SyncLayout.ownerWord(Synchronizer.PID, mine));
        assertThrows(multiprocessing.synchronize.OwnerDeadException.class,
                () -> lock.acquire(0, 300_000_000L));
        assertTrue(lock.heldByCurrentThread());
        lock.release();
    }

    /**
     * An RLock held Integer.MAX_VALUE times refuses one more hold, as ReentrantLock does: the
     * count wrapped to 0, and the next release freed a lock its thread still held (review 45).
     */
    @Test
    void anRLockRefusesAHoldPastTheLargestCount() {
        SyncMemory memory = SyncMemory.local();
        LockSync rlock = new LockSync(memory, true);
        assertTrue(rlock.acquire(0, -1));
        SyncLayout.RECURSION.set(memory.segment(), Integer.MAX_VALUE);
        assertThrows(Error.class, () -> rlock.acquire(0, -1));
        assertEquals(Integer.MAX_VALUE, rlock.holdCount());
        SyncLayout.RECURSION.set(memory.segment(), 1);
        rlock.release();
        assertFalse(rlock.locked());
    }
}
