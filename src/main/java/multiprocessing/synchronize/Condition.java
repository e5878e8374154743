package multiprocessing.synchronize;

import java.time.Duration;
import java.util.Date;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.sync.ConditionSync;
import multiprocessing.internal.sync.SyncMemory;

/**
 * A condition variable shared by processes and threads (Python's
 * {@code multiprocessing.Condition}) over a {@link Lock} or {@link RLock} (a new RLock by
 * default). Python's {@code wait} is {@code await}, {@code notify}/{@code notify_all} are
 * {@link #signal()}/{@link #signalAll()}; every one of them, and {@link #signal(int)}, needs the
 * calling thread to hold the lock, else it throws {@link IllegalMonitorStateException}.
 *
 * <p>A waiter releases the lock completely (all holds of an RLock) while it waits and holds it
 * again as before when {@code await} returns or throws. {@code signal(n)} wakes at most {@code n}
 * of the threads waiting at that moment; a thread that starts waiting afterwards is not woken by
 * it. As {@link java.util.concurrent.locks.Condition} allows, a wait may also end without a
 * signal: wait in a loop, or use {@link #waitFor}.
 *
 * <p>A waiter whose process is killed (SIGKILL) while it waits stays counted among the waiters:
 * a later signal may be granted to it, and that grant then taken by a waiter the signal was
 * not for, whose wait returns {@code true} (at its timeout, if it has one). Waiters are counted,
 * not named, so a dead one cannot be told apart (CPython's Condition, which counts with
 * semaphores, keeps a killed waiter's count the same way); here too, the predicate a waiter
 * loops on decides.
 */
public class Condition implements java.util.concurrent.locks.Condition {
    static {
        Serialization.register(Condition.class, new Reducer<Condition>() {
            @Override
            public void reduce(Condition value, Out out) {
                out.writeObject(value.lock);
                value.sync.memory().writeTo(out);
            }

            @Override
            public Condition rebuild(In in) {
                Object lock = in.readObject();
                return new Condition(lock, SyncMemory.readFrom(in));
            }
        });
    }

    private final Object lock; // a Lock or an RLock
    final ConditionSync sync;

    /** A condition over a new {@link RLock}. */
    public Condition() {
        this(new RLock());
    }

    /**
     * A condition over {@code lock}.
     *
     * @param lock the lock its waiters release while they wait and take back after
     */
    public Condition(Lock lock) {
        this((Object) Objects.requireNonNull(lock, "lock"), SyncMemory.allocate());
    }

    /**
     * A condition over {@code lock}.
     *
     * @param lock the lock its waiters release while they wait and take back after
     */
    public Condition(RLock lock) {
        this((Object) Objects.requireNonNull(lock, "lock"), SyncMemory.allocate());
    }

    private Condition(Object lock, SyncMemory memory) {
        this.lock = lock;
        this.sync = new ConditionSync(memory,
                lock instanceof Lock l ? l.sync : ((RLock) lock).sync);
    }

    /** {@return the lock this condition uses: a {@link Lock} or an {@link RLock}} */
    public java.util.concurrent.locks.Lock getLock() {
        return (java.util.concurrent.locks.Lock) lock;
    }

    /**
     * Acquires the lock (Python's {@code Condition.acquire()}).
     *
     * @return true, once the lock is held
     */
    public boolean acquire() {
        return lock instanceof Lock l ? l.acquire() : ((RLock) lock).acquire();
    }

    /**
     * Acquires the lock, or with {@code block} false only if that can be done now (Python's
     * {@code Condition.acquire(block)}).
     *
     * @param block whether to wait for the lock
     * @return whether the lock is held
     */
    public boolean acquire(boolean block) {
        return lock instanceof Lock l ? l.acquire(block) : ((RLock) lock).acquire(block);
    }

    /**
     * Acquires the lock, waiting at most {@code timeout} (Python's
     * {@code Condition.acquire(timeout=...)}).
     *
     * @param timeout how long to wait at most
     * @return whether the lock is held
     */
    public boolean acquire(Duration timeout) {
        return lock instanceof Lock l ? l.acquire(timeout) : ((RLock) lock).acquire(timeout);
    }

