package multiprocessing.internal.events;

/**
 * Makes the event of a queue's wait: a {@link QueueGetEvent} or a {@link QueuePutEvent}.
 *
 * <p>Why not a static method of {@link QueueWaitEvent}, as {@link LockWaitEvent#waiting} is of
 * its class. Such a method returns the superclass while it makes a subclass, so the verifier,
 * to link the superclass, loads both subclasses to check that they are assignable to it. With
 * Flight Recorder started late ({@code jcmd JFR.start} in a JVM that had already asked
 * {@link Recorder#inUse}), it instruments each event class as it is defined, and linking the
 * superclass then happened in the middle of a subclass's definition: the verifier loaded that
 * subclass a second time, the recording failed to start ("duplicate class definition"), and
 * the next wait of every process so attached threw {@link IllegalAccessError} (attack 29d).
 * Here the verifier's loads come with this class, once the event types are registered.
 */
public final class QueueWaits {
    private QueueWaits() {}

    /** Loads, links and initializes this class: {@link Registration} calls it. */
    static void link() {
        // the call is the work
    }

    /**
     * Begins a get's wait for an item ({@code get}) or a put's wait for room.
     *
     * @param get whether the wait is a get's
     * @return the event, begun
     */
    public static QueueWaitEvent waiting(boolean get) {
        QueueWaitEvent e = get ? new QueueGetEvent() : new QueuePutEvent();
        e.begin();
        return e;
    }
}
