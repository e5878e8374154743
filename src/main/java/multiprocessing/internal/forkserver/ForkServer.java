package multiprocessing.internal.forkserver;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.spawn.ClassReach;
import multiprocessing.internal.spawn.Popen;
import multiprocessing.internal.spawn.Preparation;
import multiprocessing.internal.spawn.Spawner;
import multiprocessing.internal.tracker.ResourceTracker;
import multiprocessing.internal.util.AtExit;
import multiprocessing.internal.util.Durations;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.internal.util.LibraryLog;

/**
 * The JVMs booted ahead of time for the "forkserver" start method, one set per distinct
 * executable, JVM options, preload list and settings (Python's {@code forkserver.ForkServer} with
 * {@code popen_forkserver}).
 *
 * <p>Implementation note. A JVM cannot fork, so there is no server process: the "server" is
 * this object in the creator, and each warm JVM is a direct child of the creator, started by
 * {@link Spawner#launch} with a Unix socket as its bootstrap channel and run by
 * {@link WarmMain}. That keeps everything a spawned child has (the pid, a pidfd sentinel, the
 * exit status reaped by the creator, death of the creator seen as end of file) with no hop
 * through a third process. {@link #start} serializes the process first (an object that cannot
 * be serialized takes no JVM), takes the oldest JVM that has reported it warmed up, and
 * hands it the payload, descriptors included; a JVM found dead meanwhile is reaped and the next
 * taken. When none waits, the process is spawned: the first start costs what a spawn costs.
 *
 * <p>How many wait. A warm JVM reports, with one byte on its socket, when it has warmed up. A start
 * takes the oldest JVM that has reported, and otherwise spawns the process: a JVM still warming up
 * stays, and is ready for a later start. A warm-up takes three to four times as long as a spawned
 * child takes to reach its target (80-100 ms against 25 on a quiet machine), so a process handed to
 * a JVM midway waited for the rest of it, which its own start did not need: taking one as soon as
 * it was as old as a spawn's time, starts 30 ms apart took 24-30 ms each, 60 ms apart 17-20, where
 * taking only ready ones gave 15-21 and 11-13, and spawn 23-28 (bench/RESULTS.md, seventeenth
 * session). Either way the start asks the keeper thread for one more JVM while fewer than
 * {@code maxWarm} wait, boot or are asked for, so one is ready again soon after each start, and more wait
 * while starts come faster than JVMs warm up. A JVM whose warm-up fails exits (with status 1);
 * after {@value #MAX_FAILED_WARM_UPS} such failures in a row (the program's class path or options
 * break the warm-up) the processes are spawned, and a JVM is asked for again only 30 s after the
 * last failure (or after a stop). A JVM killed by a signal is no such failure.
 *
 * <p>When the keeper boots. A warm-up takes CPU as a child's start does (more of it: the full class
 * cache, the socket's downcalls), and on the same CPUs: booted beside the starts it is meant to
 * speed up, it slowed them. Starting N processes at once on 2 CPUs took twice as long as with spawn
 * (bench/RESULTS.md, eighth session), because every start asked for a replacement and the
 * replacements warmed up among the starts. So the keeper boots only while no process a start handed
 * over (or spawned) is still starting, that is, has neither said it runs its target nor ended
 * ({@link Popen#pastStart()}, for at most {@value #START_LIMIT_MILLIS} ms each), and while fewer
 * than {@link #MAX_WARMING} waiting JVMs are still warming up. In a burst, then, the processes are
 * spawned, and the replacements warm up once the burst's processes are running, one after another.
 * A JVM that has waited longer than {@code idleTimeout} is retired (its socket closed, so it exits,
 * and reaped), so none waits once the program stops starting processes; one that has ended (killed)
 * is reaped within a second. One retired before it has warmed up is killed: it has run nothing of
 * the program's, and would otherwise finish its warm-up first. The keeper thread ends when nothing
 * waits and nothing is asked for.
 */
