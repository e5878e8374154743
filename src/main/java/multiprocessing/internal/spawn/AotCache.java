package multiprocessing.internal.spawn;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.tracker.ResourceTracker;
import multiprocessing.internal.util.AtExit;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.internal.util.LibraryLog;

/**
 * Decides which archive options a spawned child JVM gets: a JDK 25 AOT cache of the classes a
 * child loads (the JDK's, Fory's, the library's), which more than halves a child's start.
 *
 * <p>Implementation note. The JVM maps an AOT cache only if the class path names the same jar
 * files (same size and mtime), the JDK build and the module options are the same; otherwise it
 * runs with no class data sharing at all, slower than with no option. So a cache file is named
 * by a hash of all of that ({@link #key}) and passed only when a file for the current key
 * exists. Options that do not affect the cache (-D, heap sizes, GC and JIT choices) stay out of
 * the key, so that children that differ only in those share one cache rather than each training
 * its own. Directories on the class path make the dump fail: the cache then holds the library's
 * and its serializer's jars alone (or all the jars), and a child that maps it gets those first
 * and the rest after them, when {@link ClassPathLayout} finds that this cannot change what any
 * name resolves to (otherwise, and with a module path, no options at all).
 *
 * <p>The cache is written by a dedicated <em>trainer</em> child that the parent starts beside
 * the first child of a key that has no cache yet, never by a user's child, because training
 * cannot be made invisible: the JVM prints five lines on standard output when it dumps,
 * whatever -Xlog says, and "Picked up JAVA_TOOL_OPTIONS" on standard error; the dump also makes
 * that JVM's exit 1-2 s slower, and would never happen for a first child that is terminated
 * (pool workers usually are). The trainer runs {@link ChildMain} on a small representative
 * payload ({@link Exercise}: Fory built, a record with a lambda deserialized, Process
 * initialised, then a tour of the paths children commonly take, a pool's worker and a
 * manager's server among them; on request also the library's hot paths, for their method
 * profiles: {@link Workout}), under {@code /bin/sh}, which silences it and, when it exits 0
 * with a non-empty file, renames the file into place: the rename thus happens even if this JVM
 * has exited by then (a short program that spawns once still leaves a cache for its next
 * run), which a rename done when the parent reaps would not. The JDK's, Fory's and the
 * library's classes are in the archive, which are most of a child's start; of the program's,
 * those whose lambdas its children had run when the trainer started ({@link
 * #noteProgramClass}), listed beside the cache ({@value #CLASSES}). A later child whose class
 * the list lacks has its key trained again, once per key in a JVM ({@link #retraining}). A
 * trainer that exits 0 without writing the file marks the key as failed, so it is not retried.
 *
 * <p>Each key has three caches, of three {@link Kind kinds}: the full one above, a lean one
 * without Fory for a child whose payload was written without it and holds no queue or
 * connection, trained by a trainer that runs such a child's path ({@link Workout#leanTour}),
 * and one without Fory for such a child that holds some (a pool's worker, a manager's server;
 * {@link Workout#channelsTour}). Every class of a cache is loaded at the JVM's start, used or
 * not: the lean cache starts a no-op child ~45 ms sooner and leaves it ~5 MB smaller. Until a
 * key's lean or channels cache exists, its children of that kind map the full one. A lean
 * child that builds Fory all the same (it made a queue of its own) loads its classes from the
 * jar, ~0.3 s, and marks the key ({@code <key>-lean.miss}, or
 * {@code <key>-channels.miss} for a child holding a channel): from then on the children of
 * these jars of that kind (of both, for a plain child's miss) map the full cache.
 *
 * <p>Only one trainer runs per key: in this JVM a set of keys, across JVMs a lock file created
 * atomically. Lock and temporary files left by a trainer that never finished are removed after
 * an hour, its output at once when no live process holds its key's lock (a trainer killed
 * with its script); only the {@value #KEEP} most recently used cache files are kept (a full one is
 * ~28 MB, a lean one ~16 MB, a channels one ~20 MB).
 *
 * <p>Nothing here may fail a start: any I/O problem means no archive options, logged at DEBUG.
 */
final class AotCache {
    static final String ENABLED_PROPERTY = "multiprocessing.aotCache";
    static final String DIR_PROPERTY = "multiprocessing.cacheDir";
    /** Set to false, every child maps the full cache (see {@link Kind}). */
    static final String LEAN_PROPERTY = "multiprocessing.aotCache.lean";
    /** The program's classes a trainer loads (see {@link #noteProgramClass}). */
    static final String PROGRAM_CLASSES_PROPERTY = "multiprocessing.aotCache.programClasses";
    /** The most program classes a trainer is given. */
    static final int MAX_PROGRAM_CLASSES = 16;
    /** Beside a cache: the program classes its trainer loaded, one per line. */
    static final String CLASSES = ".classes";
    /** Where a lean child marks that it built Fory (see {@link LeanMissReport}). */
    static final String LEAN_MISS_PROPERTY = "multiprocessing.aotCache.leanMiss";
    static final boolean LEAN_ENABLED =
            !"false".equalsIgnoreCase(System.getProperty(LEAN_PROPERTY, "true"));
    /** A child option ({@code -D...=true}) that makes the trainer run {@link Workout}. */
    static final String WORKOUT_PROPERTY = "multiprocessing.aotWorkout";
    static final long STALE_MILLIS = 60 * 60 * 1000L;
    /** After this, a key's failed and lean-miss markers are removed (and their verdicts lapse). */
    static final long MARKER_STALE_MILLIS = 7 * 24 * 60 * 60 * 1000L;
    static final int KEEP = 9;

