package multiprocessing.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Registered;
import jdk.jfr.StackTrace;

/**
 * {@code multiprocessing.ProcessStart}: a child process started, from {@code Process.start()}
 * to the moment the child began to run its process (its JVM up, the library loaded, the process
 * object read); the event's duration is the time to start. Recorded by the parent (see
 * {@link ProcessTrace}); a child that never runs its process has no such event, only a
 * {@link ProcessEndEvent}.
 */
@Name("multiprocessing.ProcessStart")
@Label("Process Start")
@Category("multiprocessing")
@Description("A child process started: from Process.start() until the child runs its process."
        + " The duration is the time to start")
@StackTrace(false)
@Registered(false)
public final class ProcessStartEvent extends jdk.jfr.Event {
    @Label("Process Name")
    String name;

    @Label("Process Id")
    long pid;

    @Label("Start Method")
    @Description("spawn (a fresh JVM) or forkserver (a JVM booted ahead of time)")
    String startMethod;

    ProcessStartEvent() {}
}
