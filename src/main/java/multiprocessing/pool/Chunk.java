package multiprocessing.pool;

import java.util.List;

import multiprocessing.internal.events.PoolTaskEvent;
import multiprocessing.internal.events.Recorder;
import multiprocessing.internal.reduction.Handles;

/** Consecutive items of one job, run by one worker as one task (Python's task batches). */
final class Chunk {
    final Job job;
    /** Position of the first item in the job. */
    final long start;
    /** The items (arguments, or {@code Object[]{a, b}} pairs for starmap); null for an apply. */
    final List<Object> items;
    /** The task message as the process engine sends it, serialized in the submitting thread. */
    byte[] message;
    /**
     * What the message's reducers counted (the shared blocks its items carry): given back if
     * the chunk is dropped before any worker is sent it ({@link #unsent}); null for a chunk
     * relayed serialized.
     */
    Handles handles;
    /** When the process engine handed it to a worker. */
    long sentNanos;
    /**
     * How many times a remote engine has sent it and it may have run (a chunk whose member is
     * lost runs again once).
     */
    int runs;
    /** How many times a member answered that it did not run it (bounded: see RemoteEngine). */
    int notRun;
    /** When a member first answered that it did not run it (System.nanoTime). */
    long firstNotRunNanos;
    /** Not to be sent again before this (System.nanoTime), after a run of such answers. */
    long notBeforeNanos;
    /** The member it was lost on or not run by, to be avoided when it runs again; null if none. */
    String lostOn;
    /** The member of its run that was lost, for the message if a second is; null if none. */
    String lostRunOn;
    /** Where a remote engine sent it last: what stops it there if its pool is terminated. */
    multiprocessing.internal.pool.Placement.Slot sentVia;

    /** The members a remote engine sends it to only when there is no other. */
    java.util.Set<String> avoid() {
        if (lostOn == null && lostRunOn == null) {
            return java.util.Set.of();
        }
        java.util.Set<String> out = new java.util.HashSet<>(2);
        if (lostOn != null) {
            out.add(lostOn);
        }
        if (lostRunOn != null) {
            out.add(lostRunOn);
        }
        return out;
    }
    /**
     * Sent asking the worker for its times (see {@link Worker#TIMING}), which have not come yet;
     * read and written only by the process engine's thread that reads the worker's answers,
     * after the submitting thread set it before handing the chunk over under the engine's lock.
     */
    boolean timed;
    /** The size of its worker's answer as sent, once it has come (imap's {@link Window}). */
    long replyBytes;
    /** Its Flight Recorder event, or null when it is not recorded. */
    final PoolTaskEvent event;

    Chunk(Job job, long start, List<Object> items) {
        this.job = job;
        this.start = start;
        this.items = items;
        // Null, and no event class loaded, unless Flight Recorder is in use (see Recorder).
        this.event = Recorder.inUse() ? PoolTaskEvent.submitted(job.id, start, size()) : null;
    }

    /**
     * The chunk leaves the pool without having been sent to a worker: what its message counted
     * is given back (kept, a captured shared array stayed until the process exited; attack
     * 41), and, with {@code jobOver} (no chunk of its job can go out any more: it is cancelled,
     * or the pool sends nothing more), what its job's function counted if none went out.
     */
    void unsent(boolean jobOver) {
        if (handles != null) {
            handles.unsent();
            handles = null;
        }
        if (jobOver) {
            job.functionUnsent();
        }
    }

    int size() {
        return items == null ? 1 : items.size();
    }
}
