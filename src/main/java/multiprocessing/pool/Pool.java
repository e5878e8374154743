package multiprocessing.pool;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;

import multiprocessing.Context;
import multiprocessing.JvmContext;
import multiprocessing.Multiprocessing;
import multiprocessing.ProcessError;
import multiprocessing.SerializableBiFunction;
import multiprocessing.SerializableCallable;
import multiprocessing.SerializableFunction;
import multiprocessing.SerializableRunnable;
import multiprocessing.internal.pool.Placement;
import multiprocessing.internal.pool.PoolAccess;
import multiprocessing.internal.util.Cleaning;
import multiprocessing.internal.util.LibraryLog;
import multiprocessing.internal.util.LibraryThreads;

/**
 * A pool of worker processes (Python's {@code multiprocessing.pool.Pool}): tasks handed to it
 * run in other JVMs, results come back.
 *
 * <pre>{@code
 * try (Pool pool = new Pool(4)) {
 *     List<Integer> squares = pool.map(x -> x * x, List.of(1, 2, 3));
 * }
 * }</pre>
 *
 * <p>Tasks are lambdas written where a {@link SerializableCallable}, {@link SerializableFunction}
 * or {@link SerializableBiFunction} is expected; they and what they capture are serialized once
 * per call (not once per item) and sent to the workers with the items, in chunks. The blocking
 * calls ({@link #apply}, {@link #map}, {@link #starmap}) throw a failed task's own exception, with
 * the worker's stack trace and a suppressed {@link multiprocessing.RemoteTraceback} holding the
 * traceback text printed in the worker (a checked exception is thrown as it is, undeclared, as
 * Python raises it); the asynchronous ones report it through {@link AsyncResult#get()} as the cause
 * of an {@link ExecutionException}.
 *
 * <p>Scheduling: tasks wait in the pool and go to workers as they become free, as from
 * CPython's shared task queue, with one difference that speeds up small tasks: a worker whose
 * tasks have been measured to take well under 10 ms gets a few queued ahead, so that it finds
 * its next one at hand. No task is queued in a worker whose tasks take 10 ms or more, or behind
 * one that has run for 50 ms, so a long task holds up at most the few short ones queued behind
 * it before it was seen to be long.
 *
 * <p>Beyond CPython: a worker that dies while running a task (SIGKILL, the OOM killer,
 * {@code System.exit}) fails that task with {@link WorkerLostException} within a moment, is
 * replaced, and the other tasks go on; a result or exception that cannot be serialized fails
 * its task with a {@link ProcessError} saying so; if the pool's initializer throws, the pool is
 * broken: queued and later tasks fail with a {@link ProcessError} carrying the initializer's
 * exception, instead of workers being restarted forever.
 *
 * <p>Callbacks ({@link #applyAsync(SerializableCallable, Consumer, Consumer)}) and progress
 * listeners run on the pool's result thread, before the result is made ready: keep them short,
 * and do not wait in them for other results of the same pool (a wait without a time limit
 * that could never end there, which Python's pool makes, throws
 * {@link IllegalStateException}).
 *
 * <p>A pool the program drops without {@link #close()} or {@link #terminate()} is closed once
 * the garbage collector finds it unreachable (its workers finish what was handed in, then
 * exit), with a warning in the log, as Python's pool finalizer ends its workers: close it.
 *
 * <p>Misuse throws: {@link IllegalArgumentException} for processes or chunksize below 1, and
 * maxTasksPerChild below 1 (negative for the four-argument constructor, where 0 is never); {@link IllegalStateException} for new work after {@link #close()}
 * or {@link #terminate()} and for {@link #join()} before either.
 */
public sealed class Pool implements AutoCloseable permits ThreadPool {
    /**
     * Job numbers, from a random start: the workers of a cluster member run the chunks of pools
     * in several JVMs, and keep a job's function by its number.
     */
    private static final AtomicLong JOB_IDS = new AtomicLong(
            java.util.concurrent.ThreadLocalRandom.current().nextLong(1L << 62));

