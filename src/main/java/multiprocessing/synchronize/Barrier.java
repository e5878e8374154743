package multiprocessing.synchronize;

import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;

import multiprocessing.SerializableRunnable;
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
 *
 * <p>A party whose process is killed while it waits has arrived: its round ends when the other
 * parties arrive, one live party fewer, and nothing waits for it afterwards (Python's Barrier,
 * which counts its waiters out of a round before the next may fill, waits for it for ever).
 */
public class Barrier {
    static {
        Serialization.register(Barrier.class, new Reducer<Barrier>() {
            @Override
            public void reduce(Barrier value, Out out) {
                value.sync.memory().writeTo(out);
                out.writeLong(value.defaultTimeoutNanos);
                out.writeObject(value.action);
            }

            @Override
            public Barrier rebuild(In in) {
                SyncMemory memory = SyncMemory.readFrom(in);
                long timeout = in.readLong();
                return new Barrier(memory, timeout, (SerializableRunnable) in.readObject());
            }
        });
    }

    final BarrierSync sync;
    private final long defaultTimeoutNanos;
    private final SerializableRunnable action;

    /**
     * A barrier for {@code parties} parties.
     *
     * @param parties how many waiters each round lets through together
     * @throws IllegalArgumentException if {@code parties} is not positive
     */
    public Barrier(int parties) {
        this(parties, null);
    }

    /**
     * A barrier whose {@link #await()} times out after {@code timeout} (Python's timeout).
     *
     * @param parties how many waiters each round lets through together
     * @param timeout how long {@link #await()} waits before it breaks the barrier; null for ever
     * @throws IllegalArgumentException if {@code parties} is not positive
     */
    public Barrier(int parties, Duration timeout) {
        this(parties, null, timeout);
    }

    /**
     * A barrier with an action (Python's {@code Barrier(parties, action, timeout)}): the last
     * party to arrive in a round runs {@code action} before any of the round's parties is let
     * through, in its own process. If the action throws, the barrier breaks: that party gets
     * the action's exception (a checked one as the cause of a
     * {@link BrokenBarrierException}), and the others {@link BrokenBarrierException}. The
     * action travels with the barrier to every process that gets it.
     *
     * @param parties how many waiters each round lets through together
     * @param action  run once per round by its last party; null for none
     * @param timeout how long {@link #await()} waits before it breaks the barrier; null for ever
     * @throws IllegalArgumentException if {@code parties} is not positive
     */
    public Barrier(int parties, SerializableRunnable action, Duration timeout) {
        if (parties <= 0) {
            throw new IllegalArgumentException("parties must be > 0: " + parties);
        }
        this.sync = new BarrierSync(SyncMemory.allocate());
        sync.init(parties);
        this.defaultTimeoutNanos = timeout == null ? Timeouts.FOREVER : Timeouts.nanos(timeout);
        this.action = action;
    }

    private Barrier(SyncMemory memory, long defaultTimeoutNanos, SerializableRunnable action) {
        this.sync = new BarrierSync(memory);
        this.defaultTimeoutNanos = defaultTimeoutNanos;
        this.action = action;
    }

    /**
     * Waits for all parties; returns this call's arrival index.
     *
     * @return this call's arrival index, {@code 0 .. parties-1}
     * @throws BrokenBarrierException if the barrier is or becomes broken while this call waits
     * @throws InterruptedException if this thread is interrupted while it waits (which breaks
     *         the barrier)
     */
    public int await() throws InterruptedException, BrokenBarrierException {
        return sync.await(defaultTimeoutNanos, action);
    }

    /**
     * As {@link #await()}; breaks the barrier and throws if {@code timeout} elapses first.
     *
     * @param timeout how long to wait at most
     * @return this call's arrival index, {@code 0 .. parties-1}
     * @throws BrokenBarrierException if the barrier is or becomes broken while this call waits,
     *         this call's timeout included
     * @throws InterruptedException if this thread is interrupted while it waits (which breaks
     *         the barrier)
     */
    public int await(Duration timeout) throws InterruptedException, BrokenBarrierException {
        return sync.await(Timeouts.nanos(timeout), action);
    }

    /**
     * Makes the barrier usable again; the waiters of the current round get
     * {@link BrokenBarrierException} (Python's {@code reset()}).
     */
    public void reset() {
        sync.reset();
    }

    /**
     * Breaks the barrier: its waiters and later {@link #await()} calls get
     * {@link BrokenBarrierException} until {@link #reset()} (Python's {@code abort()}).
     */
    public void abort() {
        sync.abort();
    }

    /** {@return how many waiters each round lets through (Python's {@code parties})} */
    public int parties() {
        return sync.parties();
    }

    /** {@return how many are waiting in the current round (Python's {@code n_waiting})} */
    public int nWaiting() {
        return sync.nWaiting();
    }

    /** {@return whether the barrier is broken (Python's {@code broken})} */
    public boolean broken() {
        return sync.broken();
    }

    @Override
    public String toString() {
        return "<Barrier(parties=" + parties() + ", waiting=" + nWaiting()
                + (broken() ? ", broken" : "") + ")>";
    }
}
