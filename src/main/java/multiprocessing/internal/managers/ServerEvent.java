package multiprocessing.internal.managers;

import java.time.Duration;
import multiprocessing.internal.util.Durations;

/** A manager's {@code Event}. */
public final class ServerEvent implements Concurrent {
    private boolean flag;

    public synchronized void set() {
        flag = true;
        notifyAll();
    }

    public synchronized void clear() {
        flag = false;
    }

    public synchronized boolean isSet() {
        return flag;
    }

    public synchronized boolean await() throws InterruptedException {
        while (!flag) {
            wait();
        }
        return true;
    }

    public synchronized boolean await(Duration timeout) throws InterruptedException {
        long deadline = Durations.deadline(timeout);
        while (!flag) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    @Override
    public synchronized String toString() {
        return "<Event " + (flag ? "set" : "unset") + ">";
    }
}
