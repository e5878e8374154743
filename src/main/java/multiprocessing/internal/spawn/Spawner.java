package multiprocessing.internal.spawn;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.Sockets;
import multiprocessing.internal.posix.Spawn;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.tracker.ResourceTracker;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.internal.util.TempDir;
import multiprocessing.internal.util.TempDirSweeper;

/**
 * Starts a child JVM for the "spawn" start method (Python's {@code popen_spawn_posix} and the
 * parent half of {@code spawn}).
 *
 * <p>Implementation note: the child is the same {@code java} with the modules this JVM resolved
 * from its module path ({@link BootModules}) and the class path {@link ClassReach} gives (this JVM's, the library's loaders' entries, the program's
 * loaders' entries after them), its standard error passed through a {@link StderrTap}, started
 * by posix_spawn so that it inherits exactly the descriptors chosen here: its
 * bootstrap pipe as descriptor 3, then every descriptor the serialized process names
 * (connections it captured) as 4, 5, ... The parent serializes the {@link Preparation} before
 * it spawns anything, so an object that cannot be serialized fails {@code start()} with no
 * child left behind. The child reads the payload from descriptor 3 and keeps it open: end of
 * file there means the parent is gone.
 *
 * <p>The child runs with {@code -Xrs}: the JVM then installs no handler for SIGTERM, so
 * {@code terminate()} ends it by the signal itself (exit code -15, as in Python) rather than by
 * an orderly JVM shutdown with status 143; like Python's, a terminated child runs no exit
 * handlers or finally blocks.
 *
 * <p>Start time: a child maps an AOT cache of the classes it loads when {@link AotCache} has
 * one for this class path (written once, by a trainer child started beside the first child),
 * and runs with the serial collector and no hsperfdata file unless the user's options say
 * otherwise. C1-only compilation ({@code -XX:TieredStopAtLevel=1}) would start a child ~25 ms
 * sooner still, but makes long CPU-bound children (pool workers) 2-3 times slower at peak, so it
 * is left to users who start many short children ({@code Context.withJvmOptions}).
 */
public final class Spawner {
    private Spawner() {}

    /** Marks the bootstrap payload, so a child started some other way fails clearly. */
    static final int MAGIC = 0x4d504a31; // "MPJ1"
    static final int BOOTSTRAP_FD = Spawn.FIRST_INHERITED_FD;
    static final int FIRST_HANDLE_FD = BOOTSTRAP_FD + 1;

    /**
     * Serializes {@code preparation}, starts the child and sends it the payload.
     *
     * @param executable the java launcher to run
     * @param jvmOptions options placed before the class path, after the library's own
     * @throws IllegalArgumentException if the process cannot be serialized (nothing started)
     */
    public static Popen spawn(Preparation preparation, Path executable, List<String> jvmOptions)
            throws IOException {
        Handles handles = Handles.spawning();
        Popen started = null;
        try {
            byte[] data = Serialization.serializeForStart(preparation.process(), handles);
            started = spawn(preparation, data, handles, executable, jvmOptions);
            return started;
        } finally {
            if (started == null) {
                handles.unsent(); // no child will read it
            }
            handles.runAfterSend(); // the child has inherited its descriptors, or never will
        }
    }

    /**
     * As {@link #spawn(Preparation, Path, List)}, with the process already serialized into
     * {@code data} (its descriptors in {@code handles}): serializing it again would count the
     * shared blocks it holds as sent twice, and the first count would never be given back.
     */
    public static Popen spawn(Preparation preparation, byte[] data, Handles handles,
            Path executable, List<String> jvmOptions) throws IOException {
        byte[] payload = payload(preparation, data, handles.fds().length, List.of(),
                ClassServer.address());
        String programClass = ProcessAccess.get().programClass(preparation.process());
        AotCache.system().noteProgramClass(programClass);
        Popen popen = launch(executable, jvmOptions, ChildMain.class.getName(), handles.fds(),
                false, ClassReach.extraEntries(), cacheFor(data), programClass);
        try {
            sendPayload(popen, payload);
        } catch (RuntimeException | Error e) {
            popen.retire(true); // else it waits for its payload until this JVM exits
            throw e;
        }
        return popen;
    }

    /**
     * Starts a child JVM that runs {@code mainClass} with the library's options, an AOT cache
     * when there is one, and {@code jvmOptions}; its bootstrap channel (a pipe, or with
     * {@code socket} a Unix socket pair, which can carry descriptors later) is its descriptor 3,
     * {@code handleFds} follow from 4, then the resource tracker's pipe.
     */
    public static Popen launch(Path executable, List<String> jvmOptions, String mainClass,
            int[] handleFds, boolean socket) throws IOException {
        return launch(executable, jvmOptions, mainClass, handleFds, socket, List.of(),
                AotCache.Kind.FULL, null);
    }

