package multiprocessing.internal.managers;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import multiprocessing.EmptyException;
import multiprocessing.FullException;
import multiprocessing.internal.util.Durations;

/**
 * A manager's {@code Queue} and {@code JoinableQueue} (Python's {@code queue.Queue}, which has
 * {@code task_done} and {@code join} too). A null item cannot be queued here.
 */
public final class ServerQueue implements Concurrent {
    private final LinkedBlockingQueue<Object> items;
    private final int maxsize;
    private final Object tasks = new Object();
    private long unfinished;

    public ServerQueue(int maxsize) {
        this.maxsize = maxsize;
        this.items = new LinkedBlockingQueue<>(maxsize <= 0 ? Integer.MAX_VALUE : maxsize);
    }

    public void put(Object item) throws InterruptedException {
        countTask();
        try {
            items.put(item);
        } catch (InterruptedException | RuntimeException e) {
            uncountTask();
            throw e;
        }
    }

    public void put(Object item, boolean block) throws InterruptedException {
        if (block) {
            put(item);
        } else {
            putNowait(item);
        }
    }

    public void put(Object item, Duration timeout) throws InterruptedException {
        countTask();
        boolean ok = false;
        try {
            ok = items.offer(item, Durations.nanos(timeout), TimeUnit.NANOSECONDS);
        } finally {
            if (!ok) {
                uncountTask();
            }
        }
        if (!ok) {
            throw new FullException("the queue stayed full for " + timeout);
        }
    }

    public void putNowait(Object item) {
        countTask();
        if (!items.offer(item)) {
            uncountTask();
            throw new FullException("the queue is full");
        }
    }

    public Object get() throws InterruptedException {
        return items.take();
    }

    public Object get(boolean block) throws InterruptedException {
        return block ? get() : getNowait();
    }

    public Object get(Duration timeout) throws InterruptedException {
        Object item = items.poll(Durations.nanos(timeout), TimeUnit.NANOSECONDS);
        if (item == null) {
            throw new EmptyException("the queue stayed empty for " + timeout);
        }
        return item;
    }

    public Object getNowait() {
        Object item = items.poll();
        if (item == null) {
            throw new EmptyException("the queue is empty");
        }
        return item;
    }

    public int qsize() {
        return items.size();
    }

    public boolean empty() {
        return items.isEmpty();
    }

    public boolean full() {
        return maxsize > 0 && items.remainingCapacity() == 0;
    }

    public void taskDone() {
        synchronized (tasks) {
            if (unfinished <= 0) {
                throw new IllegalStateException("taskDone() called too many times");
            }
            if (--unfinished == 0) {
                tasks.notifyAll();
            }
        }
    }

    public void join() throws InterruptedException {
        synchronized (tasks) {
            while (unfinished > 0) {
                tasks.wait();
            }
        }
    }

    private void countTask() {
        synchronized (tasks) {
            unfinished++;
        }
    }

    private void uncountTask() {
        synchronized (tasks) {
            if (--unfinished == 0) {
                tasks.notifyAll();
            }
        }
    }
}