    /** Releases the lock (Python's {@code Condition.release()}). */
    public void release() {
        if (lock instanceof Lock l) {
            l.release();
        } else {
            ((RLock) lock).release();
        }
    }

    /** Waits for a signal; an interrupt ends the wait (with the lock held again). */
    @Override
    public void await() throws InterruptedException {
        sync.await(Timeouts.FOREVER, true);
    }

    /**
     * Waits for a signal at most {@code timeout}; false if it elapsed first. The lock is held
     * again when it returns, either way.
     *
     * @param timeout how long to wait at most
     * @return false if the time elapsed before a signal
     * @throws InterruptedException if this thread is interrupted while it waits (with the lock
     *         held again)
     */
    public boolean await(Duration timeout) throws InterruptedException {
        return sync.await(Timeouts.nanos(timeout), true);
    }

    @Override
    public void awaitUninterruptibly() {
        try {
            sync.await(Timeouts.FOREVER, false);
        } catch (InterruptedException e) {
            throw new AssertionError(e); // an uninterruptible wait does not throw it
        }
    }

    @Override
    public long awaitNanos(long nanosTimeout) throws InterruptedException {
        long start = System.nanoTime();
        sync.await(Math.max(0, nanosTimeout), true);
        long left = nanosTimeout - (System.nanoTime() - start);
        // As AQS: a timeout near Long.MIN_VALUE must not wrap to a large positive time left.
        return left > nanosTimeout ? Long.MIN_VALUE : left;
    }

    @Override
    public boolean await(long time, TimeUnit unit) throws InterruptedException {
        return sync.await(Timeouts.nanos(time, unit), true);
    }

    @Override
    public boolean awaitUntil(Date deadline) throws InterruptedException {
        long millis = deadline.getTime() - System.currentTimeMillis();
        // Saturated: a deadline centuries away wrapped to a wait of milliseconds.
        long nanos = millis <= 0 ? 0 : millis >= Long.MAX_VALUE / 1_000_000 ? Long.MAX_VALUE
                : millis * 1_000_000;
        return sync.await(nanos, true);
    }

    /**
     * Python's {@code wait_for}: waits until {@code predicate} holds, evaluating it with the lock
     * held; returns its last value.
     *
     * @param predicate the state waited for, read with the lock held
     * @return true, once {@code predicate} holds
     * @throws InterruptedException if this thread is interrupted while it waits
     */
    public boolean waitFor(BooleanSupplier predicate) throws InterruptedException {
        boolean result = predicate.getAsBoolean();
        while (!result) {
            await();
            result = predicate.getAsBoolean();
        }
        return true;
    }

    /**
     * As {@link #waitFor(BooleanSupplier)}, giving up after {@code timeout}; false then.
     *
     * @param predicate the state waited for, read with the lock held
     * @param timeout   how long to wait at most
     * @return the predicate's last value
     * @throws InterruptedException if this thread is interrupted while it waits
     */
    public boolean waitFor(BooleanSupplier predicate, Duration timeout)
            throws InterruptedException {
        boolean result = predicate.getAsBoolean();
        long total = Timeouts.nanos(timeout);
        long start = System.nanoTime();
        while (!result) {
            long remaining = total - (System.nanoTime() - start);
            if (remaining <= 0) {
                break;
            }
            sync.await(remaining, true);
            result = predicate.getAsBoolean();
        }
        return result;
    }

    /** Wakes one waiter (Python's {@code notify()}). */
    @Override
    public void signal() {
        sync.signal(1);
    }

    /**
     * Wakes up to {@code n} waiters (Python's {@code notify(n)}).
     *
     * @param n the most waiters woken
     */
    public void signal(int n) {
        sync.signal(n);
    }

    /** Wakes every waiter (Python's {@code notify_all()}). */
    @Override
    public void signalAll() {
        sync.signalAll();
    }

    @Override
    public String toString() {
        return "<Condition(" + lock + ", " + sync.waiting() + ")>";
    }
}