public final class ForkServer {
    private static final Map<Key, ForkServer> SERVERS = new ConcurrentHashMap<>();

    /** How many JVMs may wait, and how long one may wait before it is retired. */
    public record Settings(int maxWarm, Duration idleTimeout) {
        public Settings {
            if (maxWarm < 0) {
                throw new IllegalArgumentException("maxWarm must not be negative, not " + maxWarm);
            }
            if (idleTimeout.isNegative()) {
                throw new IllegalArgumentException("idleTimeout must not be negative");
            }
        }
    }

    /**
     * What a server's JVMs are booted with, and its settings: contexts that differ only in
     * their settings keep JVMs of their own, so that each is kept as its own context says
     * (review 40: one server's settings were those of the context that started last, so a
     * context with an idle timeout of zero retired the JVMs another kept).
     */
    private record Key(Path executable, List<String> jvmOptions, List<String> preload,
            Settings settings) {}

    /** How long a process handed over may hold the keeper's boots back, at most. */
    static final long START_LIMIT_MILLIS = 10_000;
    /** How long a JVM that has not reported counts as warming up (its warm-up may have failed). */
    private static final long WARM_UP_LIMIT_NANOS = Duration.ofSeconds(10).toNanos();
    /** How many waiting JVMs may warm up at once: one per 4 CPUs, at least one. */
    static final int MAX_WARMING = Math.max(1, Runtime.getRuntime().availableProcessors() / 4);
    /** How often the keeper looks again while a start or a warm-up holds its boot back. */
    private static final long RECHECK_MILLIS = 10;
    /** How long a stop waits for a boot across it: a boot, then a retirement (5 s at most). */
    private static final long BOOT_RETIRED_LIMIT_NANOS = Duration.ofSeconds(30).toNanos();
    /** How often the keeper looks for waiting JVMs that have ended while some wait. */
    private static final long DEAD_CHECK_MILLIS = 1_000;

    /** A process this server handed over (or spawned), until it is past its start. */
    private record Starting(Popen popen, long sinceNanos) {}

    private static final class Warm {
        final Popen popen;
        final long sinceNanos;
        /** The resource tracker it reports to ({@link ResourceTracker#generation}). */
        final int tracker;
        /** Whether it has reported that it warmed up (read once from its socket). */
        boolean ready;

        Warm(Popen popen, long sinceNanos, int tracker) {
            this.popen = popen;
            this.sinceNanos = sinceNanos;
            this.tracker = tracker;
        }

        boolean ready() {
            if (!ready) {
                ready = Spawner.reportedReady(popen);
            }
            return ready;
        }
    }

    private final Key key;
    private final ArrayDeque<Warm> waiting = new ArrayDeque<>();
    private final List<Starting> starting = new ArrayList<>();
    /** Starts between {@link #take} and the end of their hand-over. */
    private int handingOver;
    /** Boots asked of the keeper and not yet done. */
    private int wanted;
    private final Settings settings;
    private Thread keeper;
    /**
     * Whether the keeper is booting a JVM (until it is added to {@link #waiting}, or retired
     * when a stop came meanwhile).
     */
    private boolean booting;
    /** The {@link #generation} the keeper's boot began in: one across a stop is not counted. */
    private int bootingGeneration;
    /** Warm-ups that failed in a row (the JVM exited with a status before it reported ready). */
    private int failedWarmUps;
    /** When the last of {@link #failedWarmUps} was seen (System.nanoTime). */
    private long lastFailedWarmUpNanos;
    /** How many failed warm-ups in a row stop the asking for JVMs (see the class comment). */
    public static final int MAX_FAILED_WARM_UPS = 3;
    /** How long after the last of them a start asks for a JVM again, to try once more. */
    static final long FAILED_WARM_UP_RETRY_NANOS = Duration.ofSeconds(30).toNanos();
    /** Counts stops, so that a JVM booted across a stop is retired rather than kept. */
    private int generation;

    private ForkServer(Key key) {
        this.key = key;
        this.settings = key.settings();
    }

