package multiprocessing.internal.events;

import multiprocessing.internal.util.LibraryThreads;

/**
 * Whether Flight Recorder is in use in this JVM, asked before any of the library's event
 * classes is touched: until it is, a wait, a call or a task makes no event and loads no event
 * class.
 *
 * <p>Why a class of its own. An event class cannot be kept in an AOT cache (the JVM
 * instruments it as it loads), so its first use reads it from its jar: a child's first wait
 * on a lock, an event or a queue opened the jar that holds the library (for the 29 MB jar of
 * the benchmarks: its central directory read and hashed, with C2 compiling the zip reader,
 * 2-3 MB of the idle child's memory), where the rest of the child came from the
 * cache. A static method of the event class itself would load it to be called, so the call
 * sites ask here, a class the cache keeps, and make the event only when the answer is yes.
 * Flight Recorder started later (a {@code jcmd JFR.start}) is seen at the next call.
 */
public final class Recorder {
    private Recorder() {}

    /**
     * Whether Flight Recorder has been initialized and the event types registered: only then
     * can an event record. The first call also has the event types registered when Flight
     * Recorder initializes ({@link Registration}), which loads them then, on that thread.
     *
     * @return whether the caller should make its event
     */
    public static boolean inUse() {
        if (unavailable) {
            return false;
        }
        try {
            Registration.ensure();
            return Registration.Registrar.registered;
        } catch (LinkageError noFlightRecorder) {
            // A run-time image without the jdk.jfr module (jlink, --limit-modules): the
            // library works without its events rather than fail every wait, call and start.
            unavailable = true;
            return false;
        }
    }

    /** Set once Flight Recorder's classes are found missing in this JVM. */
    private static volatile boolean unavailable;

    /**
     * Registers the event types now, on a thread of the library, if Flight Recorder records in
     * this JVM from its start ({@code -XX:StartFlightRecording}, which sets its repository's
     * property): else the first wait, call or put to ask {@link #inUse} registers them (60-170
     * ms in a fresh child), before its own event begins, so that event showed a fraction of
     * its wait (a child's 200 ms wait for a lock recorded as 56 ms; attack 29c). Costs a
     * property's look otherwise.
     */
    public static void registerAheadIfRecording() {
        if (System.getProperty("jdk.jfr.repository") != null) {
            LibraryThreads.platform().daemon().name("multiprocessing-event-registration")
                    .start(new Ahead());
        }
    }

    /** A class, not a lambda: one spun at every child's start would cost it. */
    private static final class Ahead implements Runnable {
        @Override
        public void run() {
            Registration.ensure();
        }
    }
}
