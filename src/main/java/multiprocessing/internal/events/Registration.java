package multiprocessing.internal.events;

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
 * Recorder's whole metadata repository even when nothing records: measured at 300-500 ms (some
 * 600 classes) at the first use of such a class in a fresh JVM, which a child process would pay
 * at its first blocking lock or queue call. So every event type here is declared
 * {@code @Registered(false)}, and {@link Recorder#inUse}, which every place that would make an
 * event asks first (no event is made, nor its class loaded, while Flight Recorder is not in
 * use), calls {@link #ensure}. The first call adds one
 * {@link FlightRecorderListener} to Flight Recorder (about a millisecond, once per JVM, a
 * handful of small classes), which registers all the types: at once if Flight Recorder is
 * already initialized ({@code -XX:StartFlightRecording}, a {@code Recording} or
 * {@code RecordingStream} made before), or later, when it is. Until then an event's
 * {@code begin}, {@code end}, {@code shouldCommit} and {@code commit} are the empty methods of
 * {@link Event}; once registered they are instrumented, and disabled unless a recording
 * enables the type.
 *
 * <p>No class initializer here waits for another: the event classes have none (registering a
 * type initializes its class, perhaps on the thread that initializes Flight Recorder while
 * another thread makes an event), and the listener is a class of its own that holds the list of
 * types, so that a recorder initialized on another thread while this class's initializer adds
 * the listener never needs this class.
 */
final class Registration {
    private Registration() {}

    static {
        FlightRecorder.addListener(new Registrar());
    }

    /** Makes sure the listener is added: the work is this class's initializer. */
    static void ensure() {
        // the static initializer adds the listener, once
    }

    /**
     * Registers every type when Flight Recorder is initialized, and only then loads them: on
     * the thread that initializes it, not on the first threads to wait once it records (ten
     * thousand virtual threads waiting at once were pinned loading an event class).
     */
    static final class Registrar implements FlightRecorderListener {
        /**
         * Whether every type is registered: until then no event is made. Flight Recorder says
         * it is initialized before it tells its listeners, and an event class that another
         * thread loaded in between (a manager call every few milliseconds while
         * {@code jcmd JFR.start} ran) was then registered already loaded, and threw
         * {@link IllegalAccessError} at its every use (attack 31).
         */
        static volatile boolean registered;

        /** Every event type of the library: a method, so that no event class loads before. */
        static List<Class<? extends Event>> types() {
            return List.of(ProcessStartEvent.class, ProcessEndEvent.class, PoolTaskEvent.class,
                    LockWaitEvent.class, QueuePutEvent.class, QueueGetEvent.class,
                    ManagerCallEvent.class);
        }

        @Override
        public void recorderInitialized(FlightRecorder recorder) {
            try {
                for (Class<? extends Event> type : types()) {
                    FlightRecorder.register(type);
                }
                // Linked here, after the types, as they are: else the first queue waits of a
                // recording, in many virtual threads at once, met in its initialization and
                // pinned their carriers (VirtualThreadsTest).
                QueueWaits.link();
            } catch (RuntimeException | LinkageError e) {
                // Thrown out of here, it would fail the first wait, and every wait after it,
                // of a program that only asked to be recorded.
                multiprocessing.internal.util.LibraryLog.get().log(System.Logger.Level.WARNING,
                        "the library's Flight Recorder events are off: their types could not"
                                + " be registered", e);
                return;
            }
            registered = true;
        }
    }
}
