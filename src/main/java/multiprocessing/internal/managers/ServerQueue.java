package multiprocessing.internal.managers;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

import multiprocessing.EmptyException;
import multiprocessing.FullException;
import multiprocessing.internal.util.Durations;

/**
 * A manager's {@code Queue} and {@code JoinableQueue}: Python's {@code queue.Queue} (which has
 * {@code task_done} and {@code join} too), built as it is, a deque under one lock with a
 * condition each for "not empty", "not full" and "all tasks done". A null item cannot be
 * queued here.
 *
 * <p>{@link #giveBack} puts an item back at the head, beyond {@code maxsize} if need be: an
 * item a {@code get} took for a caller that had given up waiting for it (see
 * {@code ManagerClient}'s cancel), which would otherwise be lost. It stays counted as an
 * unfinished task, as nobody received it. A get that waited takes nothing if its caller has
 * gone meanwhile ({@link Caller#abandoned()}).
 */
public final class ServerQueue implements Concurrent {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private final Condition allTasksDone = lock.newCondition();
    private final ArrayDeque<Object> items = new ArrayDeque<>();
    private final int maxsize;
    private long unfinished;

    public ServerQueue(int maxsize) {
        this.maxsize = maxsize;
    }

    public void put(Object item) throws InterruptedException {
        offer(item, -1);
    }

    public void put(Object item, boolean block) throws InterruptedException {
        if (block) {
            put(item);
        } else {
            putNowait(item);
        }
    }

    public void put(Object item, Duration timeout) throws InterruptedException {
        if (!offer(item, Durations.nanos(timeout))) {
            throw new FullException("the queue stayed full for " + timeout);
        }
    }

    public void putNowait(Object item) throws InterruptedException {
        if (!offer(item, 0)) {
            throw new FullException("the queue is full");
        }
    }

    public Object get() throws InterruptedException {
        return poll(-1);
    }

    public Object get(boolean block) throws InterruptedException {
        return block ? get() : getNowait();
    }

    public Object get(Duration timeout) throws InterruptedException {
        Object item = poll(Durations.nanos(timeout));
        if (item == null) {
            throw new EmptyException("the queue stayed empty for " + timeout);
        }
        return item;
    }

    public Object getNowait() throws InterruptedException {
        Object item = poll(0);
        if (item == null) {
            throw new EmptyException("the queue is empty");
        }
        return item;
    }

    /** Puts back at the head an item taken for a caller that gave up (see the class note). */
    public void giveBack(Object item) {
        Objects.requireNonNull(item, "a null item cannot be queued");
        lock.lock();
        try {
            items.addFirst(item);
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    public int qsize() {
        lock.lock();
        try {
            return items.size();
        } finally {
            lock.unlock();
        }
    }

    public boolean empty() {
        return qsize() == 0;
    }

    public boolean full() {
        lock.lock();
        try {
            return isFull();
        } finally {
            lock.unlock();
        }
    }

    public void taskDone() {
        lock.lock();
        try {
            if (unfinished <= 0) {
                throw new IllegalStateException("taskDone() called too many times");
            }
            if (--unfinished == 0) {
                allTasksDone.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    public void join() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (unfinished > 0) {
                allTasksDone.await();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds {@code item} once there is room, waiting up to {@code nanos} (negative: without a
     * limit); false if none came.
     */
    private boolean offer(Object item, long nanos) throws InterruptedException {
        Objects.requireNonNull(item, "a null item cannot be queued");
        lock.lockInterruptibly();
        try {
            if (!awaitWhile(this::isFull, notFull, nanos)) {
                return false;
            }
            items.addLast(item);
            unfinished++;
            notEmpty.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Takes the head item, waiting up to {@code nanos} (negative: without a limit); or null. */
    private Object poll(long nanos) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            boolean waited = items.isEmpty();
            if (!awaitWhile(items::isEmpty, notEmpty, nanos)) {
                return null;
            }
            if (waited && Caller.abandoned()) {
                // Its client died while it waited, which the server may not have seen yet
                // (it looks at a connection over rings every half second): the item would go
                // into a reply nobody reads (attack 40b: items put just after waiting
                // consumers were killed were lost, and a joinable queue's join() hung). Its
                // wake-up goes on to the next getter.
                notEmpty.signal();
                throw new InterruptedException("the caller of this get is gone");
            }
            Object item = items.removeFirst();
            notFull.signal();
            return item;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits on {@code condition} while {@code blocked} holds, up to {@code nanos} (negative:
     * without a limit); false if it still holds then. The lock is held.
     */
    private static boolean awaitWhile(BooleanSupplier blocked, Condition condition, long nanos)
            throws InterruptedException {
        while (blocked.getAsBoolean()) {
            if (nanos == 0) {
                return false;
            }
            if (nanos < 0) {
                condition.await();
            } else {
                nanos = Math.max(0, condition.awaitNanos(nanos));
            }
        }
        return true;
    }

    /** Full, also beyond {@code maxsize} (items given back). */
    private boolean isFull() {
        return maxsize > 0 && items.size() >= maxsize;
    }
}
