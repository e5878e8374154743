package multiprocessing.pool;

import java.util.List;

import multiprocessing.internal.jfr.PoolTaskEvent;

/** Consecutive items of one job, run by one worker as one task (Python's task batches). */
final class Chunk {
    final Job job;
    /** Position of the first item in the job. */
    final int start;
    /** The items (arguments, or {@code Object[]{a, b}} pairs for starmap); null for an apply. */
    final List<Object> items;
    /** The task message as the process engine sends it, serialized in the submitting thread. */
    byte[] message;
    /** When the process engine handed it to a worker. */
    long sentNanos;
    /** Its Flight Recorder event, or null when it is not recorded. */
    final PoolTaskEvent event;

    Chunk(Job job, int start, List<Object> items) {
        this.job = job;
        this.start = start;
        this.items = items;
        this.event = PoolTaskEvent.submitted(job.id, start, size());
    }

    int size() {
        return items == null ? 1 : items.size();
    }
}
