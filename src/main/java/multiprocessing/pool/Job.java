package multiprocessing.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import multiprocessing.internal.reduction.Handles;

/**
 * One call on a pool (an apply, a map, an imap), cut into {@link Chunk}s. Engines call
 * {@link #done}/{@link #failed} as chunks finish, from whatever thread they deliver results on,
 * so every subclass synchronizes its own state.
 */
abstract class Job {
    static final int APPLY = 0;
    static final int MAP = 1;
    static final int STAR = 2;

    final long id;
    final int kind;
    /** The callable or function; the process engine serializes it once per job. */
    final Object fn;
    byte[] fnBytes;
    /** What {@link #fnBytes}'s reducers counted; null once sent or given back. */
    Handles fnHandles;
    private final ProgressListener progress;
    private boolean started;
    private boolean cancelled;
    /**
     * Held while a callback runs, if the engine delivers results on several threads (see
     * {@link #callback}); null if it has one result thread.
     */
    volatile Object callbackOrder;
    /** The engine that runs it, set by the pool before anything is handed in. */
    volatile Engine engine;
    /** Set once the job's callback has returned (a thread pool's waits look: attack 47). */
    private volatile boolean calledBack;
    /** Bounds how far a lazily fed job (imap) reads ahead of its caller; null if unbounded. */
    final Window window;

    Job(long id, int kind, Object fn, ProgressListener progress, Window window) {
        this.id = id;
        this.kind = kind;
        this.fn = fn;
        this.progress = progress;
        this.window = window;
    }

    /** Called before a chunk is handed to a worker; false drops it (the job was cancelled or has failed). */
    synchronized boolean tryStart() {
        if (cancelled) {
            return false;
        }
        started = true;
        fnHandles = null; // its bytes go out with this chunk
        return true;
    }

    /**
     * A chunk of this job was dropped unsent: if none was ever sent, and none can be now (the
     * job is cancelled, or its pool cannot send any more), what the function counted is given
     * back, once.
     */
    final void functionUnsent() {
        Handles h;
        synchronized (this) {
            h = started ? null : fnHandles;
            fnHandles = null;
        }
        if (h != null) {
            h.unsent();
        }
    }

    /** Marks the job cancelled; false if it may not be (a single task already running). */
    synchronized boolean cancel() {
        if (started && !cancelAfterStart()) {
            return false;
        }
        cancelled = true;
        return true;
    }

    synchronized boolean cancelled() {
        return cancelled;
    }

    /**
     * Whether a wait for this job's result on the calling thread would never end: the thread
     * is running one of the pool's callbacks, and the job's result is delivered by that very
     * thread (a process pool's result thread) or behind that callback (a thread pool's
     * callbacks run one at a time, and this job has one to run before its result is ready).
     * Such a wait hung for good, as in Python (attack 46); it throws instead.
     */
    final boolean waitHereNeverEnds() {
        Engine e = engine;
        Object order = callbackOrder;
        if (order != null) {
            return Thread.holdsLock(order) && callbackComes() && !calledBack;
        }
        return e != null && e.isResultThread();
    }

    /**
     * Whether a callback of this job runs before its result is ready, whatever the result:
     * one for a success and one for a failure (with one only, whether it runs depends on the
     * outcome, and a wait for the other outcome ends: attack 47).
     */
    boolean callbackComes() {
        return false;
    }

    /** What a wait that {@link #waitHereNeverEnds} throws. */
    static IllegalStateException waitNeverEnds() {
        return new IllegalStateException("cannot wait for a result of a pool in one of that "
                + "pool's callbacks: the result is delivered after the callback returns");
    }

    boolean cancelAfterStart() {
        return true;
    }

    /**
     * A chunk's results (or its failure) were delivered: lets a lazily fed job feed another
     * (within its bound on results not yet taken; see {@link Window}).
     */
    final void chunkFinished() {
        if (window != null) {
            window.finished();
        }
    }

    /** A chunk left the pool undelivered (dropped, aborted): lets a lazily fed job feed another. */
    final void released() {
        if (window != null) {
            window.dropped();
        }
    }

