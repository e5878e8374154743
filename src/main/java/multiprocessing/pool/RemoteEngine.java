package multiprocessing.pool;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import multiprocessing.ProcessError;
import multiprocessing.internal.pool.Placement;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.util.LibraryThreads;

/**
 * Runs a pool's chunks where a {@link Placement} puts them (the workers of a cluster's members).
 *
 * <p>Implementation note. Chunks are serialized in the submitting thread, as the process engine
 * does, into the very message a {@link Worker} reads, so that a member can hand the bytes to one
 * of its workers unread. They wait in {@code pending} until the placement has room for them:
 * how much work each member holds is the placement's business, which keeps a slow member from
 * being handed as much as a fast one and keeps cancelled and terminated chunks from ever being
 * sent. One result thread does everything else, in order: it sends chunks as room appears, and
 * runs the deliveries (which arrive on the placement's threads) so that results, callbacks and
 * progress happen on one thread, as on a local pool. A chunk whose member is lost goes back to
 * the front of {@code pending} to run once more, elsewhere; lost a second time, it fails with
 * {@link WorkerLostException} (tasks should be idempotent for this, as Ray assumes). A delivery
 * for a chunk no longer in {@code running} (the pool was terminated meanwhile) is dropped.
 *
 * <p>{@link #lock} guards the queues and flags; it is never held while calling a job, the
 * placement, or anything that blocks.
 */
final class RemoteEngine implements Engine {
    /** How long chunks may wait while there is no place at all to run them before they fail. */
    private static final long NO_PLACE_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final Runnable WAKE = () -> {};

    private final Placement placement;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Chunk> pending = new ArrayDeque<>();
    /** Chunks members did not run, waiting a moment before they are sent again (see notRunOn). */
    private final List<Chunk> delayed = new ArrayList<>();
    private final Set<Chunk> running = Collections.newSetFromMap(new IdentityHashMap<>());
    private int feeders;
    private boolean closed;
    private boolean terminated;
    private final LinkedBlockingQueue<Runnable> events = new LinkedBlockingQueue<>();
    private final Thread resultThread;
    /** Since when chunks wait with no place to run at all (0: they do not); result thread only. */
    private long noPlaceSince;

    private record Send(Chunk chunk, Placement.Slot slot) {}

    RemoteEngine(Placement placement) {
        this.placement = placement;
        placement.start(this::wakeUp);
        resultThread = LibraryThreads.unstarted("pool-results", this::results);
        resultThread.setDaemon(true);
        resultThread.start();
    }

    // ------------------------------------------------------------------ submitting

    @Override
    public void prepare(Job job) {
        job.fnBytes = Serialization.serializeFunction(job.fn);
    }

