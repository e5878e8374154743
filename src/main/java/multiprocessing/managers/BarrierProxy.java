package multiprocessing.managers;

import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;

/** A shared barrier ({@link SyncManager#barrier(int)}), Python's {@code threading.Barrier}. */
public interface BarrierProxy extends BaseProxy {
    /** Waits for all parties; returns this caller's arrival index (0 for the first). */
    int await() throws BrokenBarrierException;

    /** As {@link #await()}; a timeout breaks the barrier and throws. */
    int await(Duration timeout) throws BrokenBarrierException;

    void reset();

    void abort();

    int parties();

    int nWaiting();

    boolean broken();
}