    private static final long FNV_BASIS = 0xcbf29ce484222325L;
    private static final long FNV_SECOND_BASIS = 0x84222325cbf29ce4L;

    /** Keeps AOT messages off a child's standard output, which belongs to the user. */
    static final String QUIET = "-Xlog:aot=off,cds=off";
    /**
     * Given to every child that maps a cache, unless the children's options ask for the
     * trainer's workout ({@value #WORKOUT_PROPERTY}), whose profiles are made to be replayed.
     * With JEP 515's replay a child compiles, as it starts, the methods its cache's trainer had
     * compiled: a no-op child took 50 ms of CPU against 37.5 without (bench/RESULTS.md,
     * sixteenth session), and neither a fresh producer child's queue puts nor a computing
     * child ran faster with it. A later {@code -XX:+AOTReplayTraining} in the user's options
     * wins.
     */
    static final String NO_REPLAY = "-XX:-AOTReplayTraining";


    /**
     * Runs the trainer (the arguments after the four file names), silenced and deaf to Ctrl-C
     * and hang-ups (a program interrupted while a cache trains would otherwise leave the lock,
     * and no training, for an hour; the trainer ends within its own limit), and publishes its
     * output. The JVM writes a configuration file next to its output; it is removed either way.
     * The script keeps no copy of the program's standard streams, nor of the descriptors the
     * trainer inherits (its payload's at 3, the resource tracker's pipe at 4): whatever reads
     * the program's output to its end (a shell's {@code $(...)}, a pipe into {@code tee}, a
     * CI log) waited for the whole training (attack 23b), and so did the tracker, which waits
     * until every process holding its pipe has ended (see {@code ResourceTracker.leave}, which
     * the trainer calls once its tour is done).
     */
    static final String TRAINER_SCRIPT = """
            exec </dev/null >/dev/null 2>&1
            tmp=$1 final=$2 lock=$3 failed=$4; shift 4
            trap '' INT HUP
            if command -v nice >/dev/null 2>&1; then set -- nice -n 10 "$@"; fi
            "$@" &
            exec 3<&- 4>&-
            wait $!
            rc=$?
            if [ "$rc" -eq 0 ] && [ -s "$tmp" ]; then
              mv -f "$tmp" "$final"
              if [ -f "$tmp.classes" ]; then mv -f "$tmp.classes" "$final.classes"
              else rm -f "$final.classes"; fi
            elif [ "$rc" -eq 0 ]; then : >"$failed"
            fi
            rm -f "$tmp" "$tmp.config" "$tmp.classes" "$lock"
            exit "$rc"
            """;

    /** What a decision depends on besides the options; tests make their own. */
    record Environment(boolean enabled, int feature, Path javaHome, String vmVersion,
            String classPath, String modulePath, Path dir, Path shell, Path library,
            List<Path> serializer) {

        static Environment current() {
            return new Environment(
                    !"false".equalsIgnoreCase(System.getProperty(ENABLED_PROPERTY, "true")),
                    Runtime.version().feature(),
                    Path.of(System.getProperty("java.home")),
                    System.getProperty("java.vm.version") + "/" + System.getProperty("java.vm.name"),
                    ClassReach.libraryClassPath(),
                    System.getProperty("jdk.module.path", ""),
                    cacheDir(),
                    Path.of("/bin/sh"),
                    locationOf(AotCache.class),
                    serializerLocation());
        }

        /**
         * Where {@code c}'s class file comes from (null: unknown; for the library's, then no
         * cache): a jar or a directory, as a file; a Boot jar's nested jar is the extracted copy
         * its children start with, so that they too get a cache.
         */
        private static Path locationOf(Class<?> c) {
            try {
                String entry = ClassReach.entryOf(
                        c.getProtectionDomain().getCodeSource().getLocation());
                return entry == null ? null : Path.of(entry);
            } catch (Exception | Error e) {
                return null;
            }
        }

        /**
         * The serializer's jar, the only other one a trainer needs (Fory's code generation,
         * and with it the compiler Fory depends on, is off: {@code Serialization}); empty
         * when unknown, or when it is the library's own (a shaded jar).
         */
        private static List<Path> serializerLocation() {
            Path fory = locationOf(org.apache.fory.Fory.class);
            return fory == null || fory.equals(locationOf(AotCache.class)) ? List.of()
                    : List.of(fory);
        }

        /** The library's per-user cache directory (the AOT cache's, Boot's extracted jars). */
        static Path cacheDir() {
            String dir = System.getProperty(DIR_PROPERTY);
            if (dir != null && !dir.isEmpty()) {
                return Path.of(dir);
            }
            String xdg = System.getenv("XDG_CACHE_HOME");
            Path base = xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute()
                    ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
            return base.resolve("multiprocessing-java");
        }
    }

