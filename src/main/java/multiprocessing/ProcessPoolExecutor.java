package multiprocessing;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import multiprocessing.internal.pool.PoolAccess;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.pool.AsyncResult;
import multiprocessing.pool.IMapIterator;
import multiprocessing.pool.Pool;

/**
 * An {@link ExecutorService} whose tasks run in worker processes (Python's
 * {@code concurrent.futures.ProcessPoolExecutor}), over a {@link Pool}'s workers.
 *
 * <p>A task must be serializable: a {@link SerializableCallable}, or a lambda cast to
 * {@code (Callable<T> & Serializable)}; a {@link Runnable} likewise. Anything else is refused
 * with {@link IllegalArgumentException} at submission, as is a task whose captured values cannot
 * be serialized. A task's exception arrives as the cause of the {@link ExecutionException}, with
 * its own class and the worker's stack trace. A worker that dies mid-task fails that task with
 * {@link multiprocessing.pool.WorkerLostException} and is replaced (Python breaks the whole
 * executor instead).
 *
 * <p>{@link #shutdown()} lets submitted tasks finish and the workers exit; {@link #shutdownNow()}
 * cancels the tasks no worker has started, returns them, and terminates the workers, failing the
 * running tasks. {@link Future#cancel} succeeds only for a task no worker has started (as in
 * Python). {@code invokeAll} with a timeout and {@code invokeAny} cancel the tasks they leave
 * unfinished as a thread pool does, running ones included: such a task's worker is ended and
 * replaced (unless other tasks wait behind it in that worker's pipe: then it runs to its end,
 * its result dropped, rather than lose them).
 * {@link #close()} is {@code shutdown()} then waiting for termination.
 */
public class ProcessPoolExecutor implements ExecutorService {
    private final Pool pool;
    private final Map<AsyncResult<?>, Callable<?>> outstanding = new ConcurrentHashMap<>();
    private volatile boolean shutdown;
    private volatile Thread closer;

    /**
     * An executor of {@code maxWorkers} worker processes.
     *
     * @param maxWorkers how many worker processes
     */
    public ProcessPoolExecutor(int maxWorkers) {
        this(Pool.builder().processes(maxWorkers).build());
    }

    /** An executor of {@link Multiprocessing#cpuCount()} workers. */
    public ProcessPoolExecutor() {
        this(Multiprocessing.cpuCount());
    }

    /**
     * An executor over a pool built by the caller (its context, initializer, maxTasksPerChild).
     *
     * @param pool the pool that runs the tasks; shutting the executor down closes it
     */
    public ProcessPoolExecutor(Pool pool) {
        this.pool = java.util.Objects.requireNonNull(pool, "pool");
    }

    @SuppressWarnings("unchecked")
    private static <T> SerializableCallable<T> serializable(Callable<T> task) {
        if (task == null) {
            throw new NullPointerException("task");
        }
        if (task instanceof SerializableCallable<?> s) {
            return (SerializableCallable<T>) s;
        }
        if (!(task instanceof Serializable)) {
            throw new IllegalArgumentException("a ProcessPoolExecutor task must be serializable, and "
                    + task.getClass().getName() + " is not: write the lambda as "
                    + "(Callable<T> & Serializable) () -> ..., use a SerializableCallable, or"
                    + " submit it through a ProcessPoolExecutor reference (not an"
                    + " ExecutorService one), whose submit(SerializableCallable) makes a plain"
                    + " lambda serializable");
        }
        return task::call;
    }

    private static Callable<Object> callable(Runnable task, Object result) {
        if (task == null) {
            throw new NullPointerException("task");
        }
        if (!(task instanceof Serializable)) {
            throw new IllegalArgumentException("a ProcessPoolExecutor task must be serializable, and "
                    + task.getClass().getName() + " is not: write the lambda as "
                    + "(Runnable & Serializable) () -> ..., or give submit a lambda that returns"
                    + " a value, () -> { work(); return null; }, which its"
                    + " submit(SerializableCallable) takes as it is");
        }
        return (Callable<Object> & Serializable) () -> {
            task.run();
            return result;
        };
    }

    @Override
    public <T> Future<T> submit(Callable<T> task) {
        SerializableCallable<T> c = serializable(task);
        if (shutdown) {
            throw new RejectedExecutionException("the executor is shut down");
        }
        AsyncResult<T> r;
        try {
            r = pool.applyAsync(c);
        } catch (IllegalStateException e) {
            throw new RejectedExecutionException("the executor is shut down", e);
        }
        // Each task leaves the outstanding ones as it ends, its caller's cancel included: a
        // sweep of the done ones at every submit past a fixed size made 100,000 tasks queued
        // at once quadratic, and one amortized kept done futures and their results long after
        // a burst (reviews 41, 42), and cancelled ones until the next sweep (attack 40b).
        outstanding.put(r, task);
        PoolAccess.get().whenDone(r, () -> outstanding.remove(r));
        return r;
    }

