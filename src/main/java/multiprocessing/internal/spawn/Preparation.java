package multiprocessing.internal.spawn;

import java.util.List;

/**
 * What a spawned child needs besides its process object (Python's {@code preparation_data}):
 * who its parent is, the start method and JVM options its own children inherit, and the log
 * level to use.
 *
 * @param process      the Process object to run
 * @param parentPid    the parent's pid
 * @param parentName   the parent's process name
 * @param startMethod  the default start method in the child
 * @param jvmOptions   the JVM options the child passes on to its own children
 * @param logLevel     the name of the System.Logger level set by logToStderr, or null
 * @param forkserverMaxWarm with the forkserver start method, its context's maxWarm; else -1
 * @param forkserverIdleTimeout with the forkserver start method, its context's idle timeout
 *                     (a {@code Duration}'s text); else null
 */
public record Preparation(Object process, long parentPid, String parentName, String startMethod,
        List<String> jvmOptions, String logLevel, int forkserverMaxWarm,
        String forkserverIdleTimeout) {

    /** A preparation whose start method has no settings of its own (spawn's). */
    public Preparation(Object process, long parentPid, String parentName, String startMethod,
            List<String> jvmOptions, String logLevel) {
        this(process, parentPid, parentName, startMethod, jvmOptions, logLevel, -1, null);
    }
}
