package multiprocessing.internal.events;

/**
 * One child process's {@link ProcessStartEvent} and {@link ProcessEndEvent}, begun together
 * in {@code Process.start()} and committed by the parent: the start by the thread that reads
 * the child's standard error, which is the first in this process to learn that the child runs
 * its process (the child says so there before it runs it), the end by the thread that reaps
 * the child. Both are recorded in the parent because a child's own events appear only in a
 * recording of the child's JVM, and the time to start is only measurable from outside it.
 */
public final class ProcessTrace {
    private final String name;
    private final String startMethod;
    private final ProcessStartEvent start = new ProcessStartEvent();
    private final ProcessEndEvent end = new ProcessEndEvent();
    private boolean running;
    private boolean ended;

    private ProcessTrace(String name, String startMethod) {
        this.name = name;
        this.startMethod = startMethod;
    }

    /**
     * The trace of a process being started now, or null when neither event is recorded (then
     * nothing is allocated, nor any event class loaded, unless Flight Recorder is in use).
     */
    public static ProcessTrace starting(String name, String startMethod) {
        if (!Recorder.inUse()) {
            return null;
        }
        ProcessTrace t = new ProcessTrace(name, startMethod);
        if (!t.start.isEnabled() && !t.end.isEnabled()) {
            return null;
        }
        t.start.begin();
        t.end.begin();
        return t;
    }

    /** The child {@code pid} runs its process: commits the start, once. */
    public synchronized void running(long pid) {
        if (running) {
            return;
        }
        running = true;
        start.end();
        if (start.shouldCommit()) {
            start.name = name;
            start.pid = pid;
            start.startMethod = startMethod;
            start.commit();
        }
    }

    /** The child {@code pid} ended with {@code exitCode}: commits the end, once. */
    public synchronized void ended(long pid, int exitCode) {
        if (ended) {
            return;
        }
        ended = true;
        end.end();
        if (end.shouldCommit()) {
            end.name = name;
            end.pid = pid;
            end.startMethod = startMethod;
            end.exitCode = exitCode;
            end.commit();
        }
    }
}