    static {
        PoolAccess.set(new PoolAccess() {
            @Override
            public Pool pool(Placement placement) {
                return new Pool(Math.max(1, placement.processes()), new RemoteEngine(placement));
            }

            @Override
            public Runnable terminator(Pool pool, java.util.function.Supplier<String> why) {
                java.lang.ref.WeakReference<Pool> held = new java.lang.ref.WeakReference<>(pool);
                Engine engine = pool.engine;
                AtomicBoolean ended = pool.ended;
                return () -> {
                    String reason = why.get();
                    if (reason != null) {
                        engine.failWith(reason); // before the terminate, which fails the tasks
                    }
                    Pool p = held.get();
                    if (p != null) {
                        p.terminate();
                        return;
                    }
                    ended.set(true);
                    engine.terminate();
                    try {
                        engine.awaitExit(null);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                };
            }

            @Override
            public Runnable relay(Pool local, byte[] task, Consumer<byte[]> reply) {
                return local.relay(task, reply);
            }

            @Override
            public void rehearseWorker(boolean plain) throws Exception {
                Worker.rehearse(plain);
            }

            @Override
            public boolean cancelRunning(Pool pool, AsyncResult<?> result) {
                Job job = result.job();
                return job != null && pool.engine.abortRunning(job, result::cancelResult);
            }

            @Override
            public boolean dropResult(AsyncResult<?> result) {
                return result.cancelResult();
            }

            @Override
            public void whenDone(AsyncResult<?> result, Runnable action) {
                result.whenDone(action);
            }
        });
    }
    /**
     * An imap's bound on results finished and not yet taken by its caller, as whole chunks
     * (see Window): a few MB of small results, which the bound on bytes (as the workers sent
     * them, ~5 for an Integer against ~90 held here) would let grow to a GB.
     */
    private static final int IMAP_UNTAKEN_RESULTS = 65_536;
    /** An imap's bound on the size of those chunks' results, as their workers sent them. */
    private static final long IMAP_UNTAKEN_BYTES = 64L << 20;
    private static final int RUN = 0;
    private static final int CLOSE = 1;
    private static final int TERMINATE = 2;

    private final Engine engine;
    private final int processes;
    private volatile int state = RUN;
    /** Set once this pool is closed or terminated: a dropped pool then needs no closing. */
    private final AtomicBoolean ended =
            new AtomicBoolean();
    /**
     * Held (shared) by a call that hands work in, from its check that the pool runs to its
     * last chunk given to the engine, and (exclusive) by {@link #close()} as it closes: work is
     * either refused or in the engine before the engine closes. A submit that had checked and
     * was still serializing its task when another thread closed the pool gave the engine a
     * chunk after its workers had stopped: accepted, never run (attack 28).
     */
    private final ReentrantReadWriteLock admission = new ReentrantReadWriteLock();
    private volatile ProgressListener progress;
    private volatile boolean progressBar;
    private final Set<Thread> feeders = ConcurrentHashMap.newKeySet();
    /** The imap jobs whose iterable is still being read. */
    private final Set<Job.IMap<?>> feeding = ConcurrentHashMap.newKeySet();

    /** A pool of {@link Multiprocessing#cpuCount()} workers. */
    public Pool() {
        this(Multiprocessing.cpuCount());
    }

    /**
     * A pool of {@code processes} workers.
     *
     * @param processes how many worker processes
     * @throws IllegalArgumentException if {@code processes} is below 1
     */
    public Pool(int processes) {
        this(processes, null, 0, null);
    }

    /**
     * A pool of {@code processes} worker processes started by {@code context} (Python's
     * {@code Pool(processes, initializer, initargs, maxtasksperchild, context)}); every
     * replacement worker is started by it too. {@link Builder#build()} and
     * {@link Context#pool(int)} are the usual ways to get one.
     *
     * @param processes        how many worker processes
     * @param initializer      runs in each worker before its first task, or null
     * @param maxTasksPerChild tasks (chunks) after which a worker exits and is replaced; 0 for
     *                         never (a worker exiting gives the non-daemon threads its tasks
     *                         left running up to 5 s to end: see {@link #close()})
     * @param context          the start method, or null for the default context
     * @throws IllegalArgumentException if {@code processes} is below 1 or
     *         {@code maxTasksPerChild} is negative
     */
    public Pool(int processes, SerializableRunnable initializer, int maxTasksPerChild,
            JvmContext context) {
        this(checkProcesses(processes), new ProcessEngine(processes, initializer,
                checkMaxTasks(maxTasksPerChild, true), context));
    }

    Pool(int processes, Engine engine) {
        this.processes = processes;
        this.engine = engine;
        Cleaning.register(this, new Dropped(engine, ended, getClass().getSimpleName(),
                processes));
    }

    /**
     * A pool the program dropped without {@link #close()} or {@link #terminate()} is closed
     * when found unreachable: its workers finish what was handed in and exit, as Python's
     * pool finalizer ends them (with a ResourceWarning; a warning in the log here). They stayed
     * until the program exited: a server that made a pool per request and forgot to close it
     * gathered idle JVMs (attack 45). Closed rather than terminated, as no work is lost so:
     * a program may still wait for a result of a pool it let go of. Holds nothing of the pool.
     */
    private record Dropped(Engine engine, AtomicBoolean ended,
            String kind, int processes) implements Runnable {
        @Override
        public void run() {
            if (ended.getAndSet(true)) {
                return;
            }
            LibraryLog.get().log(System.Logger.Level.WARNING, "multiprocessing: a " + kind
                    + " of " + processes + " was dropped without close() or terminate(); its "
                    + "workers are closed now that it is unreachable");
            engine.close();
        }
    }

    static int checkMaxTasks(int maxTasksPerChild, boolean zeroAllowed) {
        if (maxTasksPerChild < (zeroAllowed ? 0 : 1)) {
            throw new IllegalArgumentException("maxTasksPerChild must be at least "
                    + (zeroAllowed ? "0 (0: never)" : "1") + ", not " + maxTasksPerChild);
        }
        return maxTasksPerChild;
    }

    static int checkProcesses(int processes) {
        if (processes < 1) {
            throw new IllegalArgumentException("Number of processes must be at least 1, not " + processes);
        }
        return processes;
    }

    /** {@return a builder of a pool (Python's keyword arguments of {@code Pool(...)})} */
    public static Builder builder() {
        return new Builder();
    }

    /** The settings of a {@link Pool}; each setter checks its argument at once. */
    public static final class Builder {
        private int processes = Multiprocessing.cpuCount();
        private SerializableRunnable initializer;
        private int maxTasksPerChild;
        private Context context;

        private Builder() {}

        /**
         * How many worker processes (default: {@link Multiprocessing#cpuCount()}).
         *
         * @param processes how many worker processes
         * @return this builder
         * @throws IllegalArgumentException if {@code processes} is below 1
         */
        public Builder processes(int processes) {
            this.processes = checkProcesses(processes);
            return this;
        }

        /**
         * Runs once in each worker before its first task (also in replacement workers). Capture
         * the arguments it needs. If it throws, the pool is broken (see {@link Pool}).
         *
         * @param initializer what each worker runs first, or null
         * @return this builder
         */
        public Builder initializer(SerializableRunnable initializer) {
            this.initializer = initializer;
            return this;
        }

        /**
         * A worker exits after this many tasks (chunks) and is replaced; default: never. An
         * exiting worker gives the non-daemon threads its tasks left running up to 5 s to end.
         *
         * @param maxTasksPerChild tasks (chunks) per worker, at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code maxTasksPerChild} is below 1
         */
        public Builder maxTasksPerChild(int maxTasksPerChild) {
            this.maxTasksPerChild = checkMaxTasks(maxTasksPerChild, false);
            return this;
        }

        /**
         * The context whose start method and JVM options start the workers; the pool is the one
         * {@link Context#pool(int, SerializableRunnable, int)} makes (of the dummy context, a
         * {@link ThreadPool}).
         *
         * @param context the context, or null for the default one
         * @return this builder
         */
        public Builder context(Context context) {
            this.context = context;
            return this;
        }

        /** {@return the pool, its workers starting} */
        public Pool build() {
            Context ctx = context != null ? context : Multiprocessing.getContext();
            return ctx.pool(processes, initializer, maxTasksPerChild);
        }
    }

    /** {@return the number of workers} */
    public int processes() {
        return processes;
    }

    /** {@return the pids of the live workers (empty for a {@link ThreadPool})} */
    public List<Long> workerPids() {
        return engine.workerPids();
    }

    // ------------------------------------------------------------------ progress

    /**
     * Calls {@code listener} with (done, total) items as the chunks of each later {@code map},
     * {@code imap} or {@code starmap} (and their async forms) finish; null removes it.
     *
     * @param listener told of each call's progress, or null
     * @return this pool
     */
    public Pool onProgress(ProgressListener listener) {
        this.progress = listener;
        return this;
    }

    /**
     * Shows a progress bar ({@link ProgressBar}) on standard error for each later map, imap or
     * starmap.
     *
     * @return this pool
     */
    public Pool withProgressBar() {
        this.progressBar = true;
        return this;
    }

    private ProgressListener progressFor() {
        ProgressListener user = progress;
        if (!progressBar) {
            return user;
        }
        ProgressBar bar = new ProgressBar(System.err);
        if (user == null) {
            return bar;
        }
        return (done, total) -> {
            bar.progress(done, total);
            user.progress(done, total);
        };
    }

    // ------------------------------------------------------------------ apply

    /**
     * Runs {@code task} in a worker and returns its result (Python's {@code apply}).
     *
     * @param <R>  the type of the result
     * @param task what the worker runs
     * @return the task's result
     * @throws InterruptedException if this thread is interrupted while it waits
     */
    public <R> R apply(SerializableCallable<R> task) throws InterruptedException {
        return waitFor(applyAsync(task));
    }

    /**
     * Runs {@code task} in a worker (Python's {@code apply_async}).
     *
     * @param <R>  the type of the result
     * @param task what the worker runs
     * @return the result to come
     */
    public <R> AsyncResult<R> applyAsync(SerializableCallable<R> task) {
        return applyAsync(task, null, null);
    }

    /**
     * Runs {@code task} in a worker; {@code callback} gets its result, or {@code errorCallback}
     * its exception, on the pool's result thread before the result is ready. Either may be null.
     *
     * @param <R>           the type of the result
     * @param task          what the worker runs
     * @param callback      told the result, or null
     * @param errorCallback told the task's exception, or null
     * @return the result to come
     */
    public <R> AsyncResult<R> applyAsync(SerializableCallable<R> task, Consumer<? super R> callback,
            Consumer<? super Throwable> errorCallback) {
        return submitCall(task, callback, errorCallback);
    }

    /** An apply of any callable (the executor checks that it is serializable). */
    <R> AsyncResult<R> submitCall(Object task, Consumer<? super R> callback,
            Consumer<? super Throwable> errorCallback) {
        java.util.Objects.requireNonNull(task, "task");
        admission.readLock().lock();
        try {
            checkRunning();
            AsyncResult<R> result = new AsyncResult<>();
            Job job = new Job.Apply<>(JOB_IDS.incrementAndGet(), task, result, callback,
                    errorCallback);
            prepare(job);
            submitFirst(job, new Chunk(job, 0, null));
            return result;
        } finally {
            admission.readLock().unlock();
        }
    }

    /** Runs a chunk serialized elsewhere in this pool's workers (see {@link PoolAccess#relay}). */
    Runnable relay(byte[] task, Consumer<byte[]> reply) {
        if (!(engine instanceof ProcessEngine)) {
            throw new IllegalArgumentException("only a pool of processes runs relayed chunks");
        }
        Job.Relay job = new Job.Relay(JOB_IDS.incrementAndGet(), reply);
        admission.readLock().lock();
        try {
            checkRunning();
            Chunk c = new Chunk(job, 0, null);
            c.message = task;
            engine.submit(c);
        } finally {
            admission.readLock().unlock();
        }
        return () -> {
            ProcessError stopped = new ProcessError("stopped: its pool was terminated");
            if (job.cancel()) {
                job.abort(stopped); // not handed to a worker: dropped there, answered here
            } else {
                engine.abortRunning(job, () -> true); // the worker's end answers it
            }
        };
    }

    // ------------------------------------------------------------------ map

    /**
     * Applies {@code fn} to every item in workers; results in the items' order (Python's
     * {@code map}). The chunk size is Python's default: the items divided by four times the
     * workers, rounded up.
     *
     * @param <T>   the type of the items
     * @param <R>   the type of the results
     * @param fn    the function the workers apply
     * @param items the items, read at once
     * @return the results, in the items' order
     * @throws InterruptedException if this thread is interrupted while it waits
     */
    public <T, R> List<R> map(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> items)
            throws InterruptedException {
        return waitFor(mapAsync(fn, items));
    }

    /**
     * {@link #map(SerializableFunction, Iterable)} with {@code chunksize} items per task.
     *
     * @param <T>       the type of the items
     * @param <R>       the type of the results
     * @param fn        the function the workers apply
     * @param items     the items, read at once
     * @param chunksize how many items a worker gets at a time, at least 1
     * @return the results, in the items' order
     * @throws InterruptedException if this thread is interrupted while it waits
     */
    public <T, R> List<R> map(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> items,
            int chunksize) throws InterruptedException {
        return waitFor(mapAsync(fn, items, chunksize));
    }

    /**
     * {@link #map(SerializableFunction, Iterable)} without waiting. The chunk size is Python's
     * default: the items divided by four times the workers, rounded up.
     *
     * @param <T>   the type of the items
     * @param <R>   the type of the results
     * @param fn    the function the workers apply
     * @param items the items, read at once
     * @return the results to come, in the items' order
     */
    public <T, R> AsyncResult<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> fn,
            Iterable<? extends T> items) {
        return mapJob(Job.MAP, fn, list(items, Function.identity()), 0, null, null);
    }

