package multiprocessing.internal.sync;

import static multiprocessing.internal.sync.SyncLayout.BOUND;
import static multiprocessing.internal.sync.SyncLayout.BROKEN_ROUNDS;
import static multiprocessing.internal.sync.SyncLayout.BROKEN_TOTAL;
import static multiprocessing.internal.sync.SyncLayout.COUNT;
import static multiprocessing.internal.sync.SyncLayout.LAST_BROKEN;
import static multiprocessing.internal.sync.SyncLayout.ROUND;

import java.util.concurrent.BrokenBarrierException;

import multiprocessing.SerializableRunnable;
import multiprocessing.synchronize.OwnerDeadException;

/**
 * Python's threading.Barrier (which multiprocessing.Barrier reuses over shared memory) on one
 * block: its lock is the block's {@code state}, its condition the block's {@code sequence}, its
 * parties the block's {@code bound}. Every access to the fields below is under the lock.
 *
 * <h2>Implementation note</h2>
 * Rounds are counted as {@link java.util.concurrent.CyclicBarrier} counts its generations, not
 * drained as Python's are. {@code round} is the current round's number (wrapping), {@code count}
 * the parties that have arrived in it, and {@code brokenRounds} how rounds ended: bit 0 is set
 * while the current round is broken (a wait timed out or was interrupted, or {@link #abort}),
 * bit {@code k} (1 to {@value #HISTORY}) when the round {@code k} before the current one ended
 * broken ({@link #reset} while parties waited in it, or after it broke); {@code brokenTotal}
 * counts the rounds that ended broken and {@code lastBroken} is the last one's number. A round
 * ends when its last party arrives, or at a reset; the next one begins at once, with nobody in
 * it. A waiter knows its round's number and the broken total when it arrived: woken, it returns
 * its index if its round ended whole, and throws {@link BrokenBarrierException} if its round
 * broke or was reset. It reads that in the history when its round ended at most {@value
 * #HISTORY} rounds ago, else from the total: unchanged, no round has broken since it arrived;
 * one more, its own broke if it is the last broken.
 *
 * <p>Why not Python's drain: Python keeps a round's waiters counted until each has left
 * ({@code DRAINING}, {@code RESETTING}) and lets nobody into the next round until then. A party
 * killed while it waited is never counted out, so every later {@code await}, timed or not, and
 * every {@code reset()} waited for it for ever (attack 29). Here nothing waits for a party to
 * leave. A party killed while it waits has arrived all the same: its round ends when the others
 * arrive, with one live party fewer, and {@link #nWaiting} counts it until then.
 *
 * <p>A woken waiter may get the lock back many rounds after its own ended: with seven threads
 * on a Barrier(3), one in about 70 waiters did so after more than 31 (attack 29b), and guessed
 * "broken" before the total was kept. Only a waiter whose round ended more than {@value
 * #HISTORY} rounds ago, after which two or more rounds broke, still cannot tell: it takes its
 * own as broken.
 */
public final class BarrierSync {
    /** How many ended rounds {@code brokenRounds} remembers. */
    private static final int HISTORY = 31;
    /** {@code brokenRounds}' bit for the current round. */
    private static final int BROKEN_NOW = 1;

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

    private int round() {
        return (int) ROUND.getVolatile(lock.block);
    }

    private int count() {
        return (int) COUNT.getVolatile(lock.block);
    }

    private void count(int c) {
        COUNT.setVolatile(lock.block, c);
    }

    private int brokenRounds() {
        return (int) BROKEN_ROUNDS.getVolatile(lock.block);
    }

    private void brokenRounds(int bits) {
        BROKEN_ROUNDS.setVolatile(lock.block, bits);
    }

    public int parties() {
        return (int) BOUND.getVolatile(lock.block);
    }

    private void enterLock() {
        try {
            lock.acquire(0, -1);
        } catch (OwnerDeadException e) {
            // A party died inside the barrier's few instructions: the counts cannot be trusted.
            breakBarrier();
        }
    }

