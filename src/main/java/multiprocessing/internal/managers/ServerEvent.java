package multiprocessing.internal.managers;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import multiprocessing.internal.util.Durations;

/**
 * A manager's {@code Event}. Its waits run in the server's virtual threads, so it waits on a
 * {@link Condition}, never a monitor: on the JDKs before 24 a virtual thread in
 * {@code Object.wait} holds its carrier, and a few hundred waiters stalled every call of the
 * server, the {@code set()} that would free them included (review 51).
 */
public final class ServerEvent implements Concurrent {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean flag;

    public void set() {
        lock.lock();
        try {
            flag = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public void clear() {
        lock.lock();
        try {
            flag = false;
        } finally {
            lock.unlock();
        }
    }

    public boolean isSet() {
        lock.lock();
        try {
            return flag;
        } finally {
            lock.unlock();
        }
    }

    public boolean await() throws InterruptedException {
        lock.lock();
        try {
            while (!flag) {
                changed.await();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    public boolean await(Duration timeout) throws InterruptedException {
        long left = Durations.nanos(timeout);
        lock.lock();
        try {
            while (!flag) {
                if (left <= 0) {
                    return false;
                }
                left = changed.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "<Event " + (isSet() ? "set" : "unset") + ">";
    }
}
