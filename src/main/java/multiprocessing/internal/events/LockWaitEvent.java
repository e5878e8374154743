package multiprocessing.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Registered;
import jdk.jfr.Threshold;
import jdk.jfr.Timespan;

/**
 * {@code multiprocessing.LockWait}: an acquire of a {@code Lock}, {@code RLock},
 * {@code Semaphore} or {@code BoundedSemaphore}, or a wait of an {@code Event}, that could not
 * go on at once and waited (spinning, then asleep on the futex) at least the threshold, 10 ms
 * unless a recording's settings say otherwise. Recorded in the process that waited, with the
 * waiter's stack.
 *
 * <p>Use, on the path that is about to wait:
 * {@code LockWaitEvent e = Recorder.inUse() ? LockWaitEvent.waiting(owner) : null;} before the
 * wait, {@code e.finish(...)} after it when not null: until Flight Recorder is in use a wait
 * neither allocates the event nor loads its class.
 */
@Name("multiprocessing.LockWait")
@Label("Lock Wait")
@Category("multiprocessing")
@Description("A Lock, RLock or Semaphore acquire, or an Event wait, that had to wait")
@Threshold("10 ms")
@Registered(false)
public final class LockWaitEvent extends jdk.jfr.Event {
    @Label("Kind")
    @Description("Lock, RLock or Semaphore (a BoundedSemaphore is a Semaphore)")
    String kind;

    @Label("Owner Process Id")
    @Description("The process that held the lock when the wait began; 0 for a semaphore,"
            + " which has no owner")
    long ownerPid;

    @Label("Timeout")
    @Timespan
    @Description("How long the caller was prepared to wait (Forever: no limit)")
    long timeout;

    @Label("Acquired")
    @Description("false when the wait timed out or was interrupted")
    boolean acquired;

    private LockWaitEvent() {}

    /** Begins a wait while process {@code ownerPid} (0: none) holds the synchronizer. */
    public static LockWaitEvent waiting(int ownerPid) {
        LockWaitEvent e = new LockWaitEvent();
        e.begin();
        e.ownerPid = ownerPid;
        return e;
    }

    /**
     * Ends the wait and commits it if it is recorded and lasted the threshold.
     *
     * @param kind         the synchronizer's kind as its OwnerDeadException names it
     * @param timeoutNanos the caller's limit, negative for none
     */
    public void finish(String kind, long timeoutNanos, boolean acquired) {
        end();
        if (shouldCommit()) {
            this.kind = kind.endsWith("Sync") ? kind.substring(0, kind.length() - 4) : kind;
            this.timeout = timeoutNanos < 0 ? Long.MAX_VALUE : timeoutNanos;
            this.acquired = acquired;
            commit();
        }
    }
}