    /**
     * {@link #map(SerializableFunction, Iterable, int)} without waiting (Python's
     * {@code map_async}).
     *
     * @param <T>       the type of the items
     * @param <R>       the type of the results
     * @param fn        the function the workers apply
     * @param items     the items, read at once
     * @param chunksize how many items a worker gets at a time, at least 1
     * @return the results to come, in the items' order
     */
    public <T, R> AsyncResult<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> fn,
            Iterable<? extends T> items, int chunksize) {
        return mapJob(Job.MAP, fn, list(items, Function.identity()), checkChunksize(chunksize), null, null);
    }

    /**
     * {@link #mapAsync(SerializableFunction, Iterable, int)} with callbacks, as
     * {@link #applyAsync(SerializableCallable, Consumer, Consumer)}.
     *
     * @param <T>           the type of the items
     * @param <R>           the type of the results
     * @param fn            the function the workers apply
     * @param items         the items, read at once
     * @param chunksize     how many items a worker gets at a time, at least 1
     * @param callback      told the list of results, or null
     * @param errorCallback told the first failed task's exception, or null
     * @return the results to come, in the items' order
     */
    public <T, R> AsyncResult<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> fn,
            Iterable<? extends T> items, int chunksize, Consumer<? super List<R>> callback,
            Consumer<? super Throwable> errorCallback) {
        return mapJob(Job.MAP, fn, list(items, Function.identity()), checkChunksize(chunksize),
                callback, errorCallback);
    }

    /**
     * Applies {@code fn} to the key and value of every entry (Python's {@code starmap}, whose
     * argument tuples are pairs here).
     *
     * @param <T>   the type of the first arguments
     * @param <U>   the type of the second arguments
     * @param <R>   the type of the results
     * @param fn    the function the workers apply
     * @param items the pairs of arguments, read at once
     * @return the results, in the items' order
     * @throws InterruptedException if this thread is interrupted while it waits
     */
    public <T, U, R> List<R> starmap(SerializableBiFunction<T, U, R> fn,
            Iterable<? extends Map.Entry<? extends T, ? extends U>> items) throws InterruptedException {
        return waitFor(starmapAsync(fn, items));
    }

    /**
     * {@link #starmap(SerializableBiFunction, Iterable)} with {@code chunksize} items per task.
     *
     * @param <T>       the type of the first arguments
     * @param <U>       the type of the second arguments
     * @param <R>       the type of the results
     * @param fn        the function the workers apply
     * @param items     the pairs of arguments, read at once
     * @param chunksize how many items a worker gets at a time, at least 1
     * @return the results, in the items' order
     * @throws InterruptedException if this thread is interrupted while it waits
     */
    public <T, U, R> List<R> starmap(SerializableBiFunction<T, U, R> fn,
            Iterable<? extends Map.Entry<? extends T, ? extends U>> items, int chunksize)
            throws InterruptedException {
        return waitFor(starmapAsync(fn, items, chunksize));
    }

    /**
     * {@link #starmap(SerializableBiFunction, Iterable)} without waiting (Python's
     * {@code starmap_async}).
     *
     * @param <T>   the type of the first arguments
     * @param <U>   the type of the second arguments
     * @param <R>   the type of the results
     * @param fn    the function the workers apply
     * @param items the pairs of arguments, read at once
     * @return the results to come, in the items' order
     */
    public <T, U, R> AsyncResult<List<R>> starmapAsync(SerializableBiFunction<T, U, R> fn,
            Iterable<? extends Map.Entry<? extends T, ? extends U>> items) {
        return mapJob(Job.STAR, fn, list(items, Pool::pair), 0, null, null);
    }

    /**
     * {@link #starmap(SerializableBiFunction, Iterable, int)} without waiting.
     *
     * @param <T>       the type of the first arguments
     * @param <U>       the type of the second arguments
     * @param <R>       the type of the results
     * @param fn        the function the workers apply
     * @param items     the pairs of arguments, read at once
     * @param chunksize how many items a worker gets at a time, at least 1
     * @return the results to come, in the items' order
     */
    public <T, U, R> AsyncResult<List<R>> starmapAsync(SerializableBiFunction<T, U, R> fn,
            Iterable<? extends Map.Entry<? extends T, ? extends U>> items, int chunksize) {
        return mapJob(Job.STAR, fn, list(items, Pool::pair), checkChunksize(chunksize), null, null);
    }

    private static Object pair(Object entry) {
        Map.Entry<?, ?> e = (Map.Entry<?, ?>) entry;
        return new Object[] {e.getKey(), e.getValue()};
    }

    /**
     * The items as a list, read in the caller as Python's map reads them; it stops at the
     * next item once the pool is closed or terminated: an iterable that blocked, then went on
     * without end, was read after terminate() until the heap ran out (attack 45).
     */
    private <E> List<Object> list(Iterable<? extends E> items, Function<Object, Object> convert) {
        List<Object> out = items instanceof Collection<?> c ? new ArrayList<>(c.size()) : new ArrayList<>();
        for (Object item : items) {
            checkRunning();
            out.add(convert.apply(item));
        }
        return out;
    }

    private static int checkChunksize(int chunksize) {
        if (chunksize < 1) {
            throw new IllegalArgumentException("Chunksize must be 1+, not " + chunksize);
        }
        return chunksize;
    }

    /** Python's default: {@code ceil(len / (4 * processes))}. */
    int defaultChunksize(int length) {
        int d = processes * 4;
        return length / d + (length % d != 0 ? 1 : 0);
    }

    private <R> AsyncResult<List<R>> mapJob(int kind, Object fn, List<Object> items, int chunksize,
            Consumer<? super List<R>> callback, Consumer<? super Throwable> errorCallback) {
        java.util.Objects.requireNonNull(fn, "fn");
        // What calls back on this thread (an empty map's callback and progress, a refused
        // chunk's error callback) runs once the admission is left: a callback may close the
        // pool, which waits for every admitted call (attack 28b: such a close waited for itself).
        List<Runnable> afterwards = new ArrayList<>(1);
        admission.readLock().lock();
        try {
            return mapJobAdmitted(kind, fn, items, chunksize, callback, errorCallback, afterwards);
        } finally {
            admission.readLock().unlock();
            afterwards.forEach(Runnable::run);
        }
    }

    private <R> AsyncResult<List<R>> mapJobAdmitted(int kind, Object fn, List<Object> items,
            int chunksize, Consumer<? super List<R>> callback,
            Consumer<? super Throwable> errorCallback, List<Runnable> afterwards) {
        checkRunning();
        int n = items.size();
        int cs = chunksize > 0 ? chunksize : Math.max(1, defaultChunksize(n));
        // In longs: a chunksize near Integer.MAX_VALUE ("one chunk") overflowed to 0 or -1
        // chunks, and the map waited forever for its last (review 49).
        int chunks = (int) ((n + (long) cs - 1) / cs);
        AsyncResult<List<R>> result = new AsyncResult<>();
        ProgressListener listener = progressFor();
        Job job = new Job.Map<>(JOB_IDS.incrementAndGet(), kind, fn, n, chunks, result, callback,
                errorCallback, listener);
        prepare(job);
        if (n == 0) {
            job.functionUnsent(); // no chunk takes it anywhere
            afterwards.add(() -> {
                if (listener != null) {
                    listener.progress(0, 0);
                }
                List<R> none = new ArrayList<>();
                job.callback(callback, none, "callback");
                result.complete(none); // the list the callback had, as for a map of any length
            });
            return result;
        }
        for (int start = 0; start < n; start = (int) Math.min(n, (long) start + cs)) {
            Chunk c = new Chunk(job, start, slice(items, start, (int) Math.min(n, (long) start + cs)));
            try {
                if (start == 0) {
                    submitFirst(job, c);
                } else {
                    engine.submit(c);
                }
            } catch (IllegalArgumentException unserializable) {
                afterwards.add(() -> job.abort(unserializable));
                throw unserializable;
            }
        }
        return result;
    }

    /** Readies a job for this pool's engine, which it then knows (see Job.waitHereNeverEnds). */
    private void prepare(Job job) {
        job.engine = engine;
        engine.prepare(job);
    }

    /**
     * Hands in a job's first chunk. Refused (too large, the pool broken or terminated), no
     * chunk of the job went anywhere: what its function captured is given back here (a shared
     * array such a function captured stayed until the process exited; review 49). Later
     * chunks' refusals need not: the chunks before them are the pool's to send or drop.
     */
    private void submitFirst(Job job, Chunk chunk) {
        boolean handedIn = false;
        try {
            engine.submit(chunk);
            handedIn = true;
        } finally {
            if (!handedIn) {
                job.functionUnsent();
            }
        }
    }

    /**
     * Items {@code from} to {@code to} as a list of their own: an ArrayList, which travels
     * without Fory when its items do. Copied one by one: {@code new ArrayList<>(subList)} makes
     * two arrays of the slice, one of them garbage at once (~4 MB in a map of 1,000,000 items).
     */
    private static List<Object> slice(List<Object> items, int from, int to) {
        ArrayList<Object> slice = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            slice.add(items.get(i));
        }
        return slice;
    }

    // ------------------------------------------------------------------ imap

    /**
     * Like {@link #map} but lazy: results in order as they come (Python's {@code imap},
     * chunksize 1). The items are read by a thread of the pool, a few chunks ahead of the
     * workers, while the results not yet taken stay under 65,536 (in whole chunks) and 64 MiB
     * as the workers sent them: an endless iterable works, and the workers go on while the
     * caller waits for a slow item (Python reads the whole iterable at once and keeps every
     * result). A {@link ThreadPool}'s results have no sent size: it reads a few chunks ahead
     * of the results taken.
     *
     * <p>{@link #close()} runs every task submitted, an imap's whole iterable included, whether
     * or not its results are taken (a program may count on their side effects), as Python's
     * {@code close()} and {@code join()} do: a program that takes only the first results of an
     * endless iterable closes the iterator first ({@link IMapIterator#close()}), or ends the
     * pool with {@link #terminate()}, which Python's {@code with Pool()} calls.
     *
     * @param <T>   the type of the items
     * @param <R>   the type of the results
     * @param fn    the function the workers apply
     * @param items the items, read as the results are taken
     * @return the results, in the items' order, as they come
     */
    public <T, R> IMapIterator<R> imap(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> items) {
        return imap(fn, items, 1);
    }

    /**
     * {@link #imap(SerializableFunction, Iterable)} with {@code chunksize} items per task.
     *
     * @param <T>       the type of the items
     * @param <R>       the type of the results
     * @param fn        the function the workers apply
     * @param items     the items, read as the results are taken
     * @param chunksize how many items a worker gets at a time, at least 1
     * @return the results, in the items' order, as they come
     */
    public <T, R> IMapIterator<R> imap(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> items,
            int chunksize) {
        return imapJob(true, fn, items, checkChunksize(chunksize));
    }

    /**
     * Like {@link #imap} with results in the order they finish (Python's {@code imap_unordered}).
     *
     * @param <T>   the type of the items
     * @param <R>   the type of the results
     * @param fn    the function the workers apply
     * @param items the items, read as the results are taken
     * @return the results, in the order they finish
     */
    public <T, R> IMapIterator<R> imapUnordered(SerializableFunction<? super T, ? extends R> fn,
            Iterable<? extends T> items) {
        return imapUnordered(fn, items, 1);
    }

    /**
     * {@link #imapUnordered(SerializableFunction, Iterable)} with {@code chunksize} items per task.
     *
     * @param <T>       the type of the items
     * @param <R>       the type of the results
     * @param fn        the function the workers apply
     * @param items     the items, read as the results are taken
     * @param chunksize how many items a worker gets at a time, at least 1
     * @return the results, in the order they finish
     */
    public <T, R> IMapIterator<R> imapUnordered(SerializableFunction<? super T, ? extends R> fn,
            Iterable<? extends T> items, int chunksize) {
        return imapJob(false, fn, items, checkChunksize(chunksize));
    }

    /**
     * The iterable is read by a feeder thread, within a {@link Window} of the caller: a few
     * chunks ahead of the workers, and a bounded count and size of results not yet taken, so
     * that an imap over a long (or endless) iterable starts at once and holds little memory
     * however slowly (or never) its results are read, and yet the workers go on while the
     * caller waits for a long task.
     */
    private <R> IMapIterator<R> imapJob(boolean ordered, Object fn, Iterable<?> items, int chunksize) {
        java.util.Objects.requireNonNull(fn, "fn");
        java.util.Objects.requireNonNull(items, "items");
        // Admitted until its feeder is counted: the engine then waits for what it feeds.
        admission.readLock().lock();
        try {
            return imapJobAdmitted(ordered, fn, items, chunksize);
        } finally {
            admission.readLock().unlock();
        }
    }

    private <R> IMapIterator<R> imapJobAdmitted(boolean ordered, Object fn, Iterable<?> items,
            int chunksize) {
        checkRunning();
        // Results not yet taken: counted by chunks (at least the chunks ahead, at most 65,536
        // results' worth), and by their size as the workers sent them. A thread pool's
        // results are never sent: it has no size to count, so only the chunks ahead.
        int ahead = 4 * processes + 8;
        Window window = this instanceof ThreadPool ? new Window(ahead, ahead, Long.MAX_VALUE)
                : new Window(ahead, Math.max(ahead, IMAP_UNTAKEN_RESULTS / chunksize),
                        IMAP_UNTAKEN_BYTES);
        IMapIterator<R> iterator = new IMapIterator<>(ordered, window);
        Job.IMap<R> job = new Job.IMap<>(JOB_IDS.incrementAndGet(), Job.MAP, fn, iterator,
                progressFor(), window);
        prepare(job);
        if (items instanceof Collection<?> c) {
            job.total(c.size());
        }
        engine.feederStarted();
        Thread feeder = LibraryThreads.unstarted("pool-feeder-" + job.id,
                () -> feed(job, items, chunksize));
        feeder.setDaemon(true);
        iterator.job(job, feeder);
        feeders.add(feeder);
        feeding.add(job);
        try {
            feeder.start();
        } catch (RuntimeException | Error e) {
            // No thread ("unable to create native thread"): counted, it would keep close()
            // waiting for good (review 49).
            feeders.remove(feeder);
            feeding.remove(job);
            engine.feederDone();
            job.functionUnsent();
            throw e;
        }
        return iterator;
    }

    private void feed(Job.IMap<?> job, Iterable<?> items, int chunksize) {
        try {
            Iterator<?> it;
            long index = 0; // past 2^31 items an int wrapped, and the end never came (review 49)
            List<Object> buffer = new ArrayList<>();
            try {
                it = items.iterator();
            } catch (Throwable t) {
                job.iterableFailed(0, t);
                return;
            }
            while (true) {
                Object item;
                if (job.cancelled()) {
                    return; // its iterator was closed
                }
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    item = it.next();
                } catch (Throwable t) {
                    if (!buffer.isEmpty() && !feedChunk(job, index - buffer.size(), buffer)) {
                        return;
                    }
                    job.iterableFailed(index, t);
                    return;
                }
                buffer.add(item);
                index++;
                if (buffer.size() == chunksize) {
                    if (!feedChunk(job, index - buffer.size(), buffer)) {
                        return;
                    }
                    buffer = new ArrayList<>();
                }
            }
            if (!buffer.isEmpty() && !feedChunk(job, index - buffer.size(), buffer)) {
                return;
            }
            job.total(index);
        } catch (Throwable t) {
            // A chunk that could not be made or handed over (an OutOfMemoryError): the caller
            // would otherwise wait forever for the items after it and for the end.
            // Logged too: an iterator nobody reads would keep it (attack 45: an OutOfMemoryError
            // went unseen while close() returned as if all was well).
            LibraryLog.get().log(System.Logger.Level.WARNING, "multiprocessing: the feeder of "
                    + "an imap could not hand its iterable's items to the pool", t);
            job.abort(new ProcessError("the pool's feeder could not hand the iterable's items to "
                    + "the pool: " + t, t));
        } finally {
            if (job.handedIn == 0) {
                job.functionUnsent(); // an empty iterable, or every chunk refused
            }
            feeders.remove(Thread.currentThread());
            feeding.remove(job);
            engine.feederDone();
        }
    }

    private boolean feedChunk(Job.IMap<?> job, long start, List<Object> items) {
        if (job.cancelled()) {
            return false;
        }
        try {
            job.window.acquire();
        } catch (InterruptedException e) {
            job.abort(new ProcessError("the pool was terminated before the task finished"));
            return false;
        }
        if (job.cancelled()) {
            job.released();
            return false;
        }
        Chunk c = new Chunk(job, start, items);
        try {
            engine.submit(c);
            job.handedIn++;
            return true;
        } catch (IllegalArgumentException unserializable) {
            job.failed(c, unserializable);
            job.chunkFinished();
            return true;
        } catch (RuntimeException stopped) {
            job.released();
            job.abort(stopped);
            return false;
        }
    }

    // ------------------------------------------------------------------ lifecycle

    private void checkRunning() {
        if (state != RUN) {
            throw new IllegalStateException("Pool not running: it was "
                    + (state == CLOSE ? "closed" : "terminated"));
        }
    }

    /**
     * Stops accepting work, lets the workers finish everything submitted, and waits until every
     * worker has exited (Python's {@code close()} followed by {@code join()}). This is what
     * leaving a try-with-resources block does: no submitted task is dropped and no worker is left
     * running. (Python's {@code with Pool()} calls {@code terminate()} instead, which silently
     * drops unfinished work; call {@link #terminate()} for that.) Called from a callback on the
     * pool's own result thread, it does not wait. After {@link #terminate()} it does nothing.
     * An interrupt ends the wait early, with the interrupt flag set. A worker ends once its
     * work is sent, giving the non-daemon threads its tasks left running 5 s to end (Python's
     * waits for them for good, and so its {@code join()}); so does a worker replaced under
     * {@code maxTasksPerChild}.
     */
    @Override
    public void close() {
        // Admitted calls first, outside this pool's monitor, which terminate() takes: a
        // terminate() while a long map is handed in is not held up. A thread still admitted
        // (called back by its own submit) closes without waiting for itself.
        boolean admitted = admission.getReadHoldCount() > 0;
        if (!admitted) {
            admission.writeLock().lock();
        }
        try {
            synchronized (this) {
                if (state == RUN) {
                    state = CLOSE;
                    ended.set(true);
                    engine.close();
                }
            }
        } finally {
            if (!admitted) {
                admission.writeLock().unlock();
            }
        }
        // Closing waits until every item is read from the iterables: an imap whose results
        // nobody takes may no longer hold its feeder back (as in Python, which has no window).
        for (Job.IMap<?> job : feeding) {
            job.window.unbound();
        }
        if (engine.isResultThread()) {
            return;
        }
        try {
            engine.awaitExit(null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops the workers at once (SIGTERM; Python's {@code terminate()}): running tasks are cut
     * off, queued ones dropped, and every unfinished result fails with a {@link ProcessError}.
     * Waits until the workers have exited.
     */
    public void terminate() {
        synchronized (this) {
            state = TERMINATE;
            ended.set(true);
        }
        for (Thread f : feeders) {
            f.interrupt();
        }
        engine.terminate();
        if (engine.isResultThread()) {
            return;
        }
        try {
            engine.awaitExit(null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits until every worker has exited.
     *
     * @throws IllegalStateException if the pool was neither closed nor terminated, or if
     *         called from one of the pool's callbacks
     * @throws InterruptedException if this thread is interrupted while it waits
     */
    public void join() throws InterruptedException {
        if (state == RUN) {
            throw new IllegalStateException("Pool is still running: call close() or terminate() before join()");
        }
        if (engine.isResultThread()) {
            throw new IllegalStateException("cannot join a pool from its own callback");
        }
        engine.awaitExit(null);
    }

    /**
     * Waits up to {@code timeout} for every worker to exit; returns whether they have.
     *
     * @param timeout how long to wait at most
     * @return whether every worker has exited
     * @throws IllegalStateException if the pool was neither closed nor terminated, or if
     *         called from one of the pool's callbacks
     * @throws InterruptedException if this thread is interrupted while it waits
     */
    public boolean join(Duration timeout) throws InterruptedException {
        if (state == RUN) {
            throw new IllegalStateException("Pool is still running: call close() or terminate() before join()");
        }
        if (engine.isResultThread()) {
            // It would wait out its timeout for itself, holding up every result (review 41).
            throw new IllegalStateException("cannot join a pool from its own callback");
        }
        return engine.awaitExit(timeout);
    }

    @Override
    public String toString() {
        return "<" + getClass().getSimpleName() + " processes=" + processes + " state="
                + (state == RUN ? "RUN" : state == CLOSE ? "CLOSE" : "TERMINATE") + ">";
    }

    // ------------------------------------------------------------------ helpers

    private static <V> V waitFor(AsyncResult<V> result) throws InterruptedException {
        try {
            return result.get();
        } catch (ExecutionException e) {
            throw Pool.<RuntimeException>sneaky(e.getCause());
        }
    }

    @SuppressWarnings("unchecked")
    static <E extends Throwable> E sneaky(Throwable t) throws E {
        throw (E) t;
    }
}