    /**
     * Tells the listener, one call at a time and never going back: a thread pool's results are
     * delivered by several threads, which count under the job's lock but report after it (a
     * listener saw 4065 then 4064, and calls overlapping, attack 22b). A report behind one
     * already made is dropped; the last one (all done) is never behind.
     */
    final void reportProgress(long done, long total) {
        if (progress == null) {
            return;
        }
        synchronized (progressOrder) {
            if (done < reportedDone || done == reportedDone && total == reportedTotal) {
                return;
            }
            reportedDone = done;
            reportedTotal = total;
            try {
                progress.progress(done, total);
            } catch (Throwable t) {
                report("progress listener", t);
            }
        }
    }

    private final Object progressOrder = new Object();
    /** The last report made (guarded by progressOrder). */
    private long reportedDone = -1;
    private long reportedTotal = Long.MIN_VALUE;

    abstract void done(Chunk chunk, List<?> results);

    abstract void failed(Chunk chunk, Throwable error);

    /** The pool can no longer run this job's chunks (terminated, or broken). */
    abstract void abort(Throwable error);

    static void report(String what, Throwable t) {
        System.err.println("multiprocessing.pool: the " + what + " threw:");
        t.printStackTrace();
    }

    /**
     * Runs a callback, one at a time with the other callbacks of the pool when its engine
     * delivers results on several threads (a thread pool's workers): a process pool runs them
     * on its one result thread, as Python runs both pools' on theirs, and callbacks written
     * for that (a list's {@code add}) lost elements on a thread pool (review 49).
     */
    final <V> void callback(Consumer<? super V> consumer, V value, String what) {
        if (consumer == null) {
            return;
        }
        Object order = callbackOrder;
        if (order == null) {
            run(consumer, value, what);
        } else {
            synchronized (order) {
                run(consumer, value, what);
            }
        }
        calledBack = true;
    }

    private static <V> void run(Consumer<? super V> consumer, V value, String what) {
        try {
            consumer.accept(value);
        } catch (Throwable t) {
            report(what, t);
        }
    }

    // ------------------------------------------------------------------ apply

    static final class Apply<R> extends Job {
        final AsyncResult<R> result;
        private final Consumer<? super R> callback;
        private final Consumer<? super Throwable> errorCallback;

        Apply(long id, Object fn, AsyncResult<R> result, Consumer<? super R> callback,
                Consumer<? super Throwable> errorCallback) {
            super(id, APPLY, fn, null, null);
            this.result = result;
            this.callback = callback;
            this.errorCallback = errorCallback;
            result.job(this);
        }

        @Override
        boolean cancelAfterStart() {
            return false;
        }

        @Override
        boolean callbackComes() {
            return callback != null && errorCallback != null;
        }

        @Override
        @SuppressWarnings("unchecked")
        void done(Chunk chunk, List<?> results) {
            R value = (R) results.get(0);
            callback(callback, value, "callback");
            result.complete(value);
        }

        @Override
        void failed(Chunk chunk, Throwable error) {
            callback(errorCallback, error, "error callback");
            result.fail(error);
        }

        @Override
        void abort(Throwable error) {
            if (!result.isDone()) {
                failed(null, error);
            }
        }
    }

    // ------------------------------------------------------------------ relay

    /**
     * A chunk that arrived already serialized, as a worker reads it, for this pool's workers to
     * run for a pool elsewhere (a cluster member runs a remote pool's chunks so): the worker's
     * answer goes back as its bytes, and a failure here (the worker died, the pool was
     * terminated) is written as a worker writes a task's exception.
     */
    static final class Relay extends Job {
        private final java.util.function.Consumer<byte[]> reply;
        private boolean answered;

        Relay(long id, java.util.function.Consumer<byte[]> reply) {
            super(id, MAP, null, null, null);
            this.reply = reply;
        }

        @Override
        boolean cancelAfterStart() {
            return false;
        }

        void reply(byte[] bytes) {
            synchronized (this) {
                if (answered) {
                    return;
                }
                answered = true;
            }
            try {
                reply.accept(bytes);
            } catch (Throwable t) {
                report("relayed chunk's reply", t);
            }
        }

