package multiprocessing.internal.managers;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import multiprocessing.internal.util.Durations;

/**
 * A manager's {@code Condition}, as Python's {@code threading.Condition}: each waiter waits on
 * a semaphore of its own, queued in order, with the lock released meanwhile.
 */
public final class ServerCondition implements Concurrent {
    private final Ownable lock;
    private final ArrayDeque<Semaphore> waiters = new ArrayDeque<>();

    public ServerCondition(Object lock) {
        Object l = lock == null ? new ServerRLock() : ProxyHandler.referent(lock);
        if (!(l instanceof Ownable o)) {
            throw new IllegalArgumentException("a condition's lock must be a Lock or RLock of "
                    + "the same manager, not " + lock);
        }
        this.lock = o;
    }

    public boolean acquire() throws InterruptedException {
        return lockAcquire(-1);
    }

    public boolean acquire(boolean block) throws InterruptedException {
        return lockAcquire(block ? -1 : 0);
    }

    public boolean acquire(Duration timeout) throws InterruptedException {
        return lockAcquire(Durations.nanos(timeout));
    }

    private boolean lockAcquire(long nanos) throws InterruptedException {
        return switch (lock) {
            case ServerLock l -> nanos < 0 ? l.acquire() : l.acquire(Duration.ofNanos(nanos));
            case ServerRLock r -> nanos < 0 ? r.acquire() : r.acquire(Duration.ofNanos(nanos));
            default -> throw new IllegalStateException();
        };
    }

    public void release() {
        switch (lock) {
            case ServerLock l -> l.release();
            case ServerRLock r -> r.release();
            default -> throw new IllegalStateException();
        }
    }

    public void await() throws InterruptedException {
        await(null);
    }

    /** Python's {@code wait(timeout)}: false on timeout. */
    public boolean await(Duration timeout) throws InterruptedException {
        if (!lock.isOwned()) {
            throw new IllegalMonitorStateException("cannot wait on un-acquired lock");
        }
        Semaphore waiter = new Semaphore(0);
        synchronized (waiters) {
            waiters.add(waiter);
        }
        int saved = lock.releaseSave();
        boolean woken = false;
        InterruptedException interrupted = null;
        try {
            if (timeout == null) {
                waiter.acquire();
                woken = true;
            } else {
                woken = waiter.tryAcquire(Durations.nanos(timeout), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            interrupted = e;
        }
        boolean signalled = woken;
        if (!woken) {
            synchronized (waiters) {
                signalled = !waiters.remove(waiter);
            }
        }
        if (Caller.abandoned()) {
            // Its caller gave up or is gone (killed while it waited): taking the lock back for
            // it would hold the lock for good, and a signal it was granted is another waiter's
            // (attack 34).
            giveUp(signalled);
        }
        try {
            lock.acquireRestore(saved);
        } catch (InterruptedException | LockHolder.CallerGone e) {
            // Given up while it waited for the lock back, signalled (attack 36), or its client
            // went after the look above, the lock then given up as soon as taken (review B2):
            // the same, the signal going to a waiter that can still act on it.
            giveUp(signalled);
        }
        if (Caller.abandoned()) {
            // Its client died while it waited for the lock back, before the server saw the
            // connection end: given back at once.
            lock.releaseSave();
            giveUp(signalled);
        }
        if (interrupted != null) {
            throw interrupted; // not by a cancel: the lock is taken back first, as in Java
        }
        return woken;
    }

    /**
     * Ends the wait of a caller that gave up, without the lock, passing on a signal it was
     * granted: with an exception, not a return, since a caller interrupted still reads a reply
     * that comes at once (ManagerClient's cancel), and a return would tell it that it holds
     * the lock.
     */
    private void giveUp(boolean signalled) throws InterruptedException {
        if (signalled) {
            passOn();
        }
        throw new InterruptedException("the waiter gave up (interrupted, or its process is "
                + "gone) without the lock");
    }

    private void passOn() {
        synchronized (waiters) {
            Semaphore next = waiters.poll();
            if (next != null) {
                next.release();
            }
        }
    }

    /** How many callers wait for a signal now. */
    int waiting() {
        synchronized (waiters) {
            return waiters.size();
        }
    }

    public void signal() {
        signal(1);
    }

    public void signal(int n) {
        if (!lock.isOwned()) {
            throw new IllegalMonitorStateException("cannot notify on un-acquired lock");
        }
        synchronized (waiters) {
            for (int i = 0; i < n && !waiters.isEmpty(); i++) {
                waiters.poll().release();
            }
        }
    }

    public void signalAll() {
        signal(Integer.MAX_VALUE);
    }
}
