package multiprocessing.pool;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import multiprocessing.TimeoutError;
import multiprocessing.internal.util.Durations;

/**
 * The result of a task handed to a pool with {@code applyAsync}, {@code mapAsync} or
 * {@code starmapAsync} (Python's {@code multiprocessing.pool.AsyncResult}), also a
 * {@link Future}.
 *
 * <p>When the task failed, {@link #get()} throws an {@link ExecutionException} whose cause is
 * the task's own exception, with its class, message and the worker's stack trace, and a
 * suppressed {@link multiprocessing.RemoteTraceback} holding the traceback text the worker
 * printed. A task whose worker died fails with {@link WorkerLostException}; a task of a pool
 * that was terminated fails with a {@link multiprocessing.ProcessError}.
 *
 * @param <T> the result type
 */
public class AsyncResult<T> implements Future<T> {
    private final CompletableFuture<T> future = new CompletableFuture<>();
    /** Set by the pool: decides whether the task may still be cancelled. */
    private volatile Job job;

    AsyncResult() {}

    void job(Job job) {
        this.job = job;
    }

    Job job() {
        return job;
    }

    /** Marks the result cancelled, whatever its task does; false if it was done already. */
    boolean cancelResult() {
        return future.cancel(true);
    }

    /** Runs {@code action} once the result is done, however it ends (see PoolAccess). */
    void whenDone(Runnable action) {
        future.whenComplete((value, error) -> action.run());
    }

    boolean complete(T value) {
        return future.complete(value);
    }

    boolean fail(Throwable error) {
        return future.completeExceptionally(error);
    }

    /**
     * A wait without a time limit that would never end is refused: in one of the pool's own
     * callbacks, for a result delivered after that callback returns (see
     * {@link Job#waitHereNeverEnds}). A timed wait runs out as it would (a poll with a zero
     * timeout answers "not ready", attack 47).
     */
    private void checkWaitEnds() {
        Job j = job;
        if (!future.isDone() && j != null && j.waitHereNeverEnds()) {
            throw Job.waitNeverEnds();
        }
    }

    /**
     * Waits for the result; a failed task throws {@link ExecutionException} with its exception
     * as the cause.
     *
     * @throws IllegalStateException in one of the pool's own callbacks, for a result that
     *         comes only after it returns (Python's would wait for good)
     */
    @Override
    public T get() throws InterruptedException, ExecutionException {
        checkWaitEnds();
        return future.get();
    }

    /**
     * Waits up to {@code timeout} for the result.
     *
     * @param timeout how long to wait at most
     * @return the result
     * @throws TimeoutError if it has not arrived by then (Python's {@code TimeoutError})
     * @throws ExecutionException if the task failed; the cause is the task's exception
     * @throws java.util.concurrent.CancellationException if the result was cancelled
     *         ({@link #cancel})
     * @throws InterruptedException if this thread is interrupted while it waits
     */
    public T get(Duration timeout) throws InterruptedException, ExecutionException {
        try {
            return future.get(Durations.nanos(timeout), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new TimeoutError("no result within " + timeout);
        }
    }

    @Override
    public T get(long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        java.util.Objects.requireNonNull(unit, "unit");
        try {
            return future.get(timeout, unit);
        } catch (TimeoutException e) {
            // CompletableFuture's has no message (attack 54).
            TimeoutException said = new TimeoutException("no result within " + timeout + " "
                    + unit.name().toLowerCase(java.util.Locale.ROOT));
            said.initCause(e);
            throw said;
        }
    }

    /**
     * Waits until the result is ready (Python's {@code wait()}).
     *
     * @throws InterruptedException if this thread is interrupted while it waits
     */
    public void await() throws InterruptedException {
        checkWaitEnds();
        try {
            future.get();
        } catch (ExecutionException | CancellationException e) {
            // ready all the same
        }
    }

    /**
     * Waits up to {@code timeout} until the result is ready; returns whether it is.
     *
     * @param timeout how long to wait at most
     * @return whether the result (or the failure) has arrived
     * @throws InterruptedException if this thread is interrupted while it waits
     */
    public boolean await(Duration timeout) throws InterruptedException {
        try {
            future.get(Durations.nanos(timeout), TimeUnit.NANOSECONDS);
        } catch (ExecutionException | CancellationException | TimeoutException e) {
            // ready or not: the answer is below
        }
        return future.isDone();
    }

    /** {@return whether the result (or the failure) has arrived} */
    public boolean ready() {
        return future.isDone();
    }

    /**
     * Whether the task completed without an exception.
     *
     * @return true if the task succeeded, false if it failed or was cancelled
     * @throws IllegalStateException if it is not ready yet (Python's {@code ValueError})
     */
    public boolean successful() {
        if (!future.isDone()) {
            throw new IllegalStateException("the result is not ready");
        }
        return !future.isCompletedExceptionally();
    }

    /**
     * Cancels the task if no worker has started it (as {@code concurrent.futures} does: a running
     * task cannot be cancelled). For a map, the chunks not yet started are dropped.
     */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        Job j = job;
        if (j != null && !j.cancel()) {
            return false;
        }
        return future.cancel(mayInterruptIfRunning);
    }

    @Override
    public boolean isCancelled() {
        return future.isCancelled();
    }

    @Override
    public boolean isDone() {
        return future.isDone();
    }

    @Override
    public String toString() {
        return "<AsyncResult " + (future.isDone() ? (future.isCompletedExceptionally() ? "failed" : "ready") : "pending") + ">";
    }
}
