package multiprocessing.synchronize;

import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;

import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.sync.BarrierSync;
import multiprocessing.internal.sync.SyncMemory;

/**
 * A barrier for a fixed number of parties in any processes and threads (Python's
 * {@code multiprocessing.Barrier}, a clone of threading.Barrier): each {@link #await()} waits
 * until {@link #parties()} calls are waiting, then all return, each with its arrival index
 * ({@code 0 .. parties-1}), and the barrier is ready for the next round.
 *
 * <p>As in Python, a wait that times out breaks the barrier, and every waiter then, and every
 * later {@code await} until {@link #reset()}, throws {@link BrokenBarrierException}; so do
 * {@link #abort()} and an interrupt of a waiter. {@link #reset()} breaks the current round for
 * its waiters and makes the barrier usable again.
 */
public class Barrier {
    static {
        Serialization.register(Barrier.class, new Reducer<Barrier>() {
            @Override
            public void reduce(Barrier value, Out out) {
                value.sync.memory().writeTo(out);
                out.writeLong(value.defaultTimeoutNanos);
            }

            @Override
            public Barrier rebuild(In in) {
                SyncMemory memory = SyncMemory.readFrom(in);
                return new Barrier(memory, in.readLong());
            }
        });
    }

    final BarrierSync sync;
    private final long defaultTimeoutNanos;

    /**
     * A barrier for {@code parties} parties.
     *
     * @throws IllegalArgumentException if {@code parties} is not positive
     */
    public Barrier(int parties) {
        this(parties, null);
    }

    /** A barrier whose {@link #await()} times out after {@code timeout} (Python's timeout). */
    public Barrier(int parties, Duration timeout) {
        if (parties <= 0) {
            throw new IllegalArgumentException("parties must be > 0: " + parties);
        }
        this.sync = new BarrierSync(SyncMemory.allocate());
        sync.init(parties);
        this.defaultTimeoutNanos = timeout == null ? Timeouts.FOREVER : Timeouts.nanos(timeout);
    }

    private Barrier(SyncMemory memory, long defaultTimeoutNanos) {
        this.sync = new BarrierSync(memory);
        this.defaultTimeoutNanos = defaultTimeoutNanos;
    }

    /** Waits for all parties; returns this call's arrival index. */
    public int await() throws InterruptedException, BrokenBarrierException {
        return sync.await(defaultTimeoutNanos);
    }

    /** As {@link #await()}; breaks the barrier and throws if {@code timeout} elapses first. */
    public int await(Duration timeout) throws InterruptedException, BrokenBarrierException {
        return sync.await(Timeouts.nanos(timeout));
    }

    public void reset() {
        sync.reset();
    }

    public void abort() {
        sync.abort();
    }

    public int parties() {
        return sync.parties();
    }

    /** Python's {@code n_waiting}. */
    public int nWaiting() {
        return sync.nWaiting();
    }

    public boolean broken() {
        return sync.broken();
    }

    @Override
    public String toString() {
        return "<Barrier(parties=" + parties() + ", waiting=" + nWaiting()
                + (broken() ? ", broken" : "") + ")>";
    }
}