    /**
     * What a training child writes and where it goes when it succeeds.
     *
     * @param key    the cache key
     * @param output where the trainer's JVM dumps (a temporary name in the cache directory)
     * @param target the cache file the output is renamed to
     * @param lock   held (exists) while the trainer runs
     * @param failed created when the trainer exits 0 without writing the output
     * @param classPath the trainer's class path: the jars only (see {@link ClassPathLayout})
     */
    record Training(String key, Path output, Path target, Path lock, Path failed,
            String classPath, Kind kind) {
        /**
         * The options the trainer's JVM gets besides the library's and the user's: a lean
         * trainer is told where to report, as its children are (so that path is in the cache;
         * and a tour that built Fory would mark the key, as a child that did).
         */
        List<String> options() {
            return kind.lean()
                    ? List.of("-XX:AOTCacheOutput=" + output, QUIET,
                            "-D" + LEAN_MISS_PROPERTY + "=" + target.resolveSibling(key + ".miss"))
                    : List.of("-XX:AOTCacheOutput=" + output, QUIET);
        }

        /** Releases the key when the trainer could not be started. */
        void abandon() {
            deleteQuietly(output);
            deleteQuietly(Path.of(output + ".config"));
            deleteQuietly(Path.of(output + CLASSES));
            deleteQuietly(lock);
        }
    }

    /**
     * The options one child gets, and the trainer to start beside it (or null).
     *
     * @param options  archive options, placed after the library's and before the user's
     * @param training a trainer to start for this key, or null
     * @param classPath the child's class path, or null for this JVM's as it is
     */
    record Plan(List<String> options, Training training, String classPath) {
        static final Plan NONE = new Plan(List.of(), null, null);
    }

    /**
     * Which of a key's three caches a child maps. Every class in a cache is loaded and linked
     * at the JVM's start, whether the child uses it or not, and dirties its share of the
     * cache's pages: a cache with Fory's classes (~600) and the pool's and manager's cost a
     * no-op child ~45 ms of its start, ~50 ms of its CPU and ~5 MB of private memory more
     * than one without, while a child that then builds Fory from the jar instead of the cache
     * takes 0.2-0.3 s longer (bench/RESULTS.md, tenth session). The parent knows which a child
     * likely needs from what its payload holds ({@link
     * multiprocessing.internal.reduction.Serialization#startsWithoutSerializer}).
     *
     * <p>A child whose payload was written without Fory but holds a channel (a pool's worker,
     * a manager's server, a queue's producer) builds Fory only for an object that needs it: it
     * maps a cache of its own, without Fory and with what a pool's worker and a manager's
     * server run on plain values ({@link #CHANNELS}). From the full cache a pool's worker took
     * ~30 ms of CPU more to start, and the manager's classes in the lean one cost every plain
     * child ~4 ms of its start (bench/RESULTS.md, nineteenth session). Each lean kind marks
     * its own misses: a program whose queues carry records sends its channel children to the
     * full cache, not its plain ones; a plain child's miss sends both.
     */
    enum Kind {
        /** What children commonly load, Fory's classes with it: {@link Exercise}. */
        FULL(""),
        /** For a child that will likely never build Fory: {@link Workout#leanTour}. */
        LEAN("-lean"),
        /** For a child that holds a channel: {@link Workout#channelsTour}. */
        CHANNELS("-channels");

        private final String suffix;

        Kind(String suffix) {
            this.suffix = suffix;
        }

        /** Whether a child of this kind likely never builds Fory (its cache has none). */
        boolean lean() {
            return this != FULL;
        }
    }

    private static volatile AotCache system;

    private final Environment env;
    private final Set<String> trained = ConcurrentHashMap.newKeySet();
    /** Keys trained again in this JVM for program classes their caches lacked: once each. */
    private final Set<String> retrained = ConcurrentHashMap.newKeySet();
    /** Each key's class list as read from its file, once (a spawn looks at it each time). */
    private final Map<String, Set<String>> trainedWith = new ConcurrentHashMap<>();
    private final Set<String> programClasses = ConcurrentHashMap.newKeySet();
    private volatile boolean swept;
    /** The class path's layout, decided once per JVM (it reads the jars); null: none usable. */
    private volatile Optional<ClassPathLayout> layout;

    AotCache(Environment env) {
        this.env = env;
    }

    /** The instance for this JVM's own settings. */
    static AotCache system() {
        AotCache c = system;
        if (c == null) {
            synchronized (AotCache.class) {
                c = system;
                if (c == null) {
                    system = c = new AotCache(Environment.current());
                }
            }
        }
        return c;
    }

    Environment environment() {
        return env;
    }

    /**
     * Decides what the child started with {@code executable}, the library's options and the
     * user's gets. Never throws.
     */
    Plan plan(Path executable, List<String> libraryOptions, List<String> userOptions) {
        return plan(executable, libraryOptions, userOptions, Kind.FULL);
    }

    /**
     * As {@link #plan(Path, List, List)}, for a child that maps the {@code kind} of cache; a
     * lean one maps the full cache until the lean one is trained.
     */
    Plan plan(Path executable, List<String> libraryOptions, List<String> userOptions,
            Kind kind) {
        return plan(executable, libraryOptions, userOptions, kind, null);
    }

