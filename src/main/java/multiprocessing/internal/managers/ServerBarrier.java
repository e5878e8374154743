package multiprocessing.internal.managers;

import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import multiprocessing.internal.util.Durations;

/**
 * A manager's {@code Barrier} (Python's {@code threading.Barrier}) on a
 * {@link CyclicBarrier}, plus the state Python has and it lacks: {@link #abort()} leaves the
 * barrier broken until {@link #reset()}.
 */
public final class ServerBarrier implements Concurrent {
    private final CyclicBarrier barrier;
    private volatile boolean aborted;

    public ServerBarrier(int parties) {
        if (parties <= 0) {
            throw new IllegalArgumentException("parties must be > 0");
        }
        this.barrier = new CyclicBarrier(parties);
    }

    /** Python's index: 0 for the first thread to arrive, parties - 1 for the last. */
    public int await() throws InterruptedException, BrokenBarrierException {
        checkAborted();
        return barrier.getParties() - 1 - barrier.await();
    }

    public int await(Duration timeout) throws InterruptedException, BrokenBarrierException {
        checkAborted();
        try {
            return barrier.getParties() - 1
                    - barrier.await(Durations.nanos(timeout), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            // Python breaks the barrier on a timeout and raises BrokenBarrierError.
            BrokenBarrierException b = new BrokenBarrierException("timed out after " + timeout
                    + "; the barrier is broken");
            b.initCause(e);
            throw b;
        }
    }

    private void checkAborted() throws BrokenBarrierException {
        if (aborted) {
            throw new BrokenBarrierException("the barrier was aborted");
        }
    }

    public void reset() {
        aborted = false;
        barrier.reset();
    }

    public void abort() {
        aborted = true;
        barrier.reset();
    }

    public int parties() {
        return barrier.getParties();
    }

    public int nWaiting() {
        return barrier.getNumberWaiting();
    }

    public boolean broken() {
        return aborted || barrier.isBroken();
    }
}
