package multiprocessing.pool;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import multiprocessing.JvmContext;
import multiprocessing.Process;
import multiprocessing.ProcessError;
import multiprocessing.internal.spawn.ClassReach;
import multiprocessing.SerializableRunnable;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Connections;
import multiprocessing.connection.Pipe;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.spawn.ProcessAccess;
import multiprocessing.internal.util.LibraryLog;
import multiprocessing.internal.util.LibraryThreads;

/**
 * Runs a pool's chunks in worker processes.
 *
 * <p>Implementation note. Each worker has two one-way pipes to the parent, one for its tasks and
 * one for its answers, and runs its tasks one at a time, in the order they arrive (see {@link
 * Worker}, which also says why two pipes). The parent keeps, per worker, the chunks sent to it
 * and not yet answered ({@code inFlight}), so that a worker finds its next task
 * already in its pipe when it sends a result (CPython's ProcessPoolExecutor queues one extra call
 * for the same reason). How many: enough to cover about {@link #QUEUED_NANOS} of the worker's
 * measured time per chunk (a moving average), at least {@link #MIN_IN_FLIGHT} (but one for
 * long or unmeasured chunks, below) and at most {@link #MAX_IN_FLIGHT}: tiny tasks get a deep
 * pipeline, whose throughput is bound by the parent's work per message rather than by round
 * trips, while long tasks are queued behind one another at most about that long, not handed to
 * a busy worker while another idles.
 *
 * <p>A chunk written to a worker's pipe cannot be taken back, and one queued behind a long chunk
 * waits for it even when another worker has long been idle (CPython's workers take their tasks
 * from one shared queue and never wait so). So a worker holds one chunk only until one of its
 * chunks has been measured, and whenever its chunks take {@link #LONG_NANOS} or more, where the
 * round trip saved is under a percent of a chunk; and no chunk is queued behind another while a
 * worker that is still starting could take it: a pool's first tasks, submitted before every
 * worker has said it is ready, would otherwise all go to the first worker ready and run one
 * after another (as two long tasks did, seen as a flaky test). Because a worker answers in
 * order, the head of {@code inFlight} is the chunk it is running: when the worker dies, exactly
 * that chunk fails with {@link WorkerLostException}, and the others, which it never started, go
 * back to the front of the queue for the other workers. (A chunk handed to an idle worker in the
 * instant it dies, which it never read, fails the same way; one found dead first is handed none:
 * see {@code dispatch}.)
 *
 * <p>One result thread waits, with {@link Connections#await}, on every worker's answers and
 * every worker's sentinel (and a wake-up pipe). It reads results, completes jobs, runs callbacks,
 * hands the next chunks out, replaces workers that exited, and ends when the pool is closed or
 * terminated and every worker has exited. Under a stream of tiny tasks this thread is the pool's
 * bottleneck, so it spends as few system calls per answer as it can: it reads every answer
 * already in a worker's pipe before it waits on all of them again, and it tops a worker up
 * only once half of its queued chunks are answered, so that many chunks cross in one message
 * and one wake of the sender. Chunks are serialized in the submitting thread; the
 * bytes are written by one sender thread per worker, because a write may block until the worker
 * has read (a large chunk), and a worker blocked writing its result to a parent that is blocked
 * writing to it would deadlock if the result thread did the writing. A sender writes what is
 * queued for its worker at that moment as one pipe message ({@link Frames}), up to 64 messages
 * and 8 MiB (a larger message alone); a sender that fails ends its worker, whose exit then
 * fails the chunk it held with the cause, rather than leave it waiting for chunks that never
 * come.
 *
 * <p>Everything shared is guarded by {@link #lock}, which is never held while blocking or while
 * calling into a job.
 */
