package multiprocessing.internal.sync;

import static multiprocessing.internal.sync.SyncLayout.BOUND;
import static multiprocessing.internal.sync.SyncLayout.COUNT;
import static multiprocessing.internal.sync.SyncLayout.PHASE;

import java.util.concurrent.BrokenBarrierException;

import multiprocessing.synchronize.OwnerDeadException;

/**
 * Python's threading.Barrier (which multiprocessing.Barrier reuses over shared memory), ported
 * line by line onto one block: its lock is the block's {@code state}, its condition the block's
 * {@code sequence}, its {@code _state}, {@code _count} and {@code _parties} the block's
 * {@code phase}, {@code count} and {@code bound}. Every access to those three is under the lock.
 */
public final class BarrierSync {
    private static final int FILLING = 0;
    private static final int DRAINING = 1;
    private static final int RESETTING = -1;
    private static final int BROKEN = -2;

    private final SyncMemory memory;
    private final LockSync lock;
    private final ConditionSync cond;

    public BarrierSync(SyncMemory memory) {
        this.memory = memory;
        this.lock = new LockSync(memory, false);
        this.cond = new ConditionSync(memory, lock);
    }

    public SyncMemory memory() {
        return memory;
    }

    public void init(int parties) {
        BOUND.setVolatile(lock.block, parties);
    }

    private int phase() {
        return (int) PHASE.getVolatile(lock.block);
    }

    private void phase(int p) {
        PHASE.setVolatile(lock.block, p);
    }

    private int count() {
        return (int) COUNT.getVolatile(lock.block);
    }

    private void count(int c) {
        COUNT.setVolatile(lock.block, c);
    }

    public int parties() {
        return (int) BOUND.getVolatile(lock.block);
    }

    private void enterLock() {
        try {
            lock.acquire(0, -1);
        } catch (OwnerDeadException e) {
            // A party died inside the barrier's few instructions: the counts cannot be trusted.
            phase(BROKEN);
            cond.signalAll();
        }
    }

    /** Python's Barrier.wait: the arrival index (0 .. parties-1). */
    public int await(long timeoutNanos) throws InterruptedException, BrokenBarrierException {
        long start = System.nanoTime();
        enterLock();
        try {
            // _enter: block while the barrier drains or resets.
            while (phase() == DRAINING || phase() == RESETTING) {
                cond.await(-1, false);
            }
            if (phase() < 0) {
                throw new BrokenBarrierException();
            }
            int index = count();
            count(index + 1);
            try {
                if (index + 1 == parties()) {
                    phase(DRAINING);
                    cond.signalAll();
                } else {
                    awaitRelease(start, timeoutNanos);
                }
                return index;
            } finally {
                count(count() - 1);
                // _exit: the last one out lets the next round in.
                if (count() == 0 && (phase() == RESETTING || phase() == DRAINING)) {
                    phase(FILLING);
                    cond.signalAll();
                }
            }
        } finally {
            lock.release();
        }
    }

    private void awaitRelease(long start, long timeoutNanos)
            throws InterruptedException, BrokenBarrierException {
        while (phase() == FILLING) {
            long remaining = timeoutNanos < 0 ? -1 : timeoutNanos - (System.nanoTime() - start);
            if (timeoutNanos >= 0 && remaining <= 0) {
                breakBarrier();
                throw new BrokenBarrierException("the barrier timed out");
            }
            try {
                cond.await(remaining, true);
            } catch (InterruptedException e) {
                breakBarrier();
                throw e;
            }
        }
        if (phase() < 0) {
            throw new BrokenBarrierException();
        }
    }

    private void breakBarrier() {
        phase(BROKEN);
        cond.signalAll();
    }

    public void reset() {
        enterLock();
        try {
            if (count() > 0) {
                if (phase() == FILLING || phase() == BROKEN) {
                    phase(RESETTING);
                }
            } else {
                phase(FILLING);
            }
            cond.signalAll();
        } finally {
            lock.release();
        }
    }

    public void abort() {
        enterLock();
        try {
            breakBarrier();
        } finally {
            lock.release();
        }
    }

    /** Parties waiting now (0 while draining). */
    public int nWaiting() {
        return phase() == FILLING ? count() : 0;
    }

    public boolean broken() {
        return phase() == BROKEN;
    }
}
