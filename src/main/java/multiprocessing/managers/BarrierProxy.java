package multiprocessing.managers;

import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;

/** A shared barrier ({@link SyncManager#barrier(int)}), Python's {@code threading.Barrier}. */
public interface BarrierProxy extends BaseProxy {
    /**
     * Waits for all parties; returns this caller's arrival index (0 for the first).
     *
     * @return this caller's arrival index
     * @throws BrokenBarrierException if the barrier is or becomes broken while this call waits
     */
    int await() throws BrokenBarrierException;

    /**
     * As {@link #await()}; a timeout breaks the barrier and throws.
     *
     * @param timeout how long to wait at most
     * @return this caller's arrival index
     * @throws BrokenBarrierException if the barrier is or becomes broken while this call waits,
     *         this call's timeout included
     */
    int await(Duration timeout) throws BrokenBarrierException;

    /**
     * Makes the barrier usable again; the waiters of the current round get
     * {@link BrokenBarrierException}.
     */
    void reset();

    /**
     * Breaks the barrier: its waiters and later {@link #await()} calls get
     * {@link BrokenBarrierException} until {@link #reset()}.
     */
    void abort();

    /** {@return how many waiters each round lets through} */
    int parties();

    /** {@return how many are waiting in the current round (Python's {@code n_waiting})} */
    int nWaiting();

    /** {@return whether the barrier is broken} */
    boolean broken();
}