    @Override
    public void submit(Chunk chunk) {
        Job job = chunk.job;
        chunk.message = Serialization.serialize(new Object[] {job.id, job.kind, job.fnBytes, chunk.items});
        lock.lock();
        try {
            if (terminated) {
                throw new IllegalStateException("the pool was terminated");
            }
            pending.add(chunk);
        } finally {
            lock.unlock();
        }
        wakeUp();
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
        } finally {
            lock.unlock();
        }
        wakeUp();
    }

    private void wakeUp() {
        events.offer(WAKE);
    }

    // ------------------------------------------------------------------ the result thread

    private void results() {
        try {
            while (true) {
                Runnable event = events.poll(untilDelayedNanos(), TimeUnit.NANOSECONDS);
                while (event != null) {
                    event.run();
                    event = events.poll();
                }
                List<Send> sends = new ArrayList<>();
                List<Chunk> stranded = List.of();
                String why = placement.unavailable();
                lock.lock();
                try {
                    releaseDelayed();
                    if (terminated || (closed && pending.isEmpty() && running.isEmpty()
                            && delayed.isEmpty() && feeders == 0)) {
                        return;
                    }
                    dispatch(sends);
                    stranded = strand(why);
                } finally {
                    lock.unlock();
                }
                for (Send s : sends) {
                    send(s);
                }
                for (Chunk c : stranded) {
                    Replies.finish(c, null, new ProcessError("the task cannot run: " + why
                            + " (for " + TimeUnit.NANOSECONDS.toSeconds(NO_PLACE_NANOS) + " s)"));
                }
            }
        } catch (Throwable t) {
            // A bug here would otherwise leave every caller waiting forever.
            Job.report("pool's result thread", t);
            abortAll(new ProcessError("the pool's result thread failed: " + t, t));
        } finally {
            placement.stop();
        }
    }

    /** How long the result thread may wait for an event: a second, or until a delayed chunk is due. */
    private long untilDelayedNanos() {
        long wait = TimeUnit.SECONDS.toNanos(1);
        lock.lock();
        try {
            long now = System.nanoTime();
            for (Chunk c : delayed) {
                wait = Math.min(wait, Math.max(0, c.notBeforeNanos - now));
            }
        } finally {
            lock.unlock();
        }
        return wait;
    }

    /** Puts the delayed chunks that are due back at the front of the queue. Lock held. */
    private void releaseDelayed() {
        long now = System.nanoTime();
        for (java.util.Iterator<Chunk> it = delayed.iterator(); it.hasNext(); ) {
            Chunk c = it.next();
            if (now - c.notBeforeNanos >= 0) {
                it.remove();
                pending.addFirst(c);
            }
        }
    }

    /** Reserves room for the chunks at the front of the queue. Lock held. */
    private void dispatch(List<Send> sends) {
        while (!pending.isEmpty()) {
            Chunk c = pending.peek();
            Placement.Slot slot = placement.reserve(c.avoid());
            if (slot == null) {
                return;
            }
            pending.poll();
            if (!c.job.tryStart()) {
                slot.release();
                c.job.released();
                continue;
            }
            c.runs++;
            c.sentVia = slot;
            running.add(c);
            sends.add(new Send(c, slot));
        }
    }

    /** The chunks that have waited too long with nowhere to run, taken out of the queue. Lock held. */
    private List<Chunk> strand(String why) {
        if (why == null || pending.isEmpty() || !running.isEmpty()) {
            noPlaceSince = 0;
            return List.of();
        }
        long now = System.nanoTime();
        if (noPlaceSince == 0) {
            noPlaceSince = now;
            return List.of();
        }
        if (now - noPlaceSince < NO_PLACE_NANOS) {
            return List.of();
        }
        noPlaceSince = 0;
        List<Chunk> out = new ArrayList<>(pending);
        pending.clear();
        return out;
    }

    private void send(Send s) {
        Chunk c = s.chunk();
        Placement.Slot slot = s.slot();
        if (c.event != null) {
            c.event.sentTo("member " + slot.where(), slot.pid());
        }
        try {
            slot.send(c.message, new Placement.Delivery() {
                @Override
                public void replied(byte[] reply) {
                    events.add(() -> {
                        if (finishedRunning(c)) {
                            Replies.deliver(c, reply, "a worker of member " + slot.where());
                        }
                    });
                }

                @Override
                public void lost(String why) {
                    events.add(() -> lostOn(c, slot, why));
                }

                @Override
                public void notRun(String why) {
                    events.add(() -> notRunOn(c, slot, why));
                }

                @Override
                public void failed(Throwable error) {
                    events.add(() -> {
                        if (finishedRunning(c)) {
                            Replies.finish(c, null, error);
                        }
                    });
                }
            });
        } catch (RuntimeException | Error e) {
            // No delivery will come to give the room back (review 50: enough of these left the
            // member counted full for good, and the pool's other chunks waited forever).
            slot.release();
            if (finishedRunning(c)) {
                Replies.finish(c, null, new ProcessError("cannot send the task to member "
                        + slot.where() + ": " + e, e));
            }
        }
    }

    private boolean finishedRunning(Chunk c) {
        lock.lock();
        try {
            return running.remove(c);
        } finally {
            lock.unlock();
        }
    }

    /** Runs a chunk whose member was lost once more, elsewhere; fails it the second time. */
    private void lostOn(Chunk c, Placement.Slot slot, String why) {
        String first;
        lock.lock();
        try {
            if (!running.remove(c)) {
                return;
            }
            first = c.lostRunOn;
            if (c.runs < 2) {
                c.lostOn = slot.where();
                c.lostRunOn = slot.where();
                pending.addFirst(c);
                return;
            }
        } finally {
            lock.unlock();
        }
        Replies.finish(c, null, new WorkerLostException("member " + slot.where()
                + (slot.pid() > 0 ? " (pid " + slot.pid() + ")" : "") + " was lost while running the"
                + " task (" + why + "), which was its second run: it had run on member " + first
                + " first, which was lost too (a task whose member is lost runs again once)",
                slot.pid(), null));
    }

    /**
     * How many times members may answer that they did not run a chunk before it fails, if
     * they have done so for {@link #NO_PLACE_NANOS} too: a rolling restart hands a chunk on
     * from member to member, but a lone member that is leaving would otherwise bounce it back
     * and forth for as long as it takes to leave. From the third answer on, it is sent again
     * only after a wait (50 ms, doubling up to 2 s), so that a member that joins meanwhile
     * can take it.
     */
    static final int NOT_RUN_LIMIT = 8;

    /** Runs a chunk a member did not run elsewhere, without counting that send as a run. */
    private void notRunOn(Chunk c, Placement.Slot slot, String why) {
        lock.lock();
        try {
            if (!running.remove(c)) {
                return;
            }
            c.runs--;
            long now = System.nanoTime();
            if (c.notRun++ == 0) {
                c.firstNotRunNanos = now;
            }
            if (c.notRun <= NOT_RUN_LIMIT || now - c.firstNotRunNanos < NO_PLACE_NANOS) {
                // The member a run of it was lost on stays one to avoid too: its last allowed
                // run must not go back there (review 52).
                c.lostOn = slot.where();
                if (c.notRun <= 2) {
                    pending.addFirst(c); // handed on at once: a rolling restart's one leaving member
                } else {
                    // Answered so again and again (the only member left is leaving): sent
                    // again after a wait, for as long as a chunk with no place waits for one.
                    // Eight answers in a few milliseconds failed it (attack 51).
                    c.notBeforeNanos = now + Math.min(TimeUnit.SECONDS.toNanos(2),
                            TimeUnit.MILLISECONDS.toNanos(50L << Math.min(6, c.notRun - 3)));
                    delayed.add(c);
                }
                return;
            }
        } finally {
            lock.unlock();
        }
        Replies.finish(c, null, new ProcessError("the task was not run: members answered "
                + c.notRun + " times in " + TimeUnit.NANOSECONDS.toSeconds(NO_PLACE_NANOS)
                + " s that they could not run it, the last one " + why));
    }

    // ------------------------------------------------------------------ closing

    /** Fails every job the pool holds (terminate, or a bug in the result thread). */
    private void abortAll(Throwable error) {
        List<Chunk> dropped;
        List<Chunk> sent;
        lock.lock();
        try {
            terminated = true;
            dropped = new ArrayList<>(pending);
            dropped.addAll(delayed);
            delayed.clear();
            sent = new ArrayList<>(running);
            dropped.addAll(running);
            pending.clear();
            running.clear();
        } finally {
            lock.unlock();
        }
        if (!sent.isEmpty()) {
            // Not left running on a member for nobody (attack 51); on a thread of their own, as
            // a member cut off answers a cancel only when the cluster gives up on it, 15 s on:
            // terminate() waited that long (attack 53).
            LibraryThreads.platform().daemon().name("multiprocessing-pool-cancel").start(() -> {
                for (Chunk c : sent) {
                    try {
                        c.sentVia.cancel();
                    } catch (RuntimeException e) {
                        Job.report("pool's cancel of a chunk", e);
                    }
                }
            });
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
        wakeUp();
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
        } finally {
            lock.unlock();
        }
        wakeUp();
    }

    /** Why the pool is terminated, if not by the program (see {@link Engine#failWith}). */
    private volatile String failure;

    @Override
    public void failWith(String why) {
        failure = why;
    }

    @Override
    public void terminate() {
        // Chunks running on a member are stopped there, their workers ended (as a local
        // pool's terminate ends its workers).
        String why = failure;
        abortAll(new ProcessError(why != null ? why
                : "the pool was terminated before the task finished"));
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
        return List.of();
    }
}