    /**
     * As {@link #plan(Path, List, List, Kind)}, for a child that runs a lambda (or a subclass)
     * of {@code programClass} (null: none of the program's, or unknown): a cache whose trainer
     * did not load that class is trained again ({@link #retraining}).
     */
    Plan plan(Path executable, List<String> libraryOptions, List<String> userOptions,
            Kind kind, String programClass) {
        try {
            return decide(executable, libraryOptions, userOptions, kind, programClass);
        } catch (IOException | RuntimeException e) {
            LibraryLog.get().log(System.Logger.Level.DEBUG,
                    "multiprocessing: no AOT cache for this child", e);
            return Plan.NONE;
        }
    }

    private Plan decide(Path executable, List<String> libraryOptions, List<String> userOptions,
            Kind kind, String programClass) throws IOException {
        if (!env.enabled() || env.feature() < 25 || !env.modulePath().isEmpty()
                || userOptions.stream().anyMatch(AotCache::managesArchive)
                // The environment's too: -Xshare:off there beside -XX:AOTCache stopped every
                // child (attack 48); an AOT cache named there never reaches a child
                // (Spawner.withoutArchiveChoices).
                || Spawner.inheritedOptions().stream().anyMatch(AotCache::managesArchive)
                || !sameFile(executable, env.javaHome().resolve("bin").resolve("java"))) {
            return Plan.NONE;
        }
        List<String> options = new ArrayList<>(libraryOptions);
        options.addAll(userOptions);
        ClassPathLayout layout = layout();
        String base = key(options);
        if (base == null || layout == null) {
            return Plan.NONE;
        }
        Path dir = directory();
        sweep(dir);
        Path miss = dir.resolve(base + kind.suffix + ".miss");
        if (kind.lean() && (Files.exists(miss)
                || Files.exists(dir.resolve(base + Kind.LEAN.suffix + ".miss")))) {
            kind = Kind.FULL; // a lean child of these jars built Fory after all
        }
        // A lean child reports it builds Fory (ChildMain, Serialization.whenBuilt).
        List<String> report = kind.lean()
                ? List.of("-D" + LEAN_MISS_PROPERTY + "=" + miss) : List.of();
        boolean replay = userOptions.contains("-D" + WORKOUT_PROPERTY + "=true");
        Plan cached = mapping(layout, dir.resolve(base + kind.suffix + ".aot"), report, replay);
        if (cached != null) {
            Training again = retraining(dir, base + kind.suffix, layout, kind, programClass);
            return again == null ? cached
                    : new Plan(cached.options(), again, cached.classPath());
        }
        Plan meanwhile = new Plan(report, null, null);
        if (kind != Kind.FULL) {
            Plan full = mapping(layout, dir.resolve(base + Kind.FULL.suffix + ".aot"), report,
                    replay);
            meanwhile = full != null ? full : meanwhile;
        }
        String key = base + kind.suffix;
        Path failed = dir.resolve(key + ".failed");
        if (Files.exists(failed) || !Files.isExecutable(env.shell()) || !trained.add(key)) {
            return meanwhile;
        }
        Path lock = dir.resolve(key + ".lock");
        if (!takeLock(lock)) {
            return meanwhile; // another JVM trains this key
        }
        Path output = dir.resolve(key + "." + ProcessHandle.current().pid() + ".tmp");
        return new Plan(meanwhile.options(), new Training(key, output,
                dir.resolve(key + ".aot"), lock, failed, layout.archived(), kind),
                meanwhile.classPath());
    }

    /**
     * A trainer to start again for {@code key}, whose cache its trainer made without
     * {@code programClass}, the class whose lambda the child about to map it runs; or null. Such
     * a child opens the jars to load it: with a 29 MB jar that was 23 of the 50 ms of CPU of a
     * no-op child (bench/RESULTS.md, sixteenth session). The new trainer loads every class
     * noted so far ({@link #noteProgramClass}). At most once per key in this JVM, and not while
     * another trainer holds the key; the child maps the cache there is meanwhile, and later
     * children the new one, which replaces it under the same name.
     */
    private Training retraining(Path dir, String key, ClassPathLayout layout, Kind kind,
            String programClass) {
        if (programClass == null || retrained.contains(key)
                || !programClasses.contains(programClass)) {
            return null; // none, done once already, or beyond the bound a trainer loads
        }
        Path target = dir.resolve(key + ".aot");
        Set<String> had = trainedWith.computeIfAbsent(key,
                k -> readClassList(Path.of(target + CLASSES)));
        if (had.contains(programClass) || had.size() >= MAX_PROGRAM_CLASSES) {
            // Held, or the list is full: a program of more classes than a trainer loads would
            // otherwise have its key trained at every run, each run's classes in turn.
            return null;
        }
        Path lock = dir.resolve(key + ".lock");
        try {
            if (!takeLock(lock)) {
                return null; // a trainer runs for this key: a later start looks again
            }
        } catch (IOException e) {
            return null;
        }
        if (!retrained.add(key)) {
            deleteQuietly(lock);
            return null;
        }
        // The new cache keeps what the old one held (another program of the same jars may
        // have put its classes there): two programs of different classes would otherwise
        // train the key in turn at every run, each list dropping the other's.
        had.forEach(this::noteProgramClass);
        Path output = dir.resolve(key + "." + ProcessHandle.current().pid() + ".tmp");
        return new Training(key, output, target, lock, dir.resolve(key + ".failed"),
                layout.archived(), kind);
    }