    /**
     * Submits a serializable task: a plain lambda or method reference passed here is one
     * ({@code executor.submit(() -> pow(323, 1235))}, Python's {@code submit(pow, 323, 1235)}),
     * with no cast.
     *
     * @param <T>  the type of the task's result
     * @param task the task
     * @return its future
     */
    public <T> Future<T> submit(SerializableCallable<T> task) {
        return submit((Callable<T>) task);
    }

    /**
     * Python's {@code Executor.map}: {@code fn} applied to each item in the workers, the
     * results in the items' order, one item per task. A task's exception is thrown where its
     * result would come, with its own type; {@code next(Duration)} is Python's timeout. Unlike
     * Python, which collects the items at once, the items are read as results are taken (a
     * window ahead, as {@link Pool#imap}): an endless iterable is fine, but close the iterator
     * (it is AutoCloseable) once you stop reading it, before the executor's {@code shutdown()}
     * or {@code close()}, which run every task handed in and so would wait for the iterable's
     * end.
     *
     * @param <T>   the type of the items
     * @param <R>   the type of the results
     * @param fn    the function the workers apply
     * @param items the items
     * @return the results, in the items' order, as they come
     * @throws RejectedExecutionException if the executor is shut down
     */
    public <T, R> IMapIterator<R> map(SerializableFunction<? super T, ? extends R> fn,
            Iterable<? extends T> items) {
        return map(fn, items, 1);
    }

    /**
     * {@link #map(SerializableFunction, Iterable)} with {@code chunksize} items per task
     * (Python's {@code chunksize}): a chunk fails as a whole, its first item's position giving
     * the exception and its other items no result, as in Python (whose iteration then stops;
     * this one goes on with the next chunk).
     *
     * @param <T>       the type of the items
     * @param <R>       the type of the results
     * @param fn        the function the workers apply
     * @param items     the items
     * @param chunksize how many items a worker gets at a time, at least 1
     * @return the results, in the items' order, as they come
     * @throws RejectedExecutionException if the executor is shut down
     */
    public <T, R> IMapIterator<R> map(SerializableFunction<? super T, ? extends R> fn,
            Iterable<? extends T> items, int chunksize) {
        java.util.Objects.requireNonNull(fn, "fn");
        java.util.Objects.requireNonNull(items, "items");
        if (shutdown) {
            throw new RejectedExecutionException("the executor is shut down");
        }
        try {
            return pool.imap(fn, items, chunksize);
        } catch (IllegalStateException e) {
            throw new RejectedExecutionException("the executor is shut down", e);
        }
    }

    /**
     * Submits {@code task}; its future gives {@code result}, this very object, which stays in
     * this process (it need not be serializable).
     */
    @Override
    public <T> Future<T> submit(Runnable task, T result) {
        return new GivenResult<>(submit(callable(task, null)), result);
    }

    /**
     * A future that gives a result of the caller's own once its task is done; equal only to
     * itself, as any future (a record's equality would be the result's).
     */
    private static final class GivenResult<T> implements Future<T> {
        private final Future<?> run;
        private final T result;

        GivenResult(Future<?> run, T result) {
            this.run = run;
            this.result = result;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            return run.cancel(mayInterruptIfRunning);
        }

        @Override
        public boolean isCancelled() {
            return run.isCancelled();
        }

        @Override
        public boolean isDone() {
            return run.isDone();
        }

        @Override
        public T get() throws InterruptedException, ExecutionException {
            run.get();
            return result;
        }

        @Override
        public T get(long timeout, TimeUnit unit)
                throws InterruptedException, ExecutionException, TimeoutException {
            run.get(timeout, unit);
            return result;
        }
    }

    @Override
    public Future<?> submit(Runnable task) {
        return submit(callable(task, null));
    }

    @Override
    public void execute(Runnable command) {
        submit(command);
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
        return invokeAll(tasks, Long.MAX_VALUE, TimeUnit.NANOSECONDS);
    }

    /**
     * Runs {@code tasks} and waits until all are done or the time is up; then cancels those not
     * done: one no worker has started is dropped, one a worker runs ends with its worker, which
     * the pool replaces (where a {@code ThreadPoolExecutor} interrupts its thread), unless that
     * worker holds other tasks too, or the pool is a {@link multiprocessing.pool.ThreadPool},
     * whose threads are not ended: then the task runs on and its result is dropped. Every
     * future returned is done. A
     * task that cannot be submitted (not serializable) cancels those submitted before it, then
     * throws; so does an interrupt of the waiting caller. The time counts from the call.
     */
    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException {
        // From the call, as AbstractExecutorService counts it: submitting is part of the time.
        long deadline = deadline(timeout, unit);
        List<Future<T>> futures = new ArrayList<>(tasks.size());
        try {
            for (Callable<T> t : tasks) {
                futures.add(submit(t));
            }
            for (Future<T> f : futures) {
                long left = deadline - System.nanoTime();
                try {
                    if (left <= 0) {
                        break;
                    }
                    f.get(left, TimeUnit.NANOSECONDS);
                } catch (ExecutionException | CancellationException e) {
                    // reported through the future
                } catch (TimeoutException e) {
                    break;
                }
            }
        } finally {
            // Also when a task cannot be submitted, or the caller is interrupted (review 41:
            // the tasks ran on, and the caller had no future left to cancel them).
            for (Future<T> f : futures) {
                cancel(f);
            }
        }
        return futures;
    }

