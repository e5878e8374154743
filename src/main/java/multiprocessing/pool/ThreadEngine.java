package multiprocessing.pool;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import multiprocessing.ProcessError;
import multiprocessing.SerializableRunnable;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.internal.util.Durations;

/**
 * Runs a pool's chunks on threads of this JVM (Python's {@code ThreadPool}): nothing is
 * serialized, results are delivered by the thread that ran the chunk.
 */
final class ThreadEngine implements Engine {
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static final long PID = ProcessHandle.current().pid();

    private final SerializableRunnable initializer;
    private final ArrayDeque<Chunk> pending = new ArrayDeque<>();
    private final List<Thread> threads = new ArrayList<>();
    private final Set<Thread> mine = ConcurrentHashMap.newKeySet();
    private final List<Chunk> running = new ArrayList<>();
    private int feeders;
    private boolean closed;
    private boolean terminated;
    private Throwable broken;

    ThreadEngine(int processes, SerializableRunnable initializer) {
        this.initializer = initializer;
        for (int i = 0; i < processes; i++) {
            Thread t = LibraryThreads.unstarted(
                    "ThreadPoolWorker-" + NAMES.incrementAndGet(), this::work);
            t.setDaemon(true);
            threads.add(t);
            mine.add(t);
        }
        threads.forEach(Thread::start);
    }

    private void work() {
        if (initializer != null) {
            try {
                initializer.run();
            } catch (Throwable t) {
                breakPool(new ProcessError("the pool's initializer failed in thread "
                        + Thread.currentThread().getName() + ": " + t, t));
                return;
            }
        }
        while (true) {
            Chunk c;
            synchronized (this) {
                while (true) {
                    if (terminated || broken != null) {
                        return;
                    }
                    c = pending.poll();
                    if (c != null) {
                        if (!c.job.tryStart()) {
                            c.job.released();
                            continue;
                        }
                        running.add(c);
                        break;
                    }
                    if (closed && feeders == 0) {
                        return;
                    }
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
            List<Object> results = null;
            Throwable error = null;
            long began = c.event != null ? System.nanoTime() : 0;
            try {
                results = Tasks.run(c.job.kind, c.job.fn, c.items);
            } catch (Throwable t) {
                error = t;
            }
            if (c.event != null) {
                c.event.sentTo(Thread.currentThread().getName(), PID);
                c.event.ran(began, System.nanoTime());
                c.event.finished(error != null);
            }
            synchronized (this) {
                if (!running.remove(c)) {
                    continue; // aborted by terminate meanwhile
                }
            }
            try {
                if (error == null) {
                    c.job.done(c, results);
                } else {
                    c.job.failed(c, error);
                }
            } catch (Throwable t) {
                undelivered(c, t);
            } finally {
                c.job.chunkFinished();
            }
        }
    }

    /**
     * A chunk's results could not be handed to its job: storing them threw (an
     * OutOfMemoryError of a heap filled by results nobody reads, attack 22b). The thread goes on
     * with the pool's other chunks; the job's caller, which would otherwise wait forever for the
     * results this thread could not store, gets the error. Should even that fail, the pool is
     * broken, so that no caller waits for a thread that can no longer deliver.
     */
    private void undelivered(Chunk c, Throwable t) {
        try {
            c.job.abort(new ProcessError("the pool could not deliver a task's results: " + t, t));
        } catch (Throwable again) {
            breakPool(new ProcessError("the pool could not deliver a task's results: " + t, t));
        }
    }

    private void breakPool(Throwable error) {
        List<Chunk> dropped;
        synchronized (this) {
            if (broken != null) {
                return;
            }
            broken = error;
            dropped = new ArrayList<>(pending);
            pending.clear();
            notifyAll();
        }
        for (Chunk c : dropped) {
            try {
                c.job.failed(c, error);
            } finally {
                c.job.chunkFinished();
            }
        }
    }

    /** Held while a callback runs: worker threads deliver results side by side. */
    private final Object callbackOrder = new Object();

    @Override
    public void prepare(Job job) {
        job.callbackOrder = callbackOrder;
    }

    @Override
    public synchronized void submit(Chunk chunk) {
        if (broken != null) {
            throw new ProcessError("the pool is broken: " + broken.getMessage(), broken);
        }
        if (terminated) {
            throw new IllegalStateException("the pool was terminated");
        }
        pending.add(chunk);
        notify();
    }

    @Override
    public synchronized void feederStarted() {
        feeders++;
    }

    @Override
    public synchronized void feederDone() {
        feeders--;
        notifyAll();
    }

    @Override
    public synchronized void close() {
        closed = true;
        notifyAll();
    }

    @Override
    public void terminate() {
        List<Chunk> dropped;
        synchronized (this) {
            terminated = true;
            dropped = new ArrayList<>(pending);
            dropped.addAll(running);
            pending.clear();
            running.clear();
            notifyAll();
        }
        // Threads cannot be killed: a running task is interrupted and its result ignored.
        for (Thread t : threads) {
            t.interrupt();
        }
        ProcessError error = new ProcessError("the pool was terminated before the task finished");
        for (Chunk c : dropped) {
            try {
                c.job.abort(error);
            } finally {
                c.job.released();
            }
        }
    }

    @Override
    public boolean awaitExit(Duration timeout) throws InterruptedException {
        long deadline = timeout == null ? Long.MAX_VALUE : Durations.deadline(timeout);
        for (Thread t : threads) {
            if (t == Thread.currentThread()) {
                continue;
            }
            if (timeout == null) {
                t.join();
            } else {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !t.join(Duration.ofNanos(left))) {
                    return false;
                }
            }
        }
        return true;
    }

    @Override
    public boolean isResultThread() {
        return mine.contains(Thread.currentThread());
    }

    @Override
    public List<Long> workerPids() {
        return List.of();
    }
}