    /**
     * Takes a key's lock file for a trainer this JVM starts: creates it, naming this process
     * as its owner ({@link #own}), or replaces one whose owner is gone. Its owner is the JVM
     * that took it until the trainer it starts is running, then that trainer's script, which
     * removes it when it ends. A program killed while it trained (its whole process group,
     * SIGKILL) left a lock that kept every later run from training that key for an hour.
     *
     * @return whether this JVM holds the lock now; false while a live process holds it
     */
    static boolean takeLock(Path lock) throws IOException {
        for (int attempt = 0; ; attempt++) {
            try {
                Files.createFile(lock);
                own(lock, ProcessHandle.current());
                return true;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 0 || !orphaned(lock)) {
                    return false;
                }
                deleteQuietly(lock); // and try once more: another JVM may take it first
            }
        }
    }

    /** Names {@code owner} (its pid and start time) in the lock file. Never throws. */
    static void own(Path lock, ProcessHandle owner) {
        try {
            // Never creates it: a trainer that ended already has removed it.
            Files.writeString(lock, owner.pid() + " " + owner.info().startInstant()
                    .map(java.time.Instant::toEpochMilli).orElse(0L) + "\n",
                    java.nio.file.StandardOpenOption.WRITE,
                    java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException | RuntimeException e) {
            // gone, or a lock that names nobody, judged by its age as an older library's
        }
    }

    /**
     * Whether a lock file's owner is gone: the process it names has ended (or its pid now
     * belongs to a process started at another time). A lock that names nobody (being written,
     * or an older library's) is gone once it is a minute old; the sweep removes any after an
     * hour.
     */
    static boolean orphaned(Path lock) {
        String content;
        BasicFileAttributes a = attributes(lock);
        try {
            content = Files.readString(lock).trim();
        } catch (IOException | RuntimeException e) {
            return false; // gone already, or unreadable: leave it to its owner and the sweep
        }
        String[] parts = content.split(" ");
        if (parts.length != 2) {
            return a != null
                    && System.currentTimeMillis() - a.lastModifiedTime().toMillis() > 60_000;
        }
        long pid;
        long started;
        try {
            pid = Long.parseLong(parts[0]);
            started = Long.parseLong(parts[1]);
        } catch (NumberFormatException e) {
            return true; // not what a lock holds
        }
        java.util.Optional<ProcessHandle> owner = ProcessHandle.of(pid);
        if (owner.isEmpty() || !owner.get().isAlive() || zombie(pid)) {
            return true;
        }
        long now = owner.get().info().startInstant().map(java.time.Instant::toEpochMilli)
                .orElse(started);
        return started != 0 && Math.abs(now - started) > 1000; // the pid went to another
    }

    /**
     * Whether {@code pid} has ended and waits to be reaped, which {@link ProcessHandle#isAlive}
     * counts as alive: under a pid 1 that reaps nothing (some containers) a killed trainer
     * stays so.
     */
    private static boolean zombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            int close = stat.lastIndexOf(')');
            char state = close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
            return state == 'Z' || state == 'X';
        } catch (IOException | RuntimeException e) {
            return false; // no /proc: as ProcessHandle says
        }
    }

    /** The class names of a cache's list file, one per line; empty if it has none. */
    private static Set<String> readClassList(Path list) {
        try {
            return Set.copyOf(Files.readAllLines(list, StandardCharsets.UTF_8).stream()
                    .filter(l -> !l.isEmpty()).toList());
        } catch (IOException | RuntimeException e) {
            return Set.of(); // trained before lists were kept, or never: as if it held none
        }
    }

    /**
     * Notes a class of the program's that a child about to start runs (its target's): a
     * trainer started from now on loads it (not initialized), so that it is in the cache when
     * it comes from one of the jars. A child then finds it there rather than opening the jars
     * to look for it: for a 30 MB jar reading its central directory took 19 ms of a child's
     * start (bench/RESULTS.md, tenth session).
     */
    void noteProgramClass(String name) {
        if (name != null && programClasses.size() < MAX_PROGRAM_CLASSES) {
            programClasses.add(name);
        }
    }

    /**
     * The option naming, for {@code training}'s trainer, the program's classes noted so far
     * (or none); they are also written beside its output ({@value #CLASSES}), which the
     * trainer's script renames with the cache, so that a later start knows what it holds.
     */
    List<String> programClassesOption(Training training) {
        java.util.TreeSet<String> names = new java.util.TreeSet<>(programClasses);
        try {
            Files.write(Path.of(training.output() + CLASSES), names, StandardCharsets.UTF_8);
        } catch (IOException e) {
            // no list: a later start trains this key once more, at most once per JVM
        }
        return names.isEmpty() ? List.of()
                : List.of("-D" + PROGRAM_CLASSES_PROPERTY + "=" + String.join(",", names));
    }

    /**
     * In a trainer: loads the program's classes its parent named, without initializing them
     * (no code of the program's runs); one that is not in the jars is skipped.
     */
    static void loadProgramClasses() {
        String names = System.getProperty(PROGRAM_CLASSES_PROPERTY, "");
        for (String name : names.split(",")) {
            if (!name.isEmpty()) {
                try {
                    Class.forName(name, false, ClassLoader.getSystemClassLoader());
                } catch (ClassNotFoundException | LinkageError e) {
                    // in a directory, or not loadable alone: the child loads it as before
                }
            }
        }
    }

    /**
     * Run in a child started for the lean cache when it builds Fory all the same: marks the
     * key, so that later plain children of these jars map the full cache (each such child paid
     * ~0.3 s to load Fory from its jar). Never throws. A class of its own, not a lambda: a
     * lambda made at a child's start that its cache's trainer never made is spun there, ~5 ms
     * of the child's start.
     */
    /** The cache a child is told it maps (see {@link #reportRefused}). */
    static final String MAPPED_PROPERTY = "multiprocessing.aotCache.mapped";

    /**
     * In a child told that it maps a cache: when its JVM refused the file (it runs without any
     * archive then, silently: a file overwritten or cut short, or one another JDK build made),
     * has the parent train the key again rather than start every later child without a cache.
     * The refused file is deleted and marked ({@code <cache>.refused}); a key whose cache is
     * refused again while marked is marked failed (no cache, no training, until the marker
     * lapses), so that a refusal the library cannot foresee does not train again and again.
     * The JVM reports an archive in use as "sharing" in {@code java.vm.info}.
     */
    static void reportRefused() {
        String cache = System.getProperty(MAPPED_PROPERTY);
        if (cache != null && !System.getProperty("java.vm.info", "").contains("sharing")) {
            refused(Path.of(cache));
        }
    }

    /** See {@link #reportRefused}; never throws (another child may have done it first). */
    static void refused(Path cache) {
        try {
            String name = cache.getFileName().toString();
            Path marker = cache.resolveSibling(name + ".refused");
            if (Files.exists(marker)) {
                Files.writeString(cache.resolveSibling(
                        name.substring(0, name.length() - ".aot".length()) + ".failed"), "");
            } else {
                Files.writeString(marker, "");
            }
            Files.deleteIfExists(cache);
            Files.deleteIfExists(Path.of(cache + CLASSES));
        } catch (IOException | RuntimeException e) {
            // Gone already, or the directory is not this user's to write: nothing to mend.
        }
    }

    record LeanMissReport(String marker) implements Runnable {
        @Override
        public void run() {
            try {
                Files.createFile(Path.of(marker));
            } catch (IOException | RuntimeException e) {
                // already marked, or the directory went: the next such child tries again
            }
        }
    }

    /**
     * The plan of a child that maps {@code cache} (with {@code more} options), or null when
     * there is no such file.
     */
    private static Plan mapping(ClassPathLayout layout, Path cache, List<String> more,
            boolean replay) {
        BasicFileAttributes cached = attributes(cache);
        if (cached == null || !cached.isRegularFile() || cached.size() == 0) {
            return null;
        }
        touch(cache, cached);
        String childPath = layout.rest().isEmpty() ? null : layout.child();
        List<String> options = new ArrayList<>(List.of("-XX:AOTCache=" + cache, QUIET,
                "-D" + MAPPED_PROPERTY + "=" + cache));
        if (!replay) {
            options.add(NO_REPLAY);
        }
        options.addAll(more);
        return new Plan(List.copyOf(options), null, childPath);
    }

    /** This JVM's class path layout, or null when no cache can be used with it. */
    ClassPathLayout layout() throws IOException {
        Optional<ClassPathLayout> l = layout;
        if (l == null) {
            List<Path> library = new ArrayList<>();
            if (env.library() != null && !env.serializer().isEmpty()) {
                library.add(env.library());
                library.addAll(env.serializer());
            }
            ClassPathLayout of = ClassPathLayout.of(env.classPath(), library);
            // The trainer runs ChildMain on the jars alone: with the library in a directory
            // (target/classes) it could not even start.
            // The library's jar may come through a jar's manifest Class-Path (java -jar with a
            // lib/ beside it, as maven-jar-plugin's addClasspath writes): the JVM follows it at
            // training and in every child alike (attack 48: such programs never had a cache).
            if (of != null && (env.library() == null || of.jars().stream()
                    .noneMatch(j -> sameFile(Path.of(j), env.library()))
                    && !ClassPathLayout.reachesThroughManifests(of.jars(), env.library()))) {
                of = null;
            }
            layout = l = Optional.ofNullable(of);
        }
        return l.orElse(null);
    }

    /**
     * The cache key for a child with {@code options} (library's and user's), or null when the
     * class path cannot be archived (see {@link ClassPathLayout#of}). Only the cache's jars are
     * in it (the library's and Fory's, or all the jars): the other entries are not in the cache,
     * so applications that differ only in them share one.
     */
    String key(List<String> options) throws IOException {
        ClassPathLayout layout = layout();
        if (layout == null) {
            return null;
        }
        String classPath = layout.archived();
        StringBuilder text = new StringBuilder();
        text.append("home=").append(env.javaHome()).append('\n');
        text.append("vm=").append(env.vmVersion()).append('\n');
        text.append("cp=").append(classPath).append('\n');
        for (String entry : layout.jars()) {
            BasicFileAttributes a = attributes(Path.of(entry));
            if (a == null || !a.isRegularFile()) {
                return null;
            }
            text.append("entry=").append(Path.of(entry).toAbsolutePath()).append(' ')
                    .append(a.size()).append(' ').append(a.lastModifiedTime().toMillis())
                    .append('\n');
        }
        text.append("mp=").append(env.modulePath()).append('\n');
        for (String option : options) {
            if (affectsArchive(option)) {
                text.append("opt=").append(option).append('\n');
            }
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        return HexFormat.of().toHexDigits(fnv1a(bytes, FNV_BASIS))
                + HexFormat.of().toHexDigits(fnv1a(bytes, FNV_SECOND_BASIS));
    }

    /**
     * The key's hash: 64-bit FNV-1a, twice, from two bases. It need not be a cryptographic
     * one (keys that collided would only hand a child a cache the JVM then declines, as it
     * checks the jars and options itself), and MessageDigest's first use sets up the
     * security providers: ~25 ms of every program's first start.
     */
    private static long fnv1a(byte[] data, long basis) {
        long h = basis;
        for (byte b : data) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** Options with which the user chose an archive (or none): then the library adds nothing. */
    static boolean managesArchive(String option) {
        return option.startsWith("-Xshare")
                || option.matches("-XX:(AOTCache|AOTCacheOutput|AOTMode|AOTConfiguration"
                        + "|SharedArchiveFile|ArchiveClassesAtExit)=.*")
                || option.matches("-XX:[+-](AutoCreateSharedArchive|UseSharedSpaces"
                        + "|RecordDynamicDumpInfo)");
    }

    /** Options with which a JVM writes a class archive (or its configuration) as it exits. */
    static boolean writesArchive(String option) {
        return option.equals("-Xshare:dump")
                || option.matches("-XX:(AOTCacheOutput|AOTConfiguration|ArchiveClassesAtExit)=.*")
                || option.matches("-XX:AOTMode=(record|create)")
                || option.matches("-XX:[+](AutoCreateSharedArchive|RecordDynamicDumpInfo)");
    }

    /**
     * Whether a child option can make a cache unusable, so belongs in the key. Heap, GC, JIT
     * and plain system property choices do not; anything unknown is assumed to.
     */
    static boolean affectsArchive(String option) {
        if (option.startsWith("-D")) {
            return option.startsWith("-Djdk.module.")
                    || option.startsWith("-Djava.system.class.loader");
        }
        return !(option.startsWith("-Xmx") || option.startsWith("-Xms")
                || option.startsWith("-Xmn") || option.startsWith("-Xss")
                || option.startsWith("-Xlog") || option.startsWith("-verbose")
                || option.matches("-XX:[+-]Use\\w*GC")
                || option.matches("-XX:[+-](TieredCompilation|UsePerfData"
                        + "|UnlockDiagnosticVMOptions)")
                || option.matches("-XX:(TieredStopAtLevel|MaxRAMPercentage|InitialRAMPercentage"
                        + "|MinRAMPercentage|MaxHeapSize|InitialHeapSize|ActiveProcessorCount"
                        + "|CICompilerCount|ParallelGCThreads|ConcGCThreads"
                        + "|ArchiveRelocationMode|TrimNativeHeapInterval"
                        + "|CompileThresholdScaling)=.*"));
    }

    /** Whether the options pick a garbage collector (then the library picks none). */
    static boolean choosesGc(List<String> options) {
        return options.stream().anyMatch(o -> o.matches("-XX:\\+Use\\w*GC"));
    }

    private Path directory() throws IOException {
        Path dir = env.dir();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir.getParent());
            try {
                multiprocessing.internal.util.TempDir.createPrivateDirectory(dir);
            } catch (FileAlreadyExistsException e) {
                // made concurrently
            }
        }
        return dir;
    }

    /** Once per JVM: removes what dead trainers left and all but the newest caches. */
    private void sweep(Path dir) {
        if (swept) {
            return;
        }
        swept = true;
        long now = System.currentTimeMillis();
        List<Path> caches = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                BasicFileAttributes a = attributes(f);
                if (a == null) {
                    continue;
                }
                if (name.endsWith(".aot")) {
                    caches.add(f);
                } else if (name.endsWith(".aot" + CLASSES)) {
                    if (!Files.exists(f.resolveSibling(
                            name.substring(0, name.length() - CLASSES.length())))) {
                        deleteQuietly(f); // its cache went
                    }
                } else if ((trainerOutput(name) || name.endsWith(".lock"))
                        && now - a.lastModifiedTime().toMillis() > STALE_MILLIS) {
                    deleteQuietly(f);
                } else if (trainerOutput(name) && noLiveTrainer(dir, name)) {
                    // A trainer's output (~26 MB) whose trainer and script were killed
                    // together (its whole process group): nobody is writing it.
                    deleteQuietly(f);
                } else if ((name.endsWith(".failed") || name.endsWith(".miss")
                        || name.endsWith(".refused"))
                        && now - a.lastModifiedTime().toMillis() > MARKER_STALE_MILLIS) {
                    // A key's verdicts are tried again now and then: the JDK or the jars'
                    // use may have changed, and each rebuilt jar leaves a key's markers behind.
                    deleteQuietly(f);
                }
            }
        } catch (IOException e) {
            LibraryLog.get().log(System.Logger.Level.DEBUG,
                    "multiprocessing: cannot sweep " + dir, e);
            return;
        }
        caches.sort(Comparator.comparingLong(AotCache::mtime).reversed());
        for (int i = KEEP; i < caches.size(); i++) {
            deleteQuietly(caches.get(i));
            deleteQuietly(Path.of(caches.get(i) + CLASSES));
        }
    }

    /** Whether {@code name} is a trainer's output: {@code <key>.<pid>.tmp}, its list or config. */
    private static boolean trainerOutput(String name) {
        return name.endsWith(".tmp") || name.endsWith(".tmp.config")
                || name.endsWith(".tmp" + CLASSES);
    }

    /**
     * Whether no trainer writes the output {@code name} ({@code <key>.<pid>.tmp...}): its key's
     * lock, which a trainer's script holds until it has published or removed its output, is
     * gone or names a process that has ended.
     */
    private static boolean noLiveTrainer(Path dir, String name) {
        Path lock = dir.resolve(name.substring(0, name.indexOf('.')) + ".lock");
        return !Files.exists(lock) || orphaned(lock);
    }

    /** Marks a cache as used, so the sweep keeps it; at most once a day per file. */
    private static void touch(Path cache, BasicFileAttributes a) {
        long now = System.currentTimeMillis();
        if (now - a.lastModifiedTime().toMillis() > 24 * 60 * 60 * 1000L) {
            try {
                Files.setLastModifiedTime(cache, FileTime.fromMillis(now));
            } catch (IOException ignored) {
                // only the sweep's order suffers
            }
        }
    }

    private static long mtime(Path f) {
        BasicFileAttributes a = attributes(f);
        return a == null ? 0 : a.lastModifiedTime().toMillis();
    }

    private static BasicFileAttributes attributes(Path f) {
        try {
            return Files.readAttributes(f, BasicFileAttributes.class);
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    static void deleteQuietly(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException ignored) {
            // a leftover is swept later
        }
    }

    /**
     * The trainer's payload: shaped like a process (strings, a key, an identity, options, a
     * lambda), so that the classes and code paths a real child uses are the ones recorded.
     */
    record Exercise(String name, byte[] key, int[] identity, List<String> options,
            Runnable task) implements Serializable {

        /** The most the tour and workout may take before the trainer exits regardless. */
        static final long TRAINER_LIMIT_MILLIS = 120_000;

        static Exercise create() {
            return new Exercise("Process-0", new byte[32], new int[] {0}, List.of("-Xrs"),
                    (Runnable & Serializable) () -> { });
        }

        /**
         * Ends a trainer's part in its program once its tour is done: the JVM then writes the
         * cache as it exits, seconds (minutes on a loaded machine) in which the resource
         * tracker, which waits for every process of the program, waited for it too, and left
         * what a SIGKILLed child of the program had created in /dev/shm until then (attack
         * 23). Its own shared memory is released now, as its exit would, and it leaves the
         * tracker's tree.
         */
        static void done() {
            AtExit.runNow();
            ResourceTracker.leave();
        }

        /**
         * The tours run servers and workers on threads of the trainer: whatever one of them
         * does, the trainer ends (and writes the cache of what it loaded) within the limit,
         * rather than holding its lock file, and every later parent's training, for an hour.
         */
        static void endWithinTheLimit() {
            LibraryThreads.platform().daemon().name("multiprocessing-aot-trainer-limit")
                    .start(() -> {
                        try {
                            Thread.sleep(TRAINER_LIMIT_MILLIS);
                        } catch (InterruptedException e) {
                            return;
                        }
                        System.exit(0);
                    });
        }

        /**
         * Runs in the trainer: what a child does between reading its payload and exiting, the
         * tour of the library's common paths ({@link Workout#tour}), then, only when the
         * children's options ask for it ({@value #WORKOUT_PROPERTY}), the hot paths' workout
         * ({@link Workout#run}, off by default: see there). A part that fails still leaves the
         * classes and the paths before it in the cache.
         */
        void run() {
            ProcessAccess access = ProcessAccess.get();
            task.run();
            // This payload came through Fory (a record is not a plain one); a child's process
            // usually comes plain (Serialization.serializeForStart): that path's classes too.
            Serialization.deserializeAtStart(Serialization.serializeForStart(
                    access.idleProcess(), Handles.spawning()), Handles.received(new int[0]));
            endWithinTheLimit();
            loadProgramClasses();
            Workout.tour();
            // What a real child does once it has read its process, which this payload's path
            // skips (the contexts, the marker that tells the parent it runs): loaded here, their
            // classes are in the cache too, not parsed and verified from the jar in every child.
            ChildMain.warmUp("spawn");
            java.util.Objects.requireNonNull(StderrTap.MARKER);
            if (!Boolean.getBoolean(WORKOUT_PROPERTY)) {
                return;
            }
            try {
                Workout.run();
            } catch (IOException | RuntimeException e) {
                LibraryLog.get().log(System.Logger.Level.DEBUG,
                        "multiprocessing: trainer workout failed", e);
            }
        }
    }
}