final class ProcessEngine implements Engine {
    private static final int MIN_IN_FLIGHT = 2;
    /** A worker whose chunks take this long on average holds one at a time. */
    private static final long LONG_NANOS = 10_000_000;
    private static final int MAX_IN_FLIGHT = 64;
    /** How much of a worker's work (by its average time per chunk) may wait in its pipe. */
    private static final long QUEUED_NANOS = 2_000_000;
    /**
     * A worker whose current chunk has run this long (and longer than a few of its average
     * chunks) gets nothing more queued behind it until it answers: the chunks wait in the pool,
     * where an idle worker, or shutdownNow and cancel, can still have them.
     */
    private static final long BUSY_NANOS = 50_000_000;
    /** Workers that die in a row before saying they are ready, after which the pool gives up. */
    private static final int START_FAILURES = 3;
    /**
     * Workers killed from outside (SIGKILL, SIGTERM) in a row before any says it is ready, after
     * which the pool gives up: an initializer the OOM killer ends each time would otherwise have
     * the pool start workers for ever (attack 29b: 136 in 25 s). More than {@link
     * #START_FAILURES}: a user's kills among booting workers, while others run, are not the
     * pool's failure.
     */
    private static final int KILLS_BEFORE_READY = 10;
    /**
     * The system property that bounds, in milliseconds, how long a worker may take to begin to
     * run (to have read its process: its initializer's time is not counted); read when a pool
     * is made. A worker past it is killed, and counts as one that failed to start: a JVM that
     * hangs before it runs the library's code (a launcher that never starts one, a debugger
     * agent told to wait, {@code -agentlib:jdwp=...,suspend=y}) held the pool's tasks for good,
     * silently (attack 53). 0: no bound (to attach a debugger to a waiting worker).
     */
    public static final String START_LIMIT_PROPERTY = "multiprocessing.pool.workerStartMillis";
    private static final long DEFAULT_START_LIMIT_MILLIS = 60_000;
    /** The most messages a sender writes as one pipe message (see {@link Frames}). */
    private static final int BATCH_MESSAGES = 64;
    /** The most bytes of messages a sender batches; a larger message goes alone. */
    private static final long BATCH_BYTES = 8L << 20;
    /** The most frames {@link #receive} takes from one worker before looking at the others. */
    private static final int DRAIN_FRAMES = 64;
    private static final byte[] END = new byte[0];

    private final int processes;
    private final SerializableRunnable initializer;
    private final int maxTasks;
    private final JvmContext context;
    private final String workerPrefix;
    /** {@link #START_LIMIT_PROPERTY} in nanoseconds; 0: none. */
    private final long startLimitNanos = TimeUnit.MILLISECONDS.toNanos(
            Math.max(0, Long.getLong(START_LIMIT_PROPERTY, DEFAULT_START_LIMIT_MILLIS)));

    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Chunk> pending = new ArrayDeque<>();
    private final List<W> workers = new ArrayList<>();
    private int feeders;
    private boolean closed;
    private boolean terminated;
    private Throwable broken;
    private int startFailures;
    private int killsBeforeReady;
    private final Pipe wake = Pipe.open(true);
    private final Thread resultThread;

    private static final class W {
        final Process proc;
        /** Where its tasks go: the write-only end of a one-way pipe (see {@link Worker}). */
        final Connection tasks;
        /** Where its answers come from: the read-only end of another. */
        final Connection results;
        final long pid;
        final ArrayDeque<Chunk> inFlight = new ArrayDeque<>();
        final LinkedBlockingQueue<byte[]> outbox = new LinkedBlockingQueue<>();
        boolean ready;
        /** When it was started (System.nanoTime). */
        final long startedNanos = System.nanoTime();
        /**
         * Killed by the pool: it had not begun to run within the start limit. Set under the
         * lock while it is not ready, so it is never made ready, and never given work.
         */
        volatile boolean startTimedOut;
        /** Written by the result thread without the lock, read by dispatch under it. */
        volatile boolean eof;
        /**
         * Its process has ended: what it wrote before is still read, but nothing more is
         * handed to it (review 41: an answer read from a dead worker's pipe made room, and
         * the next chunk, sent to nobody, failed as lost with it). Result thread, as eof.
         */
        volatile boolean ended;
        boolean stopSent;
        /**
         * Found dead by dispatch while it held nothing, before the result thread has handled
         * its end: given nothing more (guarded by the lock).
         */
        boolean foundDead;
        /** Why its sender could send it nothing more (it is then killed); null if it can. */
        volatile Throwable sendFailure;
        /** What was wrong with a message it sent (it is then killed); null if nothing. */
        volatile String corrupt;
        int assigned;
        /** Chunks it may hold (guarded by the lock); grows as fast chunks are measured. */
        int limit = 1;
        long lastResultNanos;
        /** Moving average of the time a chunk took from the worker; result thread only. */
        double serviceNanos;

        W(Process proc, Connection tasks, Connection results) {
            this.proc = proc;
            this.tasks = tasks;
            this.results = results;
            this.pid = proc.pid();
        }
    }