    private static long deadline(long timeout, TimeUnit unit) {
        long nanos = unit.toNanos(timeout);
        long now = System.nanoTime();
        return nanos >= Long.MAX_VALUE - now ? Long.MAX_VALUE : now + nanos;
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
        try {
            return invokeAny(tasks, Long.MAX_VALUE, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("no tasks");
        }
        LinkedBlockingQueue<Object[]> finished = new LinkedBlockingQueue<>();
        List<Future<T>> futures = new ArrayList<>();
        if (shutdown) {
            throw new RejectedExecutionException("the executor is shut down");
        }
        try {
            for (Callable<T> t : tasks) {
                SerializableCallable<T> c = serializable(t);
                futures.add(pool.applyAsync(c, r -> finished.add(new Object[] {true, r}),
                        e -> finished.add(new Object[] {false, e})));
            }
            long deadline = deadline(timeout, unit);
            Throwable last = null;
            for (int i = 0; i < futures.size(); i++) {
                Object[] f = finished.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (f == null) {
                    throw new TimeoutException("no task completed in time");
                }
                if ((Boolean) f[0]) {
                    @SuppressWarnings("unchecked")
                    T value = (T) f[1];
                    return value;
                }
                last = (Throwable) f[1];
            }
            throw new ExecutionException("every task failed; the last failure is the cause", last);
        } catch (IllegalStateException e) {
            throw new RejectedExecutionException("the executor is shut down", e);
        } finally {
            for (Future<T> f : futures) {
                cancel(f);
            }
        }
    }

    /**
     * Cancels a task of {@code invokeAll} or {@code invokeAny} that is not done: one no worker
     * has started is dropped; one a worker runs ends with its worker, which the pool replaces
     * (where a {@code ThreadPoolExecutor} interrupts its thread). A running task that shares its
     * worker with others (queued behind it in the worker's pipe) runs on, as ending it would
     * lose them, and so does one in a thread of a {@code ThreadPool}; its future is
     * cancelled all the same and its result dropped: every future these methods return is
     * done (a future of a timed-out {@code invokeAll} was left pending, to complete with the
     * result later; attack 28).
     */
    private void cancel(Future<?> f) {
        if (!f.isDone() && !f.cancel(true) && f instanceof AsyncResult<?> r
                && !PoolAccess.get().cancelRunning(pool, r)) {
            PoolAccess.get().dropResult(r);
        }
    }

    /** Lets submitted tasks finish and the workers exit, without waiting (see {@link #awaitTermination}). */
    @Override
    public synchronized void shutdown() {
        shutdown = true;
        if (closer == null) {
            Thread t = LibraryThreads.unstarted("ProcessPoolExecutor-shutdown", pool::close);
            t.setDaemon(true);
            closer = t;
            t.start();
            notifyAll(); // awaitTermination calls that began before the shutdown
        }
    }

    @Override
    public List<Runnable> shutdownNow() {
        synchronized (this) {
            shutdown = true;
        }
        List<Runnable> notStarted = new ArrayList<>();
        for (Map.Entry<AsyncResult<?>, Callable<?>> e : outstanding.entrySet()) {
            if (!e.getKey().isDone() && e.getKey().cancel(false)) {
                Callable<?> task = e.getValue();
                notStarted.add(() -> {
                    try {
                        task.call();
                    } catch (Exception ex) {
                        throw new RuntimeException(ex);
                    }
                });
            }
        }
        outstanding.clear();
        pool.terminate();
        shutdown();
        return notStarted;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        Thread t = closer;
        return shutdown && t != null && !t.isAlive();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = Math.max(0, unit.toNanos(timeout));
        long start = System.nanoTime();
        Thread t;
        synchronized (this) {
            // Not shut down yet: a shutdown (or shutdownNow) during the wait counts too.
            while ((t = closer) == null) {
                long left = nanos - (System.nanoTime() - start);
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
        return t.join(Duration.ofNanos(Math.max(0, nanos - (System.nanoTime() - start))));
    }

    /**
     * Shuts down and waits until every task has finished and every worker has exited. If
     * interrupted while waiting, it stops the tasks as {@link #shutdownNow()} does, then waits
     * for the workers to exit, and returns with the interrupt status set (as
     * {@link ExecutorService#close()} says).
     */
    @Override
    public void close() {
        shutdown();
        boolean interrupted = false;
        while (true) {
            try {
                if (awaitTermination(1, TimeUnit.DAYS)) {
                    break;
                }
            } catch (InterruptedException e) {
                if (!interrupted) {
                    interrupted = true;
                    shutdownNow();
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "<ProcessPoolExecutor " + pool + (shutdown ? " shut down" : "") + ">";
    }
}
