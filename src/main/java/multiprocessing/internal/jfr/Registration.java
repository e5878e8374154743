package multiprocessing.internal.jfr;

import java.util.List;

import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;

/**
 * Registers the library's event types with Flight Recorder when, and only when, Flight Recorder
 * is in use in this JVM.
 *
 * <h2>Implementation note</h2>
 * An event class registered the default way ({@code @Registered(true)}) gets a static
 * initializer from the JVM that calls {@link FlightRecorder#register}, which builds Flight
 * Recorder's whole metadata repository even when nothing records: measured at 300-500 ms (600
 * classes) on the first use of such a class in a fresh JVM, which a child process would pay at
 * its first blocking lock or queue call. So every event type here is declared
 * {@code @Registered(false)} and its static initializer calls {@link #ensure}, which adds one
 * {@link FlightRecorderListener} to Flight Recorder (about a millisecond, once per JVM, 7 small
 * classes) and registers all the types from it: at once if Flight Recorder is already
 * initialized ({@code -XX:StartFlightRecording}, a recording or a {@code RecordingStream}
 * made before), or later, when it is. Until then an event's {@code begin}, {@code end},
 * {@code shouldCommit} and {@code commit} are the empty methods of {@link Event}, which the JIT
 * removes with the event object itself; once registered, they are instrumented and disabled
 * unless a recording enables the type.
 */
final class Registration {
    private Registration() {}

    /** Every event type of the library, in the order {@code jfr summary} shows them. */
    static final List<Class<? extends Event>> TYPES = List.of(ProcessStartEvent.class,
            ProcessEndEvent.class, PoolTaskEvent.class, LockWaitEvent.class,
            QueuePutEvent.class, QueueGetEvent.class, ManagerCallEvent.class);

    static {
        FlightRecorder.addListener(new FlightRecorderListener() {
            @Override
            public void recorderInitialized(FlightRecorder recorder) {
                for (Class<? extends Event> type : TYPES) {
                    FlightRecorder.register(type);
                }
            }
        });
    }

    /** Called by each event type's static initializer: the work is this class's own. */
    static void ensure() {
        // the static initializer registers, once
    }

    /**
     * Whether Flight Recorder has been initialized in this JVM: before, no event can be
     * recorded, and an event that lives across calls (a process's start, a pool task) is not
     * even allocated. A cheap static read that loads no event class.
     */
    static boolean initialized() {
        return FlightRecorder.isInitialized();
    }
}