    /**
     * Python's Barrier.wait: the arrival index (0 .. parties-1). The last party runs
     * {@code action} (if any) before the round ends, holding the lock, as Python's does; if it
     * throws, the barrier breaks and the party gets its exception.
     */
    public int await(long timeoutNanos, SerializableRunnable action)
            throws InterruptedException, BrokenBarrierException {
        long start = System.nanoTime();
        enterLock();
        try {
            if ((brokenRounds() & BROKEN_NOW) != 0) {
                throw new BrokenBarrierException();
            }
            int index = count();
            if (index + 1 >= parties()) {
                if (action != null) {
                    runAction(action);
                }
                nextRound(false);
            } else {
                count(index + 1);
                awaitEnd(round(), (int) BROKEN_TOTAL.getVolatile(lock.block), start,
                        timeoutNanos);
            }
            return index;
        } finally {
            lock.release();
        }
    }

    /**
     * Waits until round {@code round}, which this waiter entered when {@code brokenTotal} was
     * {@code brokenBefore}, ends; throws if it ends broken.
     */
    private void awaitEnd(int round, int brokenBefore, long start, long timeoutNanos)
            throws InterruptedException, BrokenBarrierException {
        while (true) {
            int back = round() - round;
            if (back != 0) {
                if (endedBroken(round, back, brokenBefore)) {
                    throw new BrokenBarrierException();
                }
                return;
            }
            if ((brokenRounds() & BROKEN_NOW) != 0) {
                throw new BrokenBarrierException();
            }
            long remaining = timeoutNanos < 0 ? -1 : timeoutNanos - (System.nanoTime() - start);
            if (timeoutNanos >= 0 && remaining <= 0) {
                breakBarrier();
                throw new BrokenBarrierException("the barrier timed out");
            }
            try {
                cond.await(remaining, true);
            } catch (OwnerDeadException e) {
                breakBarrier(); // as in enterLock: the lock is this thread's all the same
            } catch (InterruptedException e) {
                if (round() == round && (brokenRounds() & BROKEN_NOW) == 0) {
                    breakBarrier();
                    throw e;
                }
                // Its round ended first: that outcome stands, the interrupt is kept.
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Whether round {@code round}, ended {@code back} rounds ago, ended broken (see the note). */
    private boolean endedBroken(int round, int back, int brokenBefore) {
        if (back < 0) {
            return true; // rounds do not go back: memory someone else wrote
        }
        if (back <= HISTORY) {
            return (brokenRounds() & (1 << back)) != 0;
        }
        int since = (int) BROKEN_TOTAL.getVolatile(lock.block) - brokenBefore;
        return since != 0 && (since > 1 || (int) LAST_BROKEN.getVolatile(lock.block) == round);
    }

    private void runAction(SerializableRunnable action)
            throws InterruptedException, BrokenBarrierException {
        try {
            action.run();
        } catch (RuntimeException | Error | InterruptedException e) {
            breakBarrier();
            throw e;
        } catch (Exception e) {
            breakBarrier();
            BrokenBarrierException broken =
                    new BrokenBarrierException("the barrier's action failed: " + e);
            broken.initCause(e);
            throw broken;
        }
    }

    /** Ends the current round ({@code broken}: for its waiters) and begins the next, empty. */
    private void nextRound(boolean broken) {
        if (broken) {
            BROKEN_TOTAL.setVolatile(lock.block, (int) BROKEN_TOTAL.getVolatile(lock.block) + 1);
            LAST_BROKEN.setVolatile(lock.block, round());
        }
        brokenRounds(((brokenRounds() & ~BROKEN_NOW) | (broken ? BROKEN_NOW : 0)) << 1);
        ROUND.setVolatile(lock.block, round() + 1);
        count(0);
        cond.signalAll();
    }

    private void breakBarrier() {
        brokenRounds(brokenRounds() | BROKEN_NOW);
        cond.signalAll();
    }

    public void reset() {
        enterLock();
        try {
            nextRound((brokenRounds() & BROKEN_NOW) != 0 || count() > 0);
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

    /** Parties waiting in the current round (0 while it is broken). */
    public int nWaiting() {
        return broken() ? 0 : count();
    }

    public boolean broken() {
        return (brokenRounds() & BROKEN_NOW) != 0;
    }
}