    /**
     * The fork server of JVMs started with {@code executable}, {@code jvmOptions} and
     * {@code preload}, kept as {@code settings} say.
     */
    public static ForkServer of(Path executable, List<String> jvmOptions, List<String> preload,
            Settings settings) {
        Key key = new Key(executable, List.copyOf(jvmOptions), List.copyOf(preload), settings);
        if (EXIT_KILL_REGISTERED.compareAndSet(false, true)) {
            AtExit.register(AtExit.Stage.CHILDREN, ForkServer::killUnwarmedAtExit);
        }
        return SERVERS.computeIfAbsent(key, ForkServer::new);
    }

    private static final java.util.concurrent.atomic.AtomicBoolean EXIT_KILL_REGISTERED =
            new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * At exit, kills the waiting JVMs that have not warmed up. A JVM that hangs before it runs
     * the library's code (a debugger agent told to wait, {@code -agentlib:jdwp=...,suspend=y})
     * never looks at its socket, and outlived the program for good, and the resource tracker
     * with it (attack 56); those that have warmed up see their socket's end and exit by
     * themselves. (A program killed by SIGKILL runs no exit: such a JVM then stays.)
     */
    private static void killUnwarmedAtExit() {
        for (ForkServer server : SERVERS.values()) {
            List<Warm> unwarmed = new ArrayList<>();
            synchronized (server) {
                for (var it = server.waiting.iterator(); it.hasNext(); ) {
                    Warm w = it.next();
                    if (!w.ready()) {
                        it.remove();
                        unwarmed.add(w);
                    }
                }
            }
            retireAll(unwarmed);
        }
    }

    /**
     * Starts {@code preparation}'s process in a warm JVM (or one booted for it).
     *
     * @throws IllegalArgumentException if the process cannot be serialized (no JVM is used)
     */
    public Popen start(Preparation preparation) throws IOException {
        Handles handles = Handles.spawning();
        Popen started = null;
        try {
            started = start(preparation, handles);
            return started;
        } finally {
            if (started == null) {
                handles.unsent(); // no child will read it
            }
            handles.runAfterSend(); // the child has its descriptors, or never will
        }
    }

    private Popen start(Preparation preparation, Handles handles) throws IOException {
        byte[] data = Serialization.serializeForStart(preparation.process(), handles);
        if (handles.fds().length > Spawner.MAX_HAND_OVER_FDS) {
            // More than a hand-over carries: a JVM of its own inherits them, as with spawn.
            return Spawner.spawn(preparation, data, handles, key.executable(), key.jvmOptions());
        }
        byte[] payload = null;
        // Starts a tracker again if it ended, as a spawn does; a JVM that waited since then has
        // the pipe of the one that ended, and is retired: what it ran would start a tracker of
        // its own, a JVM more and a warning (review 53).
        ResourceTracker.fdForChild();
        while (true) {
            Warm warm = take();
            if (warm == null) {
                return spawn(preparation, data, handles);
            }
            if (warm.tracker != ResourceTracker.generation()) {
                handedOver(null);
                retire(warm.popen, true);
                continue;
            }
            boolean handed = false;
            try {
                if (payload == null) {
                    // A warm JVM has the library's class path; the program's entries come now.
                    payload = Spawner.payload(preparation, data, handles.fds().length,
                            ClassReach.extraEntries(), ClassReach.classServer());
                }
                handed = Spawner.handOver(warm.popen, payload, handles.fds());
            } catch (IOException | RuntimeException | Error e) {
                retire(warm.popen, true); // alive, waiting for a process that will never come
                throw e;
            } finally {
                handedOver(handed ? warm.popen : null);
            }
            if (handed) {
                return warm.popen;
            }
            retire(warm.popen, true);
        }
    }

