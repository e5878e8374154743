package multiprocessing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import multiprocessing.connection.Pipe;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.spawn.Preparation;
import multiprocessing.internal.spawn.Spawner;

/**
 * The module-level functions of Python's {@code multiprocessing}: the current process, its
 * parent and children, the start method and its contexts, and logging.
 */
public final class Multiprocessing {
    private Multiprocessing() {}

    /** The start methods this library has, the default first. "fork" cannot exist for a JVM. */
    private static final List<String> START_METHODS = List.of("spawn", "forkserver");
    private static final String LOGGER_NAME = "multiprocessing";

    private static volatile JvmContext defaultContext;
    private static volatile Path executable;
    private static volatile List<String> inheritedJvmOptions = List.of();
    private static volatile String logLevel;
    private static volatile List<String> forkserverPreload = List.of();

    /** {@return the process this code runs in: "MainProcess" in the JVM a user started} */
    public static Process currentProcess() {
        return Process.current();
    }

    /** {@return the parent of the current process; empty in the main process} */
    public static Optional<Process> parentProcess() {
        return Optional.ofNullable(Process.parentView());
    }

    /** {@return the children of this process that are still running; finished ones are reaped} */
    public static List<Process> activeChildren() {
        return Process.activeChildren();
    }

    /** {@return the number of processors online (Python's {@code cpu_count()})} */
    public static int cpuCount() {
        return Posix.cpuCount();
    }

    /**
     * {@return the default context (start method "spawn" unless {@link #setStartMethod} says
     * otherwise)}
     */
    public static Context getContext() {
        return defaultJvmContext();
    }

    static JvmContext defaultJvmContext() {
        JvmContext c = defaultContext;
        if (c == null) {
            synchronized (Multiprocessing.class) {
                if (defaultContext == null) {
                    defaultContext = context(START_METHODS.get(0), inheritedJvmOptions);
                }
                c = defaultContext;
            }
        }
        return c;
    }

    /**
     * The context of start method {@code method}.
     *
     * <p>Unlike {@link #getContext()}, this does not fix the default start method: as in
     * Python, a library may ask for the context it needs, and the program may still choose its
     * own with {@link #setStartMethod} afterwards.
     *
     * @param method "spawn" or "forkserver" (Python's names; threads are
     *        {@code multiprocessing.dummy.Dummy.context()}), or null for {@link #getContext()}
     * @return the context of that start method
     * @throws IllegalArgumentException for "fork", which a JVM cannot do, and for a start
     *         method this library does not have
     */
    public static Context getContext(String method) {
        if (method == null) {
            return getContext();
        }
        checkMethod(method);
        Context c = defaultContext;
        return c != null && c.getStartMethod().equals(method) ? c
                : context(method, inheritedJvmOptions);
    }

    /** The context of a known start method with {@code options}. */
    private static JvmContext context(String method, List<String> options) {
        return switch (method) {
            case "spawn" -> new SpawnContext(options);
            case "forkserver" -> new ForkServerContext(options);
            default -> throw new IllegalArgumentException("no start method " + method);
        };
    }

    private static void checkMethod(String method) {
        if (method.equals("fork")) {
            throw new IllegalArgumentException("the \"fork\" start method cannot exist for a JVM: "
                    + "a forked JVM keeps only the forking thread, without its GC, JIT and other "
                    + "threads; \"forkserver\" is the fast way to start processes (each runs in a "
                    + "JVM booted ahead of time); the start methods are " + START_METHODS);
        }
        if (!START_METHODS.contains(method)) {
            throw new IllegalArgumentException("cannot find context for \"" + method
                    + "\": this library has the start methods " + START_METHODS);
        }
    }

    /** {@return the name of the default start method} */
    public static String getStartMethod() {
        return getContext().getStartMethod();
    }

    /**
     * Sets the default start method, once (Python raises when it was already set).
     *
     * @param method the start method {@link #getContext()} is to give
     * @throws IllegalStateException if it was already set
     * @throws IllegalArgumentException for an unknown or impossible method
     */
    public static synchronized void setStartMethod(String method) {
        setStartMethod(method, false);
    }

    /**
     * Sets the default start method; {@code force} allows setting it again.
     *
     * @param method the start method {@link #getContext()} is to give
     * @param force  true to replace a start method set before
     */
    public static synchronized void setStartMethod(String method, boolean force) {
        checkMethod(method);
        if (defaultContext != null && !force) {
            throw new IllegalStateException("context has already been set");
        }
        defaultContext = context(method, inheritedJvmOptions);
    }

    /** {@return the start methods this library has, the default first} */
    public static List<String> getAllStartMethods() {
        return START_METHODS;
    }

    /**
     * Sets the {@code java} launcher children are started with (Python's set_executable).
     *
     * @param java the path of a {@code java} launcher of JDK 22 or later
     */
    public static void setExecutable(Path java) {
        if (java == null) {
            throw new NullPointerException("java");
        }
        if (!Files.isExecutable(java)) {
            throw new IllegalArgumentException(java + " is not an executable file");
        }
        executable = java;
    }

    static Path executable() {
        Path e = executable;
        return e != null ? e : Spawner.defaultExecutable();
    }

