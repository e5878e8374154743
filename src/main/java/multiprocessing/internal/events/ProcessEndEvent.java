package multiprocessing.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Registered;
import jdk.jfr.StackTrace;

/**
 * {@code multiprocessing.ProcessEnd}: a child process ended, as its parent saw it; the event
 * spans the process's life from {@code Process.start()}. Recorded by the parent (see
 * {@link ProcessTrace}).
 */
@Name("multiprocessing.ProcessEnd")
@Label("Process End")
@Category("multiprocessing")
@Description("A child process ended: from Process.start() until this process saw it end (a"
        + " join, isAlive or exitCode, a pool reaping its worker)")
@StackTrace(false)
@Registered(false)
public final class ProcessEndEvent extends jdk.jfr.Event {
    @Label("Process Name")
    String name;

    @Label("Process Id")
    long pid;

    @Label("Start Method")
    String startMethod;

    @Label("Exit Code")
    @Description("0, 1 for an uncaught exception, n for System.exit(n), -s when ended by"
            + " signal s (terminate: -15, kill: -9)")
    int exitCode;

    ProcessEndEvent() {}
}
