package multiprocessing.internal.managers;

import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import multiprocessing.internal.util.Durations;

/**
 * A manager's {@code Barrier} (Python's {@code threading.Barrier}), by generations as
 * {@link java.util.concurrent.CyclicBarrier} counts them, with the state Python has and it
 * lacks: {@link #abort()} leaves the current generation broken until {@link #reset()}, under
 * the same lock as every arrival, so an await racing an abort either sees it or is woken by
 * it. On a CyclicBarrier, whose only way to break is {@code reset()}, an await that looked at
 * the abort's flag just before it was set went into the fresh generation the reset began, and
 * waited out its whole timeout (attack 29b).
 */
public final class ServerBarrier implements Concurrent {
    private final int parties;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ended = lock.newCondition();
    /** The current generation; a new one when a round trips or is reset. Guarded by lock. */
    private Generation generation = new Generation();
    /** Parties arrived in the current generation. Guarded by lock. */
    private int count;

    private static final class Generation {
        boolean broken;
    }

    public ServerBarrier(int parties) {
        if (parties <= 0) {
            throw new IllegalArgumentException("parties must be > 0");
        }
        this.parties = parties;
    }

    /** Python's index: 0 for the first thread to arrive, parties - 1 for the last. */
    public int await() throws InterruptedException, BrokenBarrierException {
        return await((Duration) null);
    }

    /** As {@link #await()}; a timeout breaks the barrier, as in Python. */
    public int await(Duration timeout) throws InterruptedException, BrokenBarrierException {
        boolean timed = timeout != null;
        long nanos = timed ? Math.max(0, Durations.nanos(timeout)) : 0;
        lock.lock();
        try {
            Generation g = generation;
            if (g.broken) {
                throw new BrokenBarrierException("the barrier is broken");
            }
            int index = count++;
            if (count == parties) {
                nextGeneration();
                return index;
            }
            while (true) {
                try {
                    if (!timed) {
                        ended.await();
                    } else if (nanos > 0) {
                        nanos = ended.awaitNanos(nanos); // <= 0 once the time is up
                    }
                } catch (InterruptedException e) {
                    if (g == generation && !g.broken) {
                        breakBarrier();
                        throw e;
                    }
                    Thread.currentThread().interrupt(); // its round ended first: that stands
                }
                if (g.broken) {
                    throw new BrokenBarrierException("the barrier is broken");
                }
                if (g != generation) {
                    return index;
                }
                if (timed && nanos <= 0) {
                    breakBarrier();
                    throw new BrokenBarrierException("timed out after " + timeout
                            + "; the barrier is broken");
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void nextGeneration() {
        ended.signalAll();
        generation = new Generation();
        count = 0;
    }

    private void breakBarrier() {
        generation.broken = true;
        ended.signalAll();
    }

    public void reset() {
        lock.lock();
        try {
            breakBarrier(); // the waiters of the current round
            nextGeneration();
        } finally {
            lock.unlock();
        }
    }

    public void abort() {
        lock.lock();
        try {
            breakBarrier();
        } finally {
            lock.unlock();
        }
    }

    public int parties() {
        return parties;
    }

    public int nWaiting() {
        lock.lock();
        try {
            return generation.broken ? 0 : count;
        } finally {
            lock.unlock();
        }
    }

    public boolean broken() {
        lock.lock();
        try {
            return generation.broken;
        } finally {
            lock.unlock();
        }
    }
}