    /**
     * Names classes the JVMs of the "forkserver" start method load while they wait for a
     * process (Python's set_forkserver_preload): loaded (read, defined, their supertypes with
     * them), neither linked nor initialised, so that no user code runs before a process is
     * handed over. JVMs booted after this call load them;
     * each distinct list has JVMs of its own.
     *
     * @param classNames binary names of the classes to load
     * @throws IllegalArgumentException naming a class that cannot be found or loaded (one whose
     *         superclass is missing, say)
     * @throws NullPointerException if a name is null
     */
    public static void setForkserverPreload(List<String> classNames) {
        for (String name : classNames) {
            if (name == null) {
                throw new NullPointerException("a class name to preload is null: " + classNames);
            }
            try {
                Class.forName(name, false, Thread.currentThread().getContextClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalArgumentException("cannot preload " + name + ": no such class", e);
            } catch (LinkageError e) {
                throw new IllegalArgumentException("cannot preload " + name + ": " + e, e);
            }
        }
        forkserverPreload = List.copyOf(classNames);
    }

    /** {@return the classes named by {@link #setForkserverPreload}} */
    public static List<String> getForkserverPreload() {
        return forkserverPreload;
    }

    /** Does nothing: kept for parity with Python, whose Windows builds need it. */
    public static void freezeSupport() {}

    /**
     * A started {@link multiprocessing.managers.SyncManager} of the default context (Python's
     * {@code multiprocessing.Manager()}); shut it down (or close it) when done.
     *
     * @return the manager, its server running
     */
    public static multiprocessing.managers.SyncManager manager() {
        return getContext().manager();
    }

    /** {@return a new duplex pipe (see {@link Pipe#open()})} */
    public static Pipe pipe() {
        return Pipe.open(true);
    }

    /**
     * A new pipe (see {@link Pipe#open(boolean)}).
     *
     * @param duplex true for a pair of two-way connections, false for a one-way pipe
     * @return the pipe's two ends
     */
    public static Pipe pipe(boolean duplex) {
        return Pipe.open(duplex);
    }

    /** {@return the library's logger ("multiprocessing")} */
    public static System.Logger getLogger() {
        return System.getLogger(LOGGER_NAME);
    }

    /**
     * Logs the library's messages at INFO and above to standard error.
     *
     * @return the library's logger
     */
    public static System.Logger logToStderr() {
        return logToStderr(System.Logger.Level.INFO);
    }

    /**
     * Logs the library's messages at {@code level} and above to standard error, in Python's
     * format {@code [LEVEL/ProcessName] message}; children started afterwards do the same. At
     * INFO, a child says as Python's do that it calls its target ({@code child process calling
     * self.run()}) and how it exits ({@code process exiting with exitcode N}); WARNING and
     * ERROR are what went wrong (a failed handshake, a leaked segment); DEBUG adds what the
     * library gave up or retried.
     *
     * @param level the least severe level logged
     * @return the library's logger
     */
    public static synchronized System.Logger logToStderr(System.Logger.Level level) {
        System.Logger.Level l = level == null ? System.Logger.Level.INFO : level;
        Logger logger = Logger.getLogger(LOGGER_NAME);
        for (Handler h : logger.getHandlers()) {
            logger.removeHandler(h);
        }
        Handler handler = new ConsoleHandler();
        java.util.logging.Level julLevel = toJul(l);
        handler.setLevel(julLevel);
        handler.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                return "[" + r.getLevel().getName() + "/" + currentProcess().name() + "] "
                        + formatMessage(r) + System.lineSeparator();
            }
        });
        logger.addHandler(handler);
        logger.setLevel(julLevel);
        logger.setUseParentHandlers(false);
        logLevel = l.name();
        return getLogger();
    }

    private static java.util.logging.Level toJul(System.Logger.Level level) {
        return switch (level) {
            case ALL -> java.util.logging.Level.ALL;
            case TRACE -> java.util.logging.Level.FINER;
            case DEBUG -> java.util.logging.Level.FINE;
            case INFO -> java.util.logging.Level.INFO;
            case WARNING -> java.util.logging.Level.WARNING;
            case ERROR -> java.util.logging.Level.SEVERE;
            case OFF -> java.util.logging.Level.OFF;
        };
    }

    static String logLevelName() {
        return logLevel;
    }

    /** In a spawned child: adopt the parent's start method, JVM options and logging. */
    static synchronized void prepareChild(Preparation preparation) {
        inheritedJvmOptions = preparation.jvmOptions() == null ? List.of()
                : List.copyOf(preparation.jvmOptions());
        if (preparation.startMethod() != null) {
            defaultContext = preparation.forkserverMaxWarm() >= 0
                    && preparation.forkserverIdleTimeout() != null
                    ? new ForkServerContext(inheritedJvmOptions,
                            new multiprocessing.internal.forkserver.ForkServer.Settings(
                                    preparation.forkserverMaxWarm(),
                                    java.time.Duration.parse(
                                            preparation.forkserverIdleTimeout())))
                    : context(preparation.startMethod(), inheritedJvmOptions);
        }
        if (preparation.logLevel() != null) {
            logToStderr(System.Logger.Level.valueOf(preparation.logLevel()));
        }
    }
}