    /**
     * Starts the process in a JVM of its own, as the spawn method does, when no JVM waits. A
     * forkserver JVM booted for it and handed the process over its socket spent ~150 ms more
     * CPU before the target (bench/RESULTS.md, fourteenth session): the socket's downcalls
     * (poll, recvmsg with SCM_RIGHTS) are linked in each such JVM, their method handles being
     * none the AOT cache keeps, where a spawned child reads its payload from a pipe with a
     * FileInputStream.
     */
    private Popen spawn(Preparation preparation, byte[] data, Handles handles)
            throws IOException {
        Popen popen = null;
        try {
            popen = Spawner.spawn(preparation, data, handles, key.executable(), key.jvmOptions());
            return popen;
        } finally {
            handedOver(popen);
        }
    }

    /**
     * Ends a hand-over {@link #take} began; the process of {@code popen} (null: none was handed
     * over) then holds the keeper's boots back until it is past its start.
     */
    private synchronized void handedOver(Popen popen) {
        handingOver--;
        long now = System.nanoTime();
        pruneStarting(now);
        if (popen != null && settings.maxWarm() > 0) {
            starting.add(new Starting(popen, now));
        }
    }

    /** Forgets the processes past their start, and those held for too long. */
    private void pruneStarting(long now) {
        starting.removeIf(s -> s.popen().pastStart()
                || now - s.sinceNanos() > START_LIMIT_MILLIS * 1_000_000);
    }

    /**
     * Whether the keeper may boot now: no process handed over is still starting, and fewer than
     * {@link #MAX_WARMING} waiting JVMs are warming up.
     */
    private boolean mayBoot(long now) {
        pruneStarting(now);
        if (handingOver > 0 || !starting.isEmpty()) {
            return false;
        }
        int warming = 0;
        for (Warm w : waiting) {
            if (!w.ready() && now - w.sinceNanos < WARM_UP_LIMIT_NANOS) {
                warming++;
            }
        }
        return warming < MAX_WARMING;
    }

    /** The oldest ready JVM, or null; asks for one more either way. */
    private synchronized Warm take() {
        Warm warm = null;
        for (Warm w : waiting) {
            if (w.ready()) {
                warm = w;
                break;
            }
        }
        // The JVM being booted counts too: without it, one more than maxWarm could wait.
        int bootingNow = booting && bootingGeneration == generation ? 1 : 0;
        boolean failing = failedWarmUps >= MAX_FAILED_WARM_UPS
                && System.nanoTime() - lastFailedWarmUpNanos < FAILED_WARM_UP_RETRY_NANOS;
        // An idle timeout of zero keeps none waiting: a JVM booted would be retired at once.
        int maxWarm = settings.idleTimeout().isZero() ? 0 : settings.maxWarm();
        int left = waiting.size() - (warm != null ? 1 : 0); // the one taken is removed below
        if (!failing && left + wanted + bootingNow < maxWarm) {
            wanted++;
        }
        wakeKeeper(); // may fail to start the keeper: the JVM taken stays listed then
        if (warm != null) {
            waiting.remove(warm);
        }
        handingOver++; // last: a throw above must not leave it raised
        return warm;
    }

