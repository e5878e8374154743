package multiprocessing.internal.events;

import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Timespan;

/**
 * What a {@link QueuePutEvent} and a {@link QueueGetEvent} share: a put or get of a
 * {@code Queue}, {@code SimpleQueue} or {@code JoinableQueue} that found no room or no item and
 * waited for one (spinning, then asleep on the futex). Recorded in the process that waited,
 * with its stack, when the wait lasted the threshold (10 ms unless a recording's settings say
 * otherwise). A put into a bounded queue that waits first for a place under maxsize and then
 * for room in the ring records each wait.
 *
 * <p>Use, on the path that is about to wait:
 * {@code QueueWaitEvent e = Recorder.inUse() ? QueueWaits.waiting(get) : null;} before the
 * wait, {@code e.finish(...)} after it when not null: until Flight Recorder is in use a wait
 * neither allocates the event nor loads its class.
 */
public abstract sealed class QueueWaitEvent extends jdk.jfr.Event
        permits QueuePutEvent, QueueGetEvent {
    @Label("Queue")
    @Description("The queue's ring: the shared-memory arena and offset it lives at, the same"
            + " in every process")
    String queue;

    @Label("Timeout")
    @Timespan
    @Description("How long the caller was prepared to wait (Forever: no limit)")
    long timeout;

    @Label("Done")
    @Description("false when the wait timed out (a Full or Empty exception followed)")
    boolean done;

    QueueWaitEvent() {}

    /**
     * Ends the wait and commits it if it is recorded and lasted the threshold.
     *
     * @param arena        the shared-memory arena of the queue's ring
     * @param offset       where the ring lies in it
     * @param timeoutNanos the caller's limit, negative for none
     */
    public final void finish(String arena, long offset, long timeoutNanos, boolean done) {
        end();
        if (shouldCommit()) {
            this.queue = arena + "+" + offset;
            this.timeout = timeoutNanos < 0 ? Long.MAX_VALUE : timeoutNanos;
            this.done = done;
            commit();
        }
    }
}