        @Override
        void done(Chunk chunk, List<?> results) {
            reply(multiprocessing.internal.reduction.Serialization.serialize(results));
        }

        @Override
        void failed(Chunk chunk, Throwable error) {
            reply(Worker.failure(Worker.FAILED, error));
        }

        @Override
        void abort(Throwable error) {
            failed(null, error);
        }
    }

    // ------------------------------------------------------------------ map

    static final class Map<R> extends Job {
        final AsyncResult<List<R>> result;
        /**
         * The results in the items' order, handed out as they are when the last chunk is in:
         * a list the size of a map's input made once (a copy at the end, with the array behind
         * it, cost a map of 1,000,000 items ~8 MB more garbage and more of the GC pauses that
         * dominate such a map's time).
         */
        private final ArrayList<R> out;
        private int remaining;
        private long done;
        private boolean over;
        private final Consumer<? super List<R>> callback;
        private final Consumer<? super Throwable> errorCallback;

        Map(long id, int kind, Object fn, int length, int chunks, AsyncResult<List<R>> result,
                Consumer<? super List<R>> callback, Consumer<? super Throwable> errorCallback,
                ProgressListener progress) {
            super(id, kind, fn, progress, null);
            this.result = result;
            this.out = new ArrayList<>(length);
            for (int i = 0; i < length; i++) {
                out.add(null);
            }
            this.remaining = chunks;
            this.callback = callback;
            this.errorCallback = errorCallback;
            result.job(this);
        }

        @Override
        @SuppressWarnings("unchecked")
        void done(Chunk chunk, List<?> results) {
            List<R> list;
            long d;
            synchronized (this) {
                if (over) {
                    return;
                }
                for (int i = 0; i < results.size(); i++) {
                    out.set((int) chunk.start + i, (R) results.get(i));
                }
                done += results.size();
                d = done;
                list = --remaining == 0 ? out : null;
                if (list != null) {
                    over = true;
                }
            }
            reportProgress(d, out.size());
            if (list != null) {
                callback(callback, list, "callback");
                result.complete(list);
            }
        }

        @Override
        boolean callbackComes() {
            return callback != null && errorCallback != null;
        }

        @Override
        void failed(Chunk chunk, Throwable error) {
            synchronized (this) {
                if (over) {
                    return;
                }
                over = true;
            }
            // The other chunks' results would be thrown away: do not run the ones not started.
            cancel();
            callback(errorCallback, error, "error callback");
            result.fail(error);
        }

        @Override
        void abort(Throwable error) {
            failed(null, error);
        }
    }

    // ------------------------------------------------------------------ imap

    static final class IMap<R> extends Job {
        final IMapIterator<R> iterator;
        /** Chunks the feeder handed to the engine (the feeder's own count). */
        int handedIn;
        private long done;
        private long total = -1;

        IMap(long id, int kind, Object fn, IMapIterator<R> iterator, ProgressListener progress,
                Window window) {
            super(id, kind, fn, progress, window);
            this.iterator = iterator;
        }

        /** The iterable is exhausted (or threw) after {@code n} items. */
        void total(long n) {
            long d;
            synchronized (this) {
                total = n;
                d = done;
            }
            reportProgress(d, n);
            iterator.total(n);
        }

        /** The iterable threw while producing item {@code index}: that is the last position. */
        void iterableFailed(long index, Throwable error) {
            iterator.failed(index, 1, error);
            synchronized (this) {
                done++;
            }
            total(index + 1);
        }

        private void advance(int n) {
            long d;
            long t;
            synchronized (this) {
                done += n;
                d = done;
                t = total;
            }
            reportProgress(d, t);
        }

        // Progress first: a caller that has taken the last result sees the last report.
        @Override
        void done(Chunk chunk, List<?> results) {
            advance(results.size());
            iterator.done(chunk.start, results, chunk.replyBytes);
        }

        @Override
        void failed(Chunk chunk, Throwable error) {
            advance(chunk.size());
            iterator.failed(chunk.start, chunk.size(), error);
        }

        @Override
        void abort(Throwable error) {
            iterator.abort(error);
        }
    }
}