    private Popen boot() throws IOException {
        long delay = Long.getLong(TEST_BOOT_DELAY_PROPERTY, 0);
        if (delay > 0) {
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while booting", e);
            }
        }
        return Spawner.launch(key.executable(), bootOptions(), WarmMain.class.getName(),
                new int[0], true);
    }

    /** Fault injection for tests: each boot by the keeper first waits this many milliseconds. */
    static final String TEST_BOOT_DELAY_PROPERTY = "multiprocessing.forkserver.testBootDelayMillis";

    private List<String> bootOptions() {
        List<String> options = new ArrayList<>(key.jvmOptions());
        if (!key.preload().isEmpty()) {
            options.add(0, "-D" + WarmMain.PRELOAD_PROPERTY + "=" + String.join(",", key.preload()));
        }
        return options;
    }

    /** Starts the keeper if it is not running, or wakes it to look again. */
    private void wakeKeeper() {
        if (keeper == null && (wanted > 0 || !waiting.isEmpty())) {
            keeper = LibraryThreads.platform().daemon().name("multiprocessing-forkserver")
                    .start(this::keep);
        }
        notifyAll();
    }

    /**
     * The keeper: boots what starts asked for, retires what waited too long. One that fails
     * is started again by the next start (review 40: it was not, and none was booted or
     * retired from then on).
     */
    private void keep() {
        try {
            keepOn();
        } catch (RuntimeException | Error e) {
            synchronized (this) {
                if (keeper == Thread.currentThread()) {
                    keeper = null;
                }
            }
            LibraryLog.get().log(System.Logger.Level.WARNING,
                    "multiprocessing: the forkserver keeper failed; the next start starts it again", e);
        }
    }

    private void keepOn() {
        while (true) {
            List<Warm> idle = new ArrayList<>();
            boolean bootOne = false;
            int bootGeneration = 0;
            synchronized (this) {
                while (true) {
                    long now = System.nanoTime();
                    // ChronoUnit.FOREVER ("never") is beyond what a long of nanoseconds holds.
                    long idleNanos = Durations.nanos(settings.idleTimeout());
                    long nextDeadline = Long.MAX_VALUE;
                    for (var it = waiting.iterator(); it.hasNext(); ) {
                        Warm w = it.next();
                        long left = idleNanos - (now - w.sinceNanos);
                        Integer code = w.popen.poll();
                        boolean ended = code != null;
                        if (ended && code > 0 && !w.ready()) {
                            // It exited by itself (a failed warm-up halts with 1); one killed
                            // by a signal (the OOM killer, an operator) says nothing of the next.
                            lastFailedWarmUpNanos = now;
                            if (++failedWarmUps == MAX_FAILED_WARM_UPS) {
                                wanted = 0; // the boots asked for before would fail as well
                                LibraryLog.get().log(System.Logger.Level.WARNING,
                                        "multiprocessing: " + MAX_FAILED_WARM_UPS + " forkserver"
                                        + " JVMs in a row failed to warm up (see their standard"
                                        + " error): this context's processes are spawned, and a"
                                        + " JVM is tried again in "
                                        + FAILED_WARM_UP_RETRY_NANOS / 1_000_000_000 + " s");
                            }
                        } else if (w.ready()) {
                            failedWarmUps = 0;
                        }
                        if (left <= 0 || ended) {
                            // Waited long enough, or ended (killed): a dead one is reaped
                            // now, not left a zombie and listed until a start or its timeout.
                            it.remove();
                            idle.add(w);
                        } else {
                            nextDeadline = Math.min(nextDeadline,
                                    Math.min(left, DEAD_CHECK_MILLIS * 1_000_000));
                        }
                    }
                    if (wanted > 0 && AtExit.exiting()) {
                        // A JVM booted now would only see this one gone and exit, having
                        // taken the CPU of its boot from the program's last moments.
                        wanted = 0;
                    }
                    if (wanted > 0) {
                        if (mayBoot(now)) {
                            wanted--;
                            bootOne = true;
                            // Counted from here on, as the JVM it boots (see take).
                            booting = true;
                            bootGeneration = generation;
                            bootingGeneration = generation;
                        } else {
                            nextDeadline = Math.min(nextDeadline, RECHECK_MILLIS * 1_000_000);
                        }
                    }
                    if (bootOne || !idle.isEmpty()) {
                        break;
                    }
                    if (waiting.isEmpty() && wanted == 0) {
                        starting.clear();
                        keeper = null;
                        return;
                    }
                    try {
                        wait(Math.max(1, nextDeadline / 1_000_000));
                    } catch (InterruptedException e) {
                        keeper = null;
                        return;
                    }
                }
            }
            try {
                // Inside: a retirement that throws must not leave the boot counted for good.
                retireAll(idle);
                if (bootOne) {
                    boot(bootGeneration);
                }
            } finally {
                if (bootOne) {
                    synchronized (this) {
                        booting = false;
                        notifyAll(); // a stop waits for a boot across it to be retired
                    }
                }
            }
        }
    }

    /** Boots a JVM and adds it to the waiting ones, unless a stop came meanwhile. */
    private void boot(int bootGeneration) {
        try {
            int tracker = ResourceTracker.generation(); // before: the safe side of a race
            Popen popen = boot();
            boolean keep;
            synchronized (this) {
                keep = generation == bootGeneration;
                if (keep) {
                    // Aged from its spawn: a program's first boot plans the class path and
                    // the cache before it (~300 ms), which is no JVM's age.
                    waiting.addLast(new Warm(popen, popen.spawnedNanos(), tracker));
                    booting = false; // counted as waiting from now on, not twice
                }
            }
            if (!keep) {
                retire(popen, false);
            }
        } catch (IOException | RuntimeException | Error e) {
            // A start then spawns its process, and reports a failure to its caller.
            LibraryLog.get().log(System.Logger.Level.DEBUG,
                    "multiprocessing: cannot boot a forkserver JVM", e);
        }
    }

    /**
     * Ends a waiting JVM: it sees end of file and exits. One that has not {@code warmedUp} is
     * killed at once: it has run nothing of the program's, and would finish its warm-up (a
     * boot's CPU) before it looked at its socket.
     */
    private static void retire(Popen popen, boolean warmedUp) {
        popen.retire(!warmedUp);
    }

    /**
     * Retires JVMs already taken off the list, each whatever happens to another: one whose
     * retirement threw left the rest waiting on their sockets until this JVM exited (review 42
     * in the keeper's loop, review 49 in {@link #stop}).
     */
    private static void retireAll(List<Warm> taken) {
        for (Warm w : taken) {
            try {
                retire(w.popen, w.ready());
            } catch (RuntimeException e) {
                LibraryLog.get().log(System.Logger.Level.DEBUG,
                        "multiprocessing: cannot retire forkserver JVM " + w.popen.pid(), e);
            }
        }
    }

    /**
     * Retires every JVM waiting in this server and waits for them to exit; later starts boot
     * new ones.
     */
    public void stop() {
        List<Warm> all;
        synchronized (this) {
            all = new ArrayList<>(waiting);
            waiting.clear();
            starting.clear();
            wanted = 0;
            failedWarmUps = 0;
            generation++;
            notifyAll();
        }
        retireAll(all);
        awaitBootRetired();
    }

    /**
     * Waits until a boot the keeper began before {@link #stop} has ended, its JVM retired, so
     * that a stop leaves none: the keeper retires such a JVM itself, and a stop returned while
     * it still ran (a test saw it left behind). Bounded as a retirement is; an interrupt is
     * kept for the caller, as {@link #retire} keeps it.
     */
    private synchronized void awaitBootRetired() {
        long deadline = System.nanoTime() + BOOT_RETIRED_LIMIT_NANOS;
        boolean interrupted = false;
        while (booting) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops the fork servers of JVMs started with {@code jvmOptions}, whatever executable and
     * preload list they were booted with (see {@link #stop()}).
     */
    public static void stopAll(List<String> jvmOptions) {
        SERVERS.forEach((key, server) -> {
            if (key.jvmOptions().equals(jvmOptions)) {
                server.stop();
            }
        });
    }

    /** Stops every fork server of this JVM (see {@link #stop()}). */
    public static void stopAll() {
        SERVERS.values().forEach(ForkServer::stop);
    }

    /** The pids of the JVMs waiting in this fork server. */
    public synchronized List<Long> pids() {
        return waiting.stream().map(w -> (long) w.popen.pid()).toList();
    }

    /** The pids of the JVMs waiting in this fork server that have warmed up. */
    public synchronized List<Long> readyPids() {
        return waiting.stream().filter(Warm::ready).map(w -> (long) w.popen.pid()).toList();
    }

    /** The pids of the JVMs waiting, in every fork server of this JVM. */
    public static List<Long> waitingPids() {
        List<Long> pids = new ArrayList<>();
        for (ForkServer server : SERVERS.values()) {
            pids.addAll(server.pids());
        }
        return pids;
    }
}