    /**
     * A child that will likely never build the serializer maps the cache without it; so does
     * one that reads its process without it and holds a channel, which builds it only for an
     * object that needs it (see {@link AotCache.Kind}).
     */
    static AotCache.Kind cacheFor(byte[] data) {
        if (!AotCache.LEAN_ENABLED) {
            return AotCache.Kind.FULL;
        }
        if (Serialization.startsWithoutSerializer(data)) {
            return AotCache.Kind.LEAN;
        }
        return Serialization.startsWithoutSerializerButHoldsChannels(data)
                ? AotCache.Kind.CHANNELS : AotCache.Kind.FULL;
    }

    /**
     * As {@link #launch(Path, List, String, int[], boolean)}, with {@code extraClassPath} last,
     * the {@code kind} of AOT cache, and the class of the program's whose code the child runs
     * (or null).
     */
    static Popen launch(Path executable, List<String> jvmOptions, String mainClass,
            int[] handleFds, boolean socket, List<String> extraClassPath, AotCache.Kind kind,
            String programClass) throws IOException {
        AotCache.Plan plan = AotCache.system().plan(executable, libraryOptions(jvmOptions),
                jvmOptions, kind, programClass);
        String classPath = plan.classPath() != null ? plan.classPath()
                : ClassReach.libraryClassPath();
        if (!extraClassPath.isEmpty()) {
            // After the archived entries: the JVM maps a cache whose class path is a prefix.
            classPath = classPath + java.io.File.pathSeparator
                    + String.join(java.io.File.pathSeparator, extraClassPath);
        }
        List<String> argv = commandLine(executable, plan.options(), jvmOptions, classPath,
                mainClass);
        // The resource tracker's pipe goes after the handles; the child finds it by property.
        int trackerFd = ResourceTracker.fdForChild();
        if (trackerFd >= 0) {
            argv.add(1, ResourceTracker.childOption(FIRST_HANDLE_FD + handleFds.length));
        }
        Popen popen;
        try {
            popen = start(executable.toString(), argv, handleFds, trackerFd, socket, true);
        } catch (IOException | RuntimeException e) {
            if (plan.training() != null) {
                plan.training().abandon();
            }
            throw e;
        }
        if (plan.training() != null) {
            // After the user's child, so that its start is not delayed by the trainer's.
            startTrainer(plan.training(), executable, jvmOptions);
        }
        return popen;
    }

    private static Popen start(String path, List<String> argv, int[] handleFds, int trackerFd,
            boolean socket, boolean tapStderr) throws IOException {
        int[] boot = socket ? Sockets.socketpair() : Posix.pipe(Posix.O_CLOEXEC);
        StderrTap tap = null;
        int stdout = -1;
        int pid;
        try {
            tap = tapStderr ? StderrTap.open() : null;
            stdout = tapStderr && SnippetOutput.JSHELL ? SnippetOutput.openStdout() : -1;
            int[] inherit = new int[handleFds.length + 1 + (trackerFd >= 0 ? 1 : 0)];
            inherit[0] = boot[0];
            System.arraycopy(handleFds, 0, inherit, 1, handleFds.length);
            if (trackerFd >= 0) {
                inherit[inherit.length - 1] = trackerFd;
            }
            if (WorkingDirectory.gone()) {
                List<String> fromRoot = WorkingDirectory.fromRoot(argv);
                path = fromRoot.get(0);
                argv = fromRoot;
            }
            pid = Spawn.spawn(path, argv, environment(), inherit, stdout,
                    tap != null ? tap.childEnd() : -1);
        } catch (IOException | RuntimeException | Error e) {
            Posix.closeQuietly(boot[1]);
            throw e;
        } finally {
            Posix.closeQuietly(boot[0]);
            if (tap != null) {
                tap.spawned(); // also on failure: the drain thread then sees end of file
            }
            if (stdout >= 0) {
                Posix.closeQuietly(stdout); // the child has its own copy
            }
        }
        int pidfd;
        try {
            pidfd = Posix.pidfdOpen(pid);
        } catch (ErrnoException e) {
            // Out of descriptors, most likely. The child is ours and unreaped, so its pid is
            // still its own: end it now, before it boots to find no process (review 40: it
            // was left a zombie, after printing that it could not read its process).
            try {
                Posix.kill(pid, Posix.SIGKILL);
                Posix.reap(pid, true);
            } catch (ErrnoException | RuntimeException notEnded) {
                e.addSuppressed(notEnded);
            }
            Posix.closeQuietly(boot[1]);
            throw e;
        }
        return new Popen(pid, pidfd, boot[1], tap, TempDir.base(tmpdirOf(argv)));
    }

    /**
     * The temporary directory a child's command line gives it: the last {@code
     * -Djava.io.tmpdir} (the JVM takes the last), else this JVM's, which it inherits.
     */
    static String tmpdirOf(List<String> argv) {
        String tmpdir = System.getProperty("java.io.tmpdir");
        for (String arg : argv) {
            if (arg.startsWith(TMPDIR_OPTION)) {
                tmpdir = arg.substring(TMPDIR_OPTION.length());
            }
        }
        return tmpdir;
    }

    private static final String TMPDIR_OPTION = "-Djava.io.tmpdir=";

    /** Marks the header that hands a process to a JVM booted ahead of time. */
    static final int HAND_OVER_MAGIC = 0x4d504a57; // "MPJW"

