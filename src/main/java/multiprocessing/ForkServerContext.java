package multiprocessing;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import multiprocessing.internal.forkserver.ForkServer;
import multiprocessing.internal.spawn.Popen;
import multiprocessing.internal.spawn.Preparation;

/**
 * The "forkserver" start method (Python's {@code ForkServerContext}): each process is handed to
 * a JVM that was booted ahead of time and is already past what every child does before its
 * target (the JVM's start, the library's and the serializer's classes loaded and linked, the
 * classes named by {@link Multiprocessing#setForkserverPreload} loaded; the serializer itself is
 * built once the JVM has waited half a second untaken, as a burst takes JVMs sooner and most
 * processes arrive and may run without it). The process then runs
 * exactly as a spawned one does, and its JVM exits with it: one warm JVM runs one process and is
 * never reused, so static state is fresh in every process, as with spawn.
 *
 * <p>How many JVMs wait: none until the first process starts (that one is spawned, so it costs
 * what a spawn costs). Each start asks for a replacement, up to {@link #maxWarm()}
 * waiting (default: {@value #DEFAULT_MAX_WARM} or the number of CPUs this JVM may use
 * ({@link Runtime#availableProcessors()}), whichever is more), so one
 * is ready again soon after each start, and after a burst of starts more wait. Replacements boot
 * in the background once the processes being started run their targets (or after 10 s), and warm
 * up one at a time (one per 4 CPUs): a warm-up takes the CPU those starts need, so during a
 * burst each process is spawned. A JVM that waits longer than
 * {@link #idleTimeout()} (default 60 s) exits, so none waits once the program stops starting
 * processes; an idle timeout of zero keeps none waiting. Waiting JVMs are kept per distinct
 * set of JVM options ({@link #withJvmOptions}) and of these two settings, so that a context's
 * JVMs are kept as it says, whatever other contexts say;
 * each takes the memory of an idle JVM (see bench/RESULTS.md) and dies with its creator, however
 * the creator ends, having run no user code.
 * {@link #stopWarmJvms()} ends them at once.
 */
public final class ForkServerContext extends JvmContext {
    /** The least default of {@link #maxWarm()}. */
    public static final int DEFAULT_MAX_WARM = 4;
    private static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

    private final ForkServer.Settings settings;

    ForkServerContext(List<String> jvmOptions) {
        this(jvmOptions, new ForkServer.Settings(
                // The CPUs this JVM may use (a container's limit), which the JVM knows without a
                // native call: a child makes none before its target (its context is made first).
                Math.max(DEFAULT_MAX_WARM, Runtime.getRuntime().availableProcessors()),
                DEFAULT_IDLE_TIMEOUT));
    }

    ForkServerContext(List<String> jvmOptions, ForkServer.Settings settings) {
        super(jvmOptions);
        this.settings = settings;
    }

    /** A context like this one whose children also get {@code options}. */
    @Override
    public ForkServerContext withJvmOptions(String... options) {
        return (ForkServerContext) super.withJvmOptions(options);
    }

    @Override
    public String getStartMethod() {
        return "forkserver";
    }

    /** {@return how many JVMs may wait for this context's processes at most} */
    public int maxWarm() {
        return settings.maxWarm();
    }

    /** {@return how long a JVM waits for a process before it exits} */
    public Duration idleTimeout() {
        return settings.idleTimeout();
    }

    /**
     * A context like this one whose starts keep at most {@code maxWarm} JVMs waiting (0: none
     * waits; each process is spawned).
     *
     * @param maxWarm the most JVMs kept waiting
     * @return the new context
     * @throws IllegalArgumentException if {@code maxWarm} is negative
     */
    public ForkServerContext withMaxWarm(int maxWarm) {
        return new ForkServerContext(jvmOptions(),
                new ForkServer.Settings(maxWarm, settings.idleTimeout()));
    }

    /**
     * A context like this one whose waiting JVMs exit after waiting {@code idleTimeout}.
     *
     * @param idleTimeout how long a JVM waits for a process
     * @return the new context
     * @throws IllegalArgumentException if {@code idleTimeout} is negative
     */
    public ForkServerContext withIdleTimeout(Duration idleTimeout) {
        return new ForkServerContext(jvmOptions(),
                new ForkServer.Settings(settings.maxWarm(), idleTimeout));
    }

    /**
     * Ends the JVMs waiting for processes of this context's JVM options, and waits until they
     * have exited; later starts boot new ones. Processes already started are not affected.
     */
    public void stopWarmJvms() {
        // Those booted before a change of the preload list or the executable wait too, in
        // servers of their own, and would otherwise linger until their idle timeout.
        ForkServer.stopAll(jvmOptions());
    }

    @Override
    ForkServerContext withOptions(List<String> options) {
        return new ForkServerContext(options, settings);
    }

    @Override
    Popen popen(Preparation preparation) throws IOException {
        return server().start(preparation);
    }

    /** The fork server of this context's JVM options and settings. */
    ForkServer server() {
        return ForkServer.of(Multiprocessing.executable(), jvmOptions(),
                Multiprocessing.getForkserverPreload(), settings);
    }
}