    ProcessEngine(int processes, SerializableRunnable initializer, int maxTasks,
            JvmContext context) {
        this.processes = processes;
        this.initializer = initializer;
        this.maxTasks = maxTasks;
        this.context = context;
        // Python's names, numbered as its processes are: SpawnPoolWorker-1, in a child
        // ForkServerPoolWorker-1:2, ...
        String method = (context != null ? context : multiprocessing.Multiprocessing.getContext())
                .getStartMethod();
        this.workerPrefix = method.equals("forkserver") ? "ForkServerPoolWorker-" : "SpawnPoolWorker-";
        try {
            for (int i = 0; i < processes; i++) {
                spawn();
            }
        } catch (RuntimeException | Error e) {
            for (W w : workers) {
                w.proc.kill();
            }
            for (W w : workers) {
                try {
                    w.proc.join();
                    w.proc.close();
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
                w.tasks.close();
                w.results.close();
                w.outbox.add(END);
            }
            wake.close();
            throw e;
        }
        resultThread = LibraryThreads.unstarted("pool-results", this::results);
        resultThread.setDaemon(true);
        resultThread.start();
    }

    private void spawn() {
        Pipe tasks = Pipe.open(false);
        Pipe results;
        try {
            results = Pipe.open(false);
        } catch (RuntimeException | Error e) {
            tasks.close();
            throw e;
        }
        Process proc = Process.builder()
                .daemon(true)
                .target(new Worker(tasks.left(), results.right(), initializer, maxTasks))
                .context(context)
                .build();
        proc.name(workerPrefix + ProcessAccess.get().identity(proc));
        try {
            proc.start();
        } catch (RuntimeException | Error e) {
            tasks.close();
            results.close();
            throw e;
        } finally {
            // The child has its own copies: ours would keep the pipes open after the child dies.
            tasks.left().close();
            results.right().close();
        }
        W w = new W(proc, tasks.right(), results.left());
        try {
            Thread sender = LibraryThreads.unstarted("pool-sender-" + w.pid, () -> send(w));
            sender.setDaemon(true);
            sender.start();
        } catch (RuntimeException | Error e) {
            // No thread for it ("unable to create native thread"): a worker never listed
            // would wait on its pipes, open here, until this process ended (review 49).
            abandon(w);
            throw e;
        }
        boolean terminatedMeanwhile;
        lock.lock();
        try {
            workers.add(w);
            terminatedMeanwhile = terminated;
        } finally {
            lock.unlock();
        }
        if (terminatedMeanwhile) {
            // A replacement started as the pool was terminated (by an error callback told of
            // the worker it replaces): ended as the others were, or it would keep the result
            // thread, and terminate(), join() and close(), waiting for good (review 41).
            w.proc.terminate();
        }
    }

    /** Ends a worker that could not be set up: killed, reaped and its pipes closed. */
    private static void abandon(W w) {
        try {
            w.proc.kill();
            w.proc.join();
            w.proc.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException ignored) {
            // Ended already; what is left goes with this process.
        }
        w.tasks.close();
        w.results.close();
    }

    /**
     * The sender's loop: everything queued for the worker, up to {@link #BATCH_MESSAGES}
     * messages and {@link #BATCH_BYTES} bytes (a larger message alone), as one pipe message.
     * It is the outbox's only taker, so what it peeks at is what it then polls.
     */
    private static void send(W w) {
        List<byte[]> batch = new ArrayList<>();
        try {
            while (true) {
                batch.clear();
                long bytes = 0;
                for (byte[] m = w.outbox.take(); ; m = w.outbox.poll()) {
                    if (m == END) {
                        if (!batch.isEmpty()) {
                            w.tasks.sendBytes(Frames.pack(batch));
                        }
                        return;
                    }
                    batch.add(m);
                    bytes += m.length;
                    byte[] next = w.outbox.peek();
                    if (next == null || batch.size() == BATCH_MESSAGES
                            || next != END && bytes + next.length > BATCH_BYTES) {
                        break;
                    }
                }
                w.tasks.sendBytes(Frames.pack(batch));
            }
        } catch (InterruptedException | IOException | IllegalStateException e) {
            // The worker is gone (or being replaced): its sentinel tells the result thread.
        } catch (Throwable t) {
            // Nothing more reaches this worker: left alive, it would wait for its chunks forever
            // and so would their callers. Ended, its exit fails the chunk it holds, with this.
            w.sendFailure = t;
            LibraryLog.get().log(System.Logger.Level.WARNING, "the pool cannot send to its worker "
                    + "process " + w.pid + ", which is ended", t);
            w.proc.kill();
        }
    }

    // ------------------------------------------------------------------ submitting

    @Override
    public void prepare(Job job) {
        // Its workers may have started before this function's class loader was ever seen.
        String problem = ClassReach.unreachable(job.fn.getClass());
        if (problem != null) {
            throw new ProcessError("cannot send the function to the pool's workers: " + problem);
        }
        ClassReach.note(job.fn.getClass());
        job.fnHandles = Handles.refusing(Worker.NO_DESCRIPTORS);
        job.fnBytes = Serialization.serializeFunction(job.fn, job.fnHandles);
        if (job.fnHandles.readableOnce()) {
            // It captures what one process only can take (a connection): bytes written once
            // and sent with every chunk reached the first worker that read them, and every
            // other chunk failed ("no connection is shared under that key"; review 46).
            // Written for each chunk instead, as Python pickles a task's function each time.
            job.fnHandles.unsent();
            job.fnHandles = null;
            job.fnBytes = null;
        }
    }

    @Override
    public void submit(Chunk chunk) {
        Job job = chunk.job;
        if (chunk.message == null) { // a relayed chunk comes serialized, and untimed
            chunk.timed = chunk.event != null;
            chunk.handles = Handles.refusing(Worker.NO_DESCRIPTORS);
            byte[] fn = job.fnBytes != null ? job.fnBytes
                    : Serialization.serializeFunction(job.fn, chunk.handles);
            chunk.message = Worker.task(job.id, job.kind, fn, chunk.items, chunk.timed,
                    chunk.handles);
        }
        boolean queued = false;
        try {
            queue(chunk);
            queued = true;
        } finally {
            if (!queued) {
                chunk.unsent(false); // its job's other chunks may go out yet
            }
        }
    }

    private void queue(Chunk chunk) {
        if (chunk.message.length > Frames.MAX_PART) {
            throw new IllegalArgumentException((chunk.items == null ? "a task"
                    : "a chunk of " + chunk.items.size() + " items") + " is "
                    + chunk.message.length + " bytes serialized, more than a pool can send a "
                    + "worker at once (" + Frames.MAX_PART + ")");
        }
        lock.lock();
        try {
            if (broken != null) {
                throw new ProcessError("the pool is broken: " + broken.getMessage(), broken);
            }
            if (terminated) {
                throw new IllegalStateException("the pool was terminated");
            }
            pending.add(chunk);
            dispatch();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void feederStarted() {
        lock.lock();
        try {
            feeders++;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void feederDone() {
        lock.lock();
        try {
            feeders--;
            dispatch();
        } finally {
            lock.unlock();
        }
    }

    /** Hands queued chunks to ready workers, least loaded first; tells idle workers to stop when nothing more will come. Lock held. */
    private void dispatch() {
        if (terminated) {
            return;
        }
        long now = System.nanoTime();
        int starting = 0;
        for (W w : workers) {
            if (!w.ready && !w.eof && !w.ended && !w.stopSent && !w.startTimedOut) {
                starting++;
            }
        }
        while (!pending.isEmpty()) {
            W best = null;
            for (W w : workers) {
                if (w.ready && !w.eof && !w.ended && !w.stopSent && !w.foundDead
                        && w.inFlight.size() < w.limit
                        && (maxTasks == 0 || w.assigned < maxTasks) && !busy(w, now)
                        && (best == null || w.inFlight.size() < best.inFlight.size())) {
                    best = w;
                }
            }
            if (best == null) {
                break;
            }
            if (best.inFlight.isEmpty() && !best.proc.isAlive()) {
                // An idle worker that died (killed while it waited) before the result thread
                // handled its end: a chunk sent now would fail as the one it was running,
                // though it never ran (attack 61: a task submitted after an idle worker was
                // killed failed 9 times in 10). A busy worker's head chunk is sent already.
                best.foundDead = true;
                continue;
            }
            if (!best.inFlight.isEmpty() && pending.size() <= starting) {
                // Left for the starting workers; a worker with nothing in flight takes it
                // should they never be ready (a worker that dies leaves the list).
                break;
            }
            Chunk c = pending.poll();
            if (!c.job.tryStart()) {
                c.unsent(true);
                c.job.released();
                continue;
            }
            c.sentNanos = System.nanoTime();
            if (c.event != null) {
                c.event.sentTo(best.proc.name(), best.pid);
            }
            best.inFlight.add(c);
            best.assigned++;
            best.outbox.add(c.message);
        }
        if ((closed && pending.isEmpty() && feeders == 0) || broken != null) {
            for (W w : workers) {
                if (!w.stopSent && w.inFlight.isEmpty()) {
                    w.stopSent = true;
                    w.outbox.add(Worker.stop());
                }
            }
        }
    }

    /**
     * Whether the chunk {@code w} is running has taken far longer than its chunks do: the
     * measured average says nothing about it, and what is queued behind it would wait for it.
     * Lock held.
     */
    private static boolean busy(W w, long now) {
        Chunk head = w.inFlight.peek();
        if (head == null) {
            return false;
        }
        long running = now - Math.max(head.sentNanos, w.lastResultNanos);
        return running > BUSY_NANOS && running > 4 * w.serviceNanos;
    }

    // ------------------------------------------------------------------ the result thread

    private void results() {
        List<Object> watch = new ArrayList<>();
        try {
            while (true) {
                watch.clear();
                watch.add(wake.left());
                boolean starting = false;
                lock.lock();
                try {
                    if (workers.isEmpty() && (terminated || broken != null
                            || (closed && pending.isEmpty() && feeders == 0))) {
                        return;
                    }
                    for (W w : workers) {
                        if (!w.eof) {
                            watch.add(w.results);
                        }
                        watch.add(w.proc);
                        starting |= !w.ready && !w.ended && !w.startTimedOut;
                    }
                } finally {
                    lock.unlock();
                }
                // Looked at only while a worker starts: not at every result of a busy pool.
                Duration wait = starting ? killLateStarters() : null;
                for (Object ready : Connections.await(watch, wait)) {
                    if (ready == wake.left()) {
                        while (wake.left().poll()) {
                            wake.left().recvBytes();
                        }
                    } else if (ready instanceof Connection c) {
                        W w = find(c);
                        if (w != null) {
                            receive(w);
                        }
                    } else {
                        W w = find(ready);
                        if (w != null) {
                            exited(w);
                        }
                    }
                }
            }
        } catch (Throwable t) {
            // A bug here would otherwise leave every caller waiting forever.
            Job.report("pool's result thread", t);
            fail(new ProcessError("the pool's result thread failed: " + t, t));
        } finally {
            wake.close();
        }
    }

    /**
     * Kills the workers that have not begun to run within the start limit, and returns how
     * long until the next one not yet begun reaches it (null: no such worker, or no limit).
     * Their exit then counts as a failed start ({@link #exited}).
     */
    private Duration killLateStarters() {
        if (startLimitNanos == 0) {
            return null;
        }
        List<W> starting = new ArrayList<>();
        lock.lock();
        try {
            for (W w : workers) {
                if (!w.ready && !w.ended && !w.startTimedOut) {
                    starting.add(w);
                }
            }
        } finally {
            lock.unlock();
        }
        long now = System.nanoTime();
        long next = Long.MAX_VALUE;
        for (W w : starting) {
            if (ProcessAccess.get().pastStart(w.proc)) {
                continue; // it runs: its initializer may take as long as it takes
            }
            long left = w.startedNanos + startLimitNanos - now;
            if (left > 0) {
                next = Math.min(next, left);
                continue;
            }
            // Its start's mark comes through another thread, which may lag under load: a
            // worker that has written to its pipe (its READY) is read before it is judged.
            try {
                if (w.results.poll()) {
                    continue;
                }
            } catch (IOException | RuntimeException ended) {
                continue; // its pipe ended: its exit tells
            }
            lock.lock();
            try {
                if (w.ready || ProcessAccess.get().pastStart(w.proc)) {
                    continue; // it was read, or began, meanwhile
                }
                // Never given work from now on, even if its READY comes after all (attack 55:
                // a chunk handed to it then failed as lost with the kill).
                w.startTimedOut = true;
            } finally {
                lock.unlock();
            }
            LibraryLog.get().log(System.Logger.Level.WARNING, "pool worker process " + w.pid
                    + " had not begun to run " + seconds(startLimitNanos)
                    + " after its start: killed (its JVM hangs before it runs the library's"
                    + " code; see " + START_LIMIT_PROPERTY + ")");
            w.proc.kill();
        }
        // Looked at again at least once a second: one may begin, or not, meanwhile.
        return next == Long.MAX_VALUE ? null : Duration.ofNanos(Math.min(next,
                TimeUnit.SECONDS.toNanos(1)));
    }

    private static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f s", nanos / 1e9);
    }

    private W find(Object connOrProc) {
        lock.lock();
        try {
            for (W w : workers) {
                if (w.results == connOrProc || w.proc == connOrProc) {
                    return w;
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    private Chunk head(W w) {
        long now = System.nanoTime();
        lock.lock();
        try {
            Chunk c = w.inFlight.poll();
            if (c != null) {
                // The worker started this chunk when it was sent or when it answered the one before.
                long took = now - Math.max(c.sentNanos, w.lastResultNanos);
                w.serviceNanos = w.serviceNanos == 0 ? took : 0.8 * w.serviceNanos + 0.2 * took;
                w.limit = w.serviceNanos >= LONG_NANOS ? 1 : (int) Math.max(MIN_IN_FLIGHT,
                        Math.min(MAX_IN_FLIGHT, QUEUED_NANOS / Math.max(1.0, w.serviceNanos)));
            }
            w.lastResultNanos = now; // before dispatch: busy() times the next chunk from here
            if (c != null && w.inFlight.size() <= w.limit / 2) {
                // Its next chunks now, before this answer is read (a map's chunk may hold a
                // hundred thousand results): a worker that holds one chunk would idle meanwhile.
                // One with half its chunks still queued is topped up later, several at once (at
                // the end of receive): one pipe message and one wake of its sender for them all
                // rather than one per answer.
                dispatch();
            }
            return c;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reads what worker {@code w} has sent: the frame that made it ready, then, while it still
     * owes answers, each further frame already in its pipe, up to {@link #DRAIN_FRAMES}. Under a
     * stream of tiny tasks answers queue up faster than this thread comes back to them; taking
     * them here costs a poll(2) of one descriptor each instead of a round of
     * {@link Connections#await} over every worker (chunksize=1 maps took a quarter less time).
     */
    private void receive(W w) {
        for (int i = 0; i < DRAIN_FRAMES; i++) {
            byte[] frame;
            try {
                if (i > 0 && !(owesAnswers(w) && w.results.poll())) {
                    break;
                }
                frame = w.results.recvBytes();
            } catch (IOException | IllegalStateException e) {
                w.eof = true;
                if (i == 0) {
                    return; // nothing was answered: nothing to hand out again
                }
                break;
            }
            try {
                Frames.unpack(frame, part -> handle(w, part));
            } catch (IllegalStateException corrupt) {
                // Its answers can no longer be told apart: the worker is ended, and the chunk
                // it held fails with why (see exited).
                w.corrupt = corrupt.getMessage();
                w.eof = true;
                w.proc.kill();
                break;
            }
        }
        redispatch();
    }

    private boolean owesAnswers(W w) {
        lock.lock();
        try {
            return !w.inFlight.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    private void handle(W w, byte[] part) {
        if (w.ready) {
            // After READY a worker sends nothing but the answers to its chunks, in order, the
            // answer to a timed chunk preceded by its times (unless the task could not be read).
            if (timing(w, part)) {
                return;
            }
            Chunk c = head(w);
            if (c != null) {
                Replies.deliver(c, part, "worker process " + w.pid);
            }
            return;
        }
        Object message;
        try {
            message = Serialization.deserialize(part);
        } catch (RuntimeException | Error undecodable) {
            // Before READY a worker sends only its initializer's failure (READY itself is a
            // plain array, always readable): that failure is what this is, its exception one
            // this process cannot read. Taken for a worker that failed to start, it had the pool
            // spawn two more before it broke, saying nothing of the initializer.
            breakPool(new ProcessError("the pool's initializer failed in worker process "
                    + w.pid + ", and what it threw cannot be read here: "
                    + undecodable.getMessage(), undecodable));
            return;
        }
        int tag = message instanceof Object[] m && m.length > 0 && m[0] instanceof Integer i ? i : -1;
        if (tag == Worker.READY) {
            lock.lock();
            try {
                if (w.startTimedOut) {
                    return; // killed for its start limit: it gets no work
                }
                w.ready = true;
                startFailures = 0;
                killsBeforeReady = 0;
            } finally {
                lock.unlock();
            }
        } else if (tag == Worker.INIT_FAILED) {
            Object[] m = (Object[]) message;
            Throwable cause = Tasks.withTraceback((Throwable) m[1], (String) m[2]);
            breakPool(new ProcessError("the pool's initializer failed in worker process "
                    + w.pid + ": " + cause, cause));
        }
    }

    /**
     * Whether {@code part} is the worker's times for the chunk it is answering next (the head:
     * it answers in order), which are then recorded in the chunk's event. Only a timed head's
     * part is read here; when it is the answer itself (its task could not be read, so no times
     * came), {@link Replies} reads it again.
     */
    private boolean timing(W w, byte[] part) {
        Chunk c;
        lock.lock();
        try {
            c = w.inFlight.peek();
        } finally {
            lock.unlock();
        }
        if (c == null || !c.timed) {
            return false;
        }
        c.timed = false; // one TIMING at most per chunk: what follows is its answer
        Object message;
        try {
            message = Serialization.deserialize(part);
        } catch (RuntimeException | Error undecodable) {
            return false; // Replies says so
        }
        if (message instanceof Object[] m && m.length == 3 && Integer.valueOf(Worker.TIMING).equals(m[0])
                && m[1] instanceof Long began && m[2] instanceof Long ended) {
            c.event.ran(began, ended);
            return true;
        }
        return false;
    }

    private static void finish(Chunk c, List<?> results, Throwable error) {
        Replies.finish(c, results, error);
    }

    @Override
    public boolean abortRunning(Job job, java.util.function.BooleanSupplier cancel) {
        W victim = null;
        lock.lock();
        try {
            for (W w : workers) {
                // Alone in its worker: nothing of another job was sent to it, so ending the
                // worker loses only this chunk. Marked stopped, it gets nothing more before
                // it is gone.
                if (w.inFlight.size() == 1 && w.inFlight.peek().job == job && !w.eof
                        && !w.stopSent && !w.ended) {
                    if (cancel.getAsBoolean()) {
                        w.stopSent = true;
                        victim = w;
                    }
                    break;
                }
            }
        } finally {
            lock.unlock();
        }
        if (victim == null) {
            return false;
        }
        try {
            victim.proc.kill(); // its exit is handled as any worker's (replaced, the chunk dropped)
        } catch (IllegalStateException closed) {
            // It died meanwhile and its exit was handled (the process closed); the task's
            // result is cancelled all the same (review 49: this escaped from invokeAll).
        }
        return true;
    }

    private void redispatch() {
        lock.lock();
        try {
            dispatch();
        } finally {
            lock.unlock();
        }
    }

    private void exited(W w) throws InterruptedException {
        w.ended = true;
        // Results the worker wrote before it exited are still in the pipe.
        while (!w.eof) {
            try {
                if (!w.results.poll()) {
                    break;
                }
            } catch (IOException | IllegalStateException e) {
                break;
            }
            receive(w);
        }
        ProcessError neverRan = null;
        try {
            w.proc.join();
        } catch (ProcessError e) {
            neverRan = e; // its JVM could not start, or could not load what a worker needs
        }
        Integer code = w.proc.exitCode();
        Chunk lost;
        boolean respawn;
        boolean startFailed;
        boolean killedOut; // killed before ready, one time too many
        lock.lock();
        try {
            workers.remove(w);
            lost = w.inFlight.poll();
            for (Iterator<Chunk> it = w.inFlight.descendingIterator(); it.hasNext(); ) {
                pending.addFirst(it.next());
            }
            w.inFlight.clear();
            // Exit 0 before READY is a failure too unless it was told to stop: an initializer
            // that calls System.exit(0), a JVM option that makes the launcher only print
            // (-version). Not counted, it had the pool start workers forever. A worker killed
            // from outside (SIGKILL, SIGTERM: a user, the OOM killer) did not fail to start: it
            // is replaced as one killed later is (counted, three kills in a row while workers
            // booted broke the pool: attack 29), up to KILLS_BEFORE_READY in a row.
            boolean beforeReady = !w.ready && lost == null && broken == null && !terminated;
            boolean killedBeforeReady = beforeReady && !w.startTimedOut
                    && killedFromOutside(code);
            // One killed for its start limit that had begun after all (its mark came late, or
            // just as it was killed) did not fail to start: it is replaced, not counted
            // (attack 56: such kills broke pools whose workers were in their initializers).
            boolean begunAfterAll = w.startTimedOut && ProcessAccess.get().saidRunning(w.proc);
            startFailed = beforeReady && !killedBeforeReady && !begunAfterAll
                    && (code == null || code != 0 || !w.stopSent || w.startTimedOut);
            if (startFailed) {
                startFailures++;
            }
            if (killedBeforeReady) {
                killsBeforeReady++;
            }
            killedOut = killedBeforeReady && killsBeforeReady >= KILLS_BEFORE_READY;
            respawn = !terminated && broken == null && startFailures < START_FAILURES
                    && killsBeforeReady < KILLS_BEFORE_READY
                    && (!closed || !pending.isEmpty() || feeders > 0);
        } finally {
            lock.unlock();
        }
        w.outbox.add(END);
        w.tasks.close();
        w.results.close();
        w.proc.close();
        if (lost != null) {
            Throwable why = w.sendFailure;
            finish(lost, null, w.corrupt != null
                    ? new ProcessError("worker process " + w.pid + " was ended: it sent "
                            + w.corrupt)
                    : why == null ? new WorkerLostException(w.pid, code)
                    : new ProcessError("the pool could not send work to worker process " + w.pid
                            + ": " + why, why));
        }
        if (startFailed && !respawn && broken == null && !terminated) {
            breakPool(new ProcessError("pool worker processes fail to start: " + (neverRan != null
                    ? neverRan.getMessage() : w.startTimedOut ? "worker process " + w.pid
                            + " had not begun to run " + seconds(startLimitNanos)
                            + " after its start (its JVM hangs before"
                            + " it runs the library's code), and was killed"
                    : "worker process " + w.pid + " "
                            + WorkerLostException.describe(code) + " before it was ready"),
                    neverRan));
        } else if (killedOut && broken == null && !terminated) {
            breakPool(new ProcessError("pool worker processes are killed before they are ready: "
                    + KILLS_BEFORE_READY + " in a row, the last, worker process " + w.pid + ", "
                    + WorkerLostException.describe(code) + " (the OOM killer? a memory limit?)"));
        }
        if (respawn) {
            try {
                spawn();
            } catch (RuntimeException | Error e) {
                breakPool(new ProcessError("cannot start a replacement pool worker: " + e, e));
            }
        }
        redispatch();
    }

    /** Whether exit code {@code code} says the worker was ended by a signal sent to it. */
    private static boolean killedFromOutside(Integer code) {
        return code != null && (code == -Posix.SIGKILL || code == -Posix.SIGTERM);
    }

    /** The pool cannot go on (its initializer fails): queued chunks fail, workers are told to stop. */
    private void breakPool(Throwable error) {
        List<Chunk> dropped;
        lock.lock();
        try {
            if (broken != null) {
                return;
            }
            broken = error;
            dropped = new ArrayList<>(pending);
            pending.clear();
            dispatch();
        } finally {
            lock.unlock();
        }
        for (Chunk c : dropped) {
            c.unsent(true);
            Replies.notRun(c, error);
        }
    }

    /** Fails every job the pool holds (terminate, or a bug in the result thread). */
    private void fail(Throwable error) {
        List<Chunk> dropped = new ArrayList<>();
        List<W> all;
        lock.lock();
        try {
            terminated = true;
            for (Chunk c : pending) {
                c.unsent(true); // never sent: those in flight were, and their workers read them
            }
            dropped.addAll(pending);
            pending.clear();
            for (W w : workers) {
                dropped.addAll(w.inFlight);
                w.inFlight.clear();
            }
            all = new ArrayList<>(workers);
        } finally {
            lock.unlock();
        }
        for (W w : all) {
            try {
                w.proc.terminate();
            } catch (IllegalStateException alreadyClosed) {
                // exited and closed meanwhile
            }
        }
        for (Chunk c : dropped) {
            try {
                c.job.abort(error);
            } catch (Throwable t) {
                Job.report("pool", t);
            } finally {
                c.job.released();
            }
        }
    }

    // ------------------------------------------------------------------ closing

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            dispatch();
        } finally {
            lock.unlock();
        }
        wakeUp();
    }

    @Override
    public void terminate() {
        fail(new ProcessError("the pool was terminated before the task finished"));
        wakeUp();
    }

    private void wakeUp() {
        try {
            wake.right().sendBytes(new byte[1]);
        } catch (IOException | IllegalStateException e) {
            // the result thread has ended and closed the pipe: nothing to wake
        }
    }

    @Override
    public boolean awaitExit(Duration timeout) throws InterruptedException {
        return Engine.join(resultThread, timeout);
    }

    @Override
    public boolean isResultThread() {
        return Thread.currentThread() == resultThread;
    }

    @Override
    public List<Long> workerPids() {
        lock.lock();
        try {
            List<Long> pids = new ArrayList<>();
            for (W w : workers) {
                pids.add(w.pid);
            }
            return pids;
        } finally {
            lock.unlock();
        }
    }

    int processes() {
        return processes;
    }
}