    /**
     * The most descriptors {@link #handOver} carries: the kernel takes at most
     * {@value Sockets#MAX_FDS_PER_MESSAGE} per message, and each byte of the header can be a
     * message of its own.
     */
    public static final int MAX_HAND_OVER_FDS = 8 * Sockets.MAX_FDS_PER_MESSAGE;

    /**
     * Hands {@code payload} to a JVM started by {@link #launch} with a socket and waiting in
     * {@link #receiveHandOver}: a header carrying {@code fds} (SCM_RIGHTS), then the payload.
     * Returns false, having sent nothing, when that JVM has already gone.
     *
     * @throws IOException if the header cannot be sent to a JVM that is still there (it then
     *         still waits, for nothing: the caller must retire it)
     * @throws IllegalArgumentException if there are more than {@link #MAX_HAND_OVER_FDS} fds
     */
    public static boolean handOver(Popen popen, byte[] payload, int[] fds) throws IOException {
        if (fds.length > MAX_HAND_OVER_FDS) {
            throw new IllegalArgumentException("at most " + MAX_HAND_OVER_FDS
                    + " descriptors fit in a hand-over, not " + fds.length);
        }
        if (popen.poll() != null) {
            return false;
        }
        int fd = popen.beginPayloadWrite();
        if (fd < 0) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment header = arena.allocate(8);
            header.set(JAVA_INT_UNALIGNED, 0, HAND_OVER_MAGIC);
            header.set(JAVA_INT_UNALIGNED, 4, fds.length);
            long done = 0;
            int sent = 0;
            while (done < 8) {
                // More descriptors than one message holds go a batch per header byte; the
                // receiver's recvmsg returns at most one batch per call, and adds them up.
                int batch = Math.min(fds.length - sent, Sockets.MAX_FDS_PER_MESSAGE);
                long length = sent + batch < fds.length ? 1 : 8 - done;
                long n = Sockets.sendmsg(fd, header.asSlice(done), length,
                        Arrays.copyOfRange(fds, sent, sent + batch));
                if (n <= 0) {
                    return false;
                }
                done += n;
                sent += batch;
            }
        } catch (ErrnoException e) {
            if (e.errno() == Posix.EPIPE || e.errno() == Posix.ECONNRESET) {
                return false; // it died while it waited
            }
            throw e;
        } finally {
            popen.endPayloadWrite();
        }
        sendPayload(popen, payload);
        return true;
    }

    /**
     * In a JVM started by {@link #launch} with a socket: tells the parent it has warmed up
     * (one byte the parent reads with {@link #reportedReady}).
     */
    public static void reportReady() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(1);
            Posix.write(BOOTSTRAP_FD, one, 1);
        } catch (ErrnoException e) {
            if (e.errno() != Posix.EPIPE && e.errno() != Posix.ECONNRESET) {
                throw e;
            }
            // The parent has gone or retired this JVM: the wait that follows sees the end.
        }
    }

    /**
     * Whether the JVM of {@code popen}, started with a socket and not yet handed a process, has
     * reported it is ready; reads the report. A JVM that has ended is not ready.
     */
    public static boolean reportedReady(Popen popen) {
        int fd = popen.beginPayloadWrite();
        if (fd < 0) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            if (Posix.pollOne(fd, Posix.POLLIN, 0) == 0) {
                return false;
            }
            return Posix.read(fd, arena.allocate(1), 1) == 1;
        } catch (ErrnoException e) {
            return false;
        } finally {
            popen.endPayloadWrite();
        }
    }

    /**
     * In a JVM started by {@link #launch} with a socket: waits for {@link #handOver}'s header
     * and returns the descriptors that came with it, or null when the parent closed the socket
     * (it has exited, or no longer needs this JVM).
     */
    public static int[] receiveHandOver() throws IOException {
        ReceivedFds fds = new ReceivedFds();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment header = arena.allocate(8);
            long done = 0;
            while (done < 8) {
                long n;
                try {
                    n = Sockets.recvmsg(BOOTSTRAP_FD, header.asSlice(done), 8 - done, fds);
                } catch (ErrnoException e) {
                    if (e.errno() != Posix.ECONNRESET) {
                        throw e;
                    }
                    n = 0; // the parent closed with our ready report unread: the same end
                }
                if (n == 0) {
                    if (done == 0 && fds.count == 0) {
                        return null;
                    }
                    throw new EOFException("the hand-over header was cut short");
                }
                if (n < 0) {
                    throw new IOException("descriptor " + BOOTSTRAP_FD + " is non-blocking");
                }
                done += n;
            }
            if (header.get(JAVA_INT_UNALIGNED, 0) != HAND_OVER_MAGIC
                    || header.get(JAVA_INT_UNALIGNED, 4)
                            != fds.count) {
                throw new IOException("descriptor " + BOOTSTRAP_FD
                        + " does not carry a multiprocessing hand-over");
            }
        }
        return Arrays.copyOf(fds.fds, fds.count);
    }

    /**
     * Closes a descriptor that came where none was expected. A class, which the full cache's
     * tour loads, not a method reference, which was spun in every waiting JVM.
     */
    static final class CloseStray implements IntConsumer {
        @Override
        public void accept(int fd) {
            Posix.closeQuietly(fd);
        }
    }

    /**
     * The descriptors a hand-over brings. A class, not a method reference to a list's
     * {@code add}: a capturing reference is spun at its first evaluation, which in a waiting
     * JVM is the hand-over itself, on its process's start (the AOT cache keeps no class spun
     * for a call site its trainer never reached).
     */
    static final class ReceivedFds implements IntConsumer {
        int[] fds = new int[4];
        int count;

        @Override
        public void accept(int fd) {
            if (count == fds.length) {
                fds = Arrays.copyOf(fds, 2 * count);
            }
            fds[count++] = fd;
        }
    }

    /**
     * The rest of the bootstrap channel after the hand-over header. It reads with recvmsg,
     * whose downcall the header's read has already bound (binding another costs milliseconds
     * in a fresh JVM), into a buffer allocated now, while the JVM waits.
     */
    public static InputStream bootstrapSocket() {
        MemorySegment buf = Arena.ofAuto().allocate(1 << 16);
        IntConsumer closeStray = new CloseStray();
        linkArrayCopies(); // read() copies into the caller's array
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                long n = Sockets.recvmsg(BOOTSTRAP_FD, buf, Math.min(len, buf.byteSize()),
                        closeStray);
                if (n <= 0) {
                    return -1;
                }
                MemorySegment.copy(buf, JAVA_BYTE, 0, b, off,
                        (int) n);
                return (int) n;
            }
        };
    }

    /**
     * Starts the child that writes the AOT cache (see {@link AotCache}) under the trainer
     * script, and a daemon thread that reaps it. A failure only means no cache this time.
     */
    private static void startTrainer(AotCache.Training training, Path executable,
            List<String> jvmOptions) {
        try {
            List<String> archive = new ArrayList<>(training.options());
            archive.addAll(AotCache.system().programClassesOption(training));
            List<String> java = commandLine(executable, archive,
                    trainerOptions(jvmOptions), training.classPath(), ChildMain.class.getName());
            // The program's tracker, as for its children: the tour's shared memory would
            // otherwise start a tracker of the trainer's own (a JVM more, beside the first child).
            int trackerFd = ResourceTracker.fdForChild();
            if (trackerFd >= 0) {
                java.add(1, ResourceTracker.childOption(FIRST_HANDLE_FD));
            }
            List<String> argv = new ArrayList<>(List.of(
                    "sh", "-c", AotCache.TRAINER_SCRIPT, "multiprocessing-aot-trainer",
                    training.output().toString(), training.target().toString(),
                    training.lock().toString(), training.failed().toString()));
            argv.addAll(java);
            Object process = training.kind() == AotCache.Kind.FULL ? AotCache.Exercise.create()
                    : Workout.leanProcess(training.kind() == AotCache.Kind.CHANNELS);
            Preparation exercise = new Preparation(process,
                    ProcessHandle.current().pid(), "MainProcess", "spawn", List.of(), null);
            // Written as any child's process is, with the key a child gets: without it the lean
            // tour's first new Process threw, and the cache lacked all that tour's child runs.
            Handles handles = Handles.spawning();
            byte[] data;
            try {
                data = Serialization.serializeForStart(exercise.process(), handles);
            } finally {
                handles.runAfterSend();
            }
            Popen trainer = start(AotCache.system().environment().shell().toString(), argv,
                    new int[0], trackerFd, false, false);
            // From now on the trainer's script holds the key (it removes the lock as it ends):
            // a lock that names this JVM would be taken as orphaned once this JVM is gone.
            ProcessHandle.of(trainer.pid()).ifPresent(sh -> AotCache.own(training.lock(), sh));
            // A class server no one runs, as every real child is given one: the child's loader
            // and its client (whose verification loads the socket classes) go into the cache.
            sendPayload(trainer, payload(exercise, data, 0, List.of(),
                    "/nonexistent/multiprocessing-aot-trainer/s"));
            LibraryThreads.platform().daemon().name("multiprocessing-aot-trainer").start(() -> {
                try {
                    trainer.await(null);
                    trainer.close();
                } catch (InterruptedException | RuntimeException ignored) {
                    // this JVM is ending; the script finishes without us
                }
            });
        } catch (IOException | RuntimeException | Error e) {
            // An Error too (no thread for its reaper): thrown from here, it would lose the
            // user's child, started already (review 40).
            training.abandon();
            multiprocessing.internal.util.LibraryLog.get().log(System.Logger.Level.DEBUG,
                    "multiprocessing: cannot start the AOT cache trainer", e);
        }
    }

    /**
     * The trainer dumps heap objects into the cache only under G1 (the default on most
     * machines, not all); its other options are the children's, so that the cache fits them.
     */
    private static List<String> trainerOptions(List<String> jvmOptions) {
        List<String> options = new ArrayList<>();
        if (!AotCache.choosesGc(jvmOptions) && !AotCache.choosesGc(inheritedOptions())) {
            options.add("-XX:+UseG1GC");
        }
        options.addAll(jvmOptions);
        return options;
    }

    /**
     * The bootstrap payload: the preparation's plain fields written by hand, then the process
     * object as serialized. Fory's record serializer spins up a dozen method handles and hidden
     * classes the first time it meets a record, ~20 ms of a fresh child's start, for a handful
     * of strings.
     */
    public static byte[] payload(Preparation preparation, byte[] data, int handleCount) {
        return payload(preparation, data, handleCount, List.of(), null);
    }

    /**
     * The payload for a child that must add {@code classPath} to its own (a forkserver JVM)
     * and may ask the class server at {@code classServer} (or null) for classes it lacks.
     */
    public static byte[] payload(Preparation preparation, byte[] data, int handleCount,
            List<String> classPath, String classServer) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(data.length + 256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(handleCount);
            out.writeLong(preparation.parentPid());
            writeString(out, preparation.parentName());
            writeString(out, preparation.startMethod());
            List<String> options = preparation.jvmOptions();
            out.writeInt(options == null ? -1 : options.size());
            if (options != null) {
                for (String option : options) {
                    writeString(out, option);
                }
            }
            writeString(out, preparation.logLevel());
            out.writeInt(preparation.forkserverMaxWarm());
            writeString(out, preparation.forkserverIdleTimeout());
            out.writeInt(classPath.size());
            for (String entry : classPath) {
                writeString(out, entry);
            }
            writeString(out, classServer);
            byte[] key = ProcessAccess.get().keyToCarry(preparation.process());
            out.writeInt(key == null ? -1 : key.length);
            if (key != null) {
                out.write(key);
            }
            out.writeInt(data.length);
            out.write(data);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return bytes.toByteArray();
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    /** Reads what {@link #payload} wrote after the magic number and the handle count. */
    static Preparation readPreparation(DataInputStream in, Handles handles) throws IOException {
        long parentPid = in.readLong();
        String parentName = readString(in);
        String startMethod = readString(in);
        int count = in.readInt();
        List<String> options = null;
        if (count >= 0) {
            options = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                options.add(readString(in));
            }
        }
        String logLevel = readString(in);
        int maxWarm = in.readInt();
        String idleTimeout = readString(in);
        List<String> classPath = new ArrayList<>();
        for (int i = in.readInt(); i > 0; i--) {
            classPath.add(readString(in));
        }
        // Before the process is read: its classes may be the ones this loader finds.
        ChildLoader.install(classPath, readString(in));
        int keyLength = in.readInt();
        byte[] key = null;
        if (keyLength >= 0) {
            key = new byte[keyLength];
            in.readFully(key);
        }
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        if (Serialization.linksAtStart(data)) {
            // A process holding a channel (a queue's producer, a manager's server) makes its
            // first native call soon after this read: the FFM linker makes the libc layer's
            // stub meanwhile, on the other CPU (~15 ms of a fresh JVM's time;
            // bench/RESULTS.md, eighteenth session). A call that comes first waits for it.
            LibraryThreads.platform().daemon().name("multiprocessing-link-ahead")
                    .start(new LinkAhead());
        }
        Object process = Serialization.deserializeAtStart(data, handles);
        ProcessAccess.get().receiveKey(process, key);
        return new Preparation(process, parentPid, parentName, startMethod, options, logLevel,
                maxWarm, idleTimeout);
    }

    /**
     * The link-ahead thread's body: a class, not a method reference, so that a cache's trainer
     * (whose payload holds no channel) can load it (Workout): a lambda it never ran is spun
     * in every child that holds a channel, the first one with its method handle forms.
     */
    static final class LinkAhead implements Runnable {
        @Override
        public void run() {
            Posix.getpid();
            linkArrayCopies(); // a channel's first receive copies into an array
        }
    }

    /**
     * Copies between a segment and an array once, on a thread that would otherwise wait: the
     * JDK's first such copy in a JVM spins the type switch that picks the array's element
     * size ({@code jdk.internal.foreign.Utils.BaseAndScale}), a class the AOT cache does not
     * keep, ~1-2 ms of a fresh JVM's time. Otherwise it falls to a channel's first receive, or
     * to the hand-over that a waiting JVM's process starts with.
     */
    public static void linkArrayCopies() {
        byte[] one = new byte[1];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment.copy(arena.allocate(1), JAVA_BYTE, 0, one, 0, 1);
        }
    }

    private static String readString(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            return null;
        }
        byte[] utf8 = new byte[length];
        in.readFully(utf8);
        return new String(utf8, StandardCharsets.UTF_8);
    }

    /**
     * Writes the payload. The child reads only once its JVM is up, so a write the pipe cannot
     * take at once would hold start() for the child's boot. Most payloads are a few KiB: the
     * first 16 KiB are written here, which a pipe of the default size (64 KiB) takes at once;
     * the rest, if any, by a background thread. A user past
     * {@code fs.pipe-user-pages-soft} gets pipes of two pages, which a payload of more than
     * 8 KiB fills: start() then waits for the child to read, no worse.
     */
    public static void sendPayload(Popen popen, byte[] payload) {
        MemorySegment from = Arena.ofAuto().allocate(payload.length);
        MemorySegment.copy(MemorySegment.ofArray(payload), 0, from, 0, payload.length);
        int fd = popen.beginPayloadWrite();
        int firstChunk = Math.min(payload.length, 16 * 1024);
        long done;
        try {
            done = writeSome(fd, from, 0, firstChunk);
        } finally {
            popen.endPayloadWrite();
        }
        if (done < 0 || done == payload.length) {
            return;
        }
        long start = done;
        // Held until the writer is done: a child reaped meanwhile (killed, or its JVM failed
        // to start) must not get the descriptor closed under a write whose number another
        // open could then reuse, sending the rest of the payload into an unrelated file.
        int writerFd = popen.beginPayloadWrite();
        if (writerFd < 0) {
            return;
        }
        Runnable writeRest = () -> {
            try {
                writeSome(writerFd, from, start, payload.length);
            } finally {
                popen.endPayloadWrite();
            }
        };
        try {
            RefusedStart.start(LibraryThreads.platform().daemon(), "multiprocessing-spawn-writer",
                    writeRest);
        } catch (RefusedStart.NoThread e) {
            // The child runs already: rather than leave it waiting for the rest, which would
            // never come, write it here, as the child reads it (or is found dead).
            writeRest.run();
        } catch (RuntimeException | Error e) {
            popen.endPayloadWrite();
            throw e;
        }
    }

    /** Writes bytes [from, to); a child that died before reading is not an error here. */
    private static long writeSome(int fd, MemorySegment data, long from, long to) {
        long done = from;
        try {
            while (done < to) {
                MemorySegment rest = data.asSlice(done, to - done);
                long n = Posix.write(fd, rest, rest.byteSize());
                if (n <= 0) {
                    return -1;
                }
                done += n;
            }
        } catch (ErrnoException e) {
            return -1; // EPIPE: the child is gone; its exit code will say why
        }
        return done;
    }

    static List<String> commandLine(Path executable, List<String> archiveOptions,
            List<String> jvmOptions) {
        return commandLine(executable, archiveOptions, jvmOptions, null,
                ChildMain.class.getName());
    }

    /**
     * @param childClassPath the class path the archive asks for, or null for this JVM's
     * @param mainClass      the child's entry point
     */
    static List<String> commandLine(Path executable, List<String> archiveOptions,
            List<String> jvmOptions, String childClassPath, String mainClass) {
        List<String> argv = new ArrayList<>();
        argv.add(executable.toString());
        argv.addAll(libraryOptions(jvmOptions));
        argv.addAll(archiveOptions);
        // Last, so that where the JVM lets a later option win, the user's do.
        argv.addAll(jvmOptions);
        String modulePath = System.getProperty("jdk.module.path");
        boolean named = Spawner.class.getModule().isNamed();
        String classPath = childClassPath != null ? childClassPath
                : ClassReach.libraryClassPath();
        if (modulePath != null && !modulePath.isEmpty()) {
            BootModules.Selection boot = BootModules.nameModules(jvmOptions) ? null
                    : BootModules.fromModulePath();
            argv.addAll(LongArguments.of("--module-path",
                    boot != null ? boot.modulePath() : modulePath));
            // A main class in a named module makes only that module a root: without
            // ALL-DEFAULT, jdk.unsupported (Fory's Unsafe) would be missing in the child.
            argv.addAll(LongArguments.of("--add-modules",
                    "ALL-DEFAULT," + (boot != null ? boot.names() : "ALL-MODULE-PATH")));
            argv.addAll(parentModuleOptions());
        }
        if (classPath != null && !classPath.isEmpty()) {
            argv.addAll(LongArguments.of("-cp", classPath));
        }
        if (named) {
            argv.add("-m");
            argv.add("multiprocessing/" + mainClass);
        } else {
            argv.add(mainClass);
        }
        return argv;
    }

    /**
     * The parent's own module options (--add-opens, --add-exports, --add-reads, ...): a
     * library on the module path usually needs them, and the child runs the same code. Read
     * from the runtime MXBean, not the command line as {@link ParentOptions} reads it: the
     * JVM's list holds its options alone (an application argument spelled like one is not
     * taken), each with its value joined ({@code --add-opens=m/p=t}, however it was written),
     * and those of {@code JDK_JAVA_OPTIONS}; only a program on the module path pays for the
     * management classes.
     */
    static List<String> parentModuleOptions() {
        List<String> options = new ArrayList<>();
        for (String arg : java.lang.management.ManagementFactory.getRuntimeMXBean()
                .getInputArguments()) {
            if (arg.startsWith("--add-opens") || arg.startsWith("--add-exports")
                    || arg.startsWith("--add-reads") || arg.startsWith("--patch-module")
                    || arg.startsWith("--limit-modules") || arg.startsWith("--upgrade-module-path")
                    || (arg.startsWith("--add-modules") && !options.contains(arg))) {
                options.add(arg);
            }
        }
        return options;
    }

    /** What of this JVM's own command line every child must have too. */
    private static final class ParentOptions {
        /** Whether this JVM runs with {@code --enable-preview}. */
        static final boolean PREVIEW = arguments().contains("--enable-preview");

        /**
         * This JVM's arguments, from its command line as the kernel has it
         * ({@code /proc/self/cmdline}: no management classes loaded for it, and not
         * ProcessHandle's info, which also looks the user up, through NSS); an argument
         * file's expanded by the JVM's own list.
         */
        private static List<String> arguments() {
            List<String> args;
            try {
                String line = new String(Files.readAllBytes(Path.of("/proc/self/cmdline")),
                        java.nio.charset.StandardCharsets.ISO_8859_1);
                args = List.of(line.split("\0"));
            } catch (IOException | RuntimeException e) {
                args = List.of();
            }
            if (args.stream().anyMatch(a -> a.startsWith("@"))) {
                return java.lang.management.ManagementFactory.getRuntimeMXBean()
                        .getInputArguments();
            }
            return args;
        }
    }

    /** What the library itself needs in every child, given the user's options. */
    static List<String> libraryOptions(List<String> userOptions) {
        List<String> options = new ArrayList<>();
        // SIGTERM must end the child by the signal (exit code -15), not by a JVM shutdown.
        options.add("-Xrs");
        // -Xrs also makes HotSpot open its attach listener at start (jcmd can no longer ask
        // for it by SIGQUIT): a thread and a socket file /tmp/.java_pid<pid> in every child,
        // left behind by each child that terminate() or kill() ends. Off, unless the user's
        // options turn it back on (-XX:-DisableAttachMechanism, to jcmd a child).
        options.add("-XX:+DisableAttachMechanism");
        options.add("--enable-native-access="
                + (Spawner.class.getModule().isNamed() ? "multiprocessing" : "ALL-UNNAMED"));
        if (ParentOptions.PREVIEW && !userOptions.contains("--enable-preview")) {
            // A program compiled with preview features: its children load the same classes
            // (attack 40: each failed with UnsupportedClassVersionError).
            options.add("--enable-preview");
        }
        if (Runtime.version().feature() >= 23) {
            // Fory uses sun.misc.Unsafe; without this JDK 24+ prints a warning in every child.
            options.add("--sun-misc-unsafe-memory-access=allow");
        }
        // Start-up defaults, measured (bench/RESULTS.md): a child starts 5-10 ms sooner with the
        // serial collector and no hsperfdata file. Serial also suits one JVM per core better
        // than each child running G1's threads. A user's own collector would conflict with
        // ours, so then none; -XX:+UsePerfData from the user wins, coming later.
        // The environment's options count as the user's: a collector chosen in
        // JAVA_TOOL_OPTIONS (as containers do) beside ours stopped every child from starting
        // ("Multiple garbage collectors selected": attack 48).
        if (!AotCache.choosesGc(userOptions) && !AotCache.choosesGc(inheritedOptions())) {
            options.add("-XX:+UseSerialGC");
        }
        options.add("-XX:-UsePerfData");
        // Footprint defaults, measured (bench/RESULTS.md, "What one child costs"). Since JDK 20
        // the JVM maps its class archive (the AOT cache) at a random address and relocates it,
        // writing every page: each child then holds a private copy of ~20 MB that children
        // could share. Mapped where it was written, the pages stay clean and shared: an idle
        // child's PSS fell from 42 to 35 MB (four at once). The price is the archive's address
        // randomisation, which JDKs before 20 never had; -XX:ArchiveRelocationMode=1 in the
        // user's options (later, so it wins) restores it.
        options.add("-XX:+UnlockDiagnosticVMOptions");
        options.add("-XX:ArchiveRelocationMode=0");
        // The C2 compiler's arenas go back to malloc after the start path's burst of
        // compilation (HotSpot's chunk pool frees them every 5 s), but glibc keeps the pages:
        // trimming gives an idle child ~7 MB back (29 -> 22 MB PSS). Every second, not every
        // 5: trims that follow the pool's by up to 5 s left an idle child with those pages
        // for ~11 s; now ~6 s, for no more idle CPU (0.5 ms/s either way; bench/RESULTS.md,
        // sixteenth session).
        options.add("-XX:TrimNativeHeapInterval=1000");
        // A child's start is run-once code (class initialisation, building the serializer),
        // yet enough of it crosses the compile thresholds that the two JIT compilers took
        // about as much CPU as the start itself. With the thresholds doubled a no-op child
        // used 13% less CPU and started 8% sooner, and a fresh producer child's queue puts ran
        // as fast (bench/RESULTS.md, seventh session); code that runs hot is still compiled,
        // a little later. The user's own -XX:CompileThresholdScaling comes later and wins.
        options.add("-XX:CompileThresholdScaling=2");
        // A child's private directories go where its parent looks for what a killed child
        // left, and where the next JVM sweeps (TempDir, TempDirSweeper); CPython's children
        // inherit TMPDIR, and with it their temporary directory, the same way.
        String tmpdir = System.getProperty("java.io.tmpdir");
        if (tmpdir != null && !tmpdir.equals("/tmp")) {
            options.add(TMPDIR_OPTION + tmpdir);
        }
        String sweep = System.getProperty(TempDirSweeper.PROPERTY);
        if (sweep != null) {
            options.add("-D" + TempDirSweeper.PROPERTY + "=" + sweep);
        }
        // The AOT cache settings hold for the whole tree, a child's own children included.
        for (String property : List.of(AotCache.ENABLED_PROPERTY, AotCache.LEAN_PROPERTY,
                AotCache.DIR_PROPERTY)) {
            String value = System.getProperty(property);
            if (value != null) {
                options.add("-D" + property + "=" + value);
            }
        }
        // A child decodes what its parent sends, and the other way round: one policy for both.
        for (String property : Serialization.INHERITED_PROPERTIES) {
            String value = System.getProperty(property);
            if (value != null) {
                options.add("-D" + property + "=" + value);
            }
        }
        return options;
    }

    /**
     * This JVM's environment, for a child: as it is, but for the options that make a JVM
     * write a class archive as it exits, which {@code JDK_JAVA_OPTIONS},
     * {@code JAVA_TOOL_OPTIONS} and {@code _JAVA_OPTIONS} would give every child too (attack
     * 40: each child recorded the program's cache over the others', printing hundreds of
     * warnings and exiting seconds late). A child's archive is the library's to choose
     * ({@link AotCache}).
     */
    private static List<String> environment() {
        List<String> env = new ArrayList<>();
        for (Map.Entry<String, String> e : System.getenv().entrySet()) {
            String value = e.getValue();
            if (OPTION_VARIABLES.contains(e.getKey())) {
                value = withoutArchiveChoices(value);
            }
            env.add(e.getKey() + "=" + value);
        }
        return env;
    }

    /** The variables in which the java launcher and the JVM take options from the environment. */
    public static final List<String> OPTION_VARIABLES =
            List.of("JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS");

    private static volatile List<String> inherited;

    /**
     * The JVM options a child takes from the environment it inherits ({@link #environment()}):
     * they count as the user's where the library's own options would conflict with them.
     */
    static List<String> inheritedOptions() {
        List<String> options = inherited;
        if (options == null) {
            List<String> all = new ArrayList<>();
            for (String variable : OPTION_VARIABLES) {
                String value = System.getenv(variable);
                if (value != null && !value.isBlank()) {
                    for (String option : withoutArchiveChoices(value).trim().split("\\s+")) {
                        addExpanded(option, all, 0);
                    }
                }
            }
            inherited = options = List.copyOf(all);
        }
        return options;
    }

    /**
     * Adds {@code option}, or the options of the file it names ({@code @file} in
     * JDK_JAVA_OPTIONS, {@code -XX:VMOptionsFile=}), roughly as the launcher reads them: a
     * collector named there conflicted with the library's as well (attack 50).
     */
    private static void addExpanded(String option, List<String> into, int depth) {
        if (option.isEmpty()) {
            return;
        }
        String file = option.startsWith("@") ? option.substring(1)
                : option.startsWith("-XX:VMOptionsFile=")
                        ? option.substring("-XX:VMOptionsFile=".length()) : null;
        if (file == null || depth > 4) {
            into.add(option);
            return;
        }
        try {
            for (String inner : Files.readString(Path.of(file)).trim().split("\\s+")) {
                addExpanded(inner.replace("\"", ""), into, depth + 1);
            }
        } catch (IOException | RuntimeException unreadable) {
            into.add(option); // the JVM cannot read it either
        }
    }

    /**
     * {@code options} (blank-separated) without those that write an archive at exit or name
     * an AOT cache: a child's cache is the library's (an inherited -XX:AOTCache, as README's
     * recipe for the program's own cache puts in JDK_JAVA_OPTIONS, made every trainer fail
     * with "Only one of AOTCache or AOTCacheOutput", and from _JAVA_OPTIONS, read after the
     * command line, it replaced the library's: review 52).
     */
    static String withoutArchiveChoices(String options) {
        // Cut out of the text as it is: split and joined again, a quoted value's blanks
        // ("-Dg=\"a   b\"") came out as one (attack 50).
        StringBuilder out = new StringBuilder();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\S+").matcher(options);
        int copied = 0;
        boolean dropped = false;
        while (m.find()) {
            String option = m.group();
            if (AotCache.writesArchive(option) || option.startsWith("-XX:AOTCache=")
                    || option.startsWith("-XX:AOTMode=")) {
                out.append(options, copied, m.start());
                copied = m.end();
                dropped = true;
            }
        }
        return dropped ? out.append(options, copied, options.length()).toString().trim() : options;
    }

    /** The java launcher of this JVM. */
    public static Path defaultExecutable() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        if (!Files.isExecutable(java)) {
            throw new IllegalStateException("no java launcher at " + java
                    + "; set one with Multiprocessing.setExecutable");
        }
        return java;
    }
}
