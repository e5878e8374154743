package multiprocessing.internal.spawn;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import multiprocessing.JoinableQueue;
import multiprocessing.Queue;
import multiprocessing.SerializableRunnable;
import multiprocessing.SimpleQueue;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.sharedctypes.Array;
import multiprocessing.sharedctypes.RawArray;
import multiprocessing.sharedctypes.RawValue;
import multiprocessing.sharedctypes.SharedByteArray;
import multiprocessing.sharedctypes.SharedDouble;
import multiprocessing.sharedctypes.SharedDoubleArray;
import multiprocessing.sharedctypes.SharedInt;
import multiprocessing.sharedctypes.SharedIntArray;
import multiprocessing.sharedctypes.SharedLong;
import multiprocessing.sharedctypes.SharedLongArray;
import multiprocessing.sharedmemory.ShareableList;
import multiprocessing.sharedmemory.SharedMemory;
import multiprocessing.synchronize.Barrier;
import multiprocessing.synchronize.BoundedSemaphore;
import multiprocessing.synchronize.Condition;
import multiprocessing.synchronize.Event;
import multiprocessing.synchronize.RLock;
import multiprocessing.synchronize.Semaphore;
import multiprocessing.connection.Pipe;
import multiprocessing.internal.pool.PoolAccess;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.internal.wait.Parker;
import multiprocessing.internal.wait.PipeStream;
import multiprocessing.managers.AcquirerProxy;
import multiprocessing.managers.DictProxy;
import multiprocessing.managers.ListProxy;
import multiprocessing.managers.QueueProxy;
import multiprocessing.managers.Server;
import multiprocessing.managers.SyncManager;
import multiprocessing.sharedctypes.Value;
import multiprocessing.synchronize.Lock;
import multiprocessing.internal.util.LibraryLog;

/**
 * What the AOT cache's trainer does after the start-up path, in two strengths: a <em>tour</em>,
 * always, that goes once through each of the library's paths a child commonly takes (a Queue,
 * a Pipe, a Lock and a Value, a pool's worker loop, a manager's server and client), so that
 * their classes, their linked call sites and the FFM linker's classes are in the cache every
 * child maps; and a <em>workout</em>, on request, that drives the hot paths long enough for
 * their method profiles (JEP 515) to be recorded too.
 *
 * <p>Implementation note. With the no-op exercise alone, a pool's worker still loaded ~520
 * classes after its start and a manager's server ~1,250 (the FFM linker's, the serializers of
 * their messages, the manager's own), read from jars and the JDK's modules and linked while the
 * child ran interpreted (see bench/RESULTS.md, sixth session). The tour moves them into the
 * cache. Each part of it fails alone: what went before is in the cache either way.
 *
 * <p>The workout is off unless the children's options carry
 * {@code -Dmultiprocessing.aotWorkout=true} (-D options are not in the cache key, so the
 * trainer gets it from the same options): measured on 2026-12-03 (bench/RESULTS.md ("Where a
 * spawn's milliseconds go")), a fresh producer child putting 200,000 Integers and 50,000 4 KiB
 * items into a Queue read by its parent ran no faster with the profile-carrying cache than with
 * the plain one (0.16-1.16 M vs 0.42-1.25 M small items/s over 20 children each, on a 2-vCPU
 * machine at load 5-6), while the cache grew by 3.6 MB (22.2 to 25.8) and the trainer ran 2-3 s
 * longer. A quiet machine may show a difference the noise hid there; until one does, it costs
 * every user for nothing.
 *
 * <p>Everything is private to this process (a Queue put to and read by itself, both ends of a
 * Pipe, a manager served and called here, a worker fed here), in batches smaller than a ring or
 * a pipe holds. The worker's rehearsal bounds its own waits; the trainer as a whole is bounded
 * by {@link AotCache.Exercise#run}, which ends the JVM (writing the cache) whatever a part
 * does. The workout's counts reach the JIT's top tier (Tier4CompileThreshold is 15,000 calls,
 * doubled to 30,000 by the children's {@code -XX:CompileThresholdScaling=2}, which the trainer
 * gets too), so that the recorded profiles are those of warmed code.
 */
final class Workout {
    private Workout() {}

    static final int SMALL = 30_000;
    static final int LARGE = 6_000;
    static final int MESSAGES = 4_000;
    static final int LOCKS = 30_000;
    static final int BATCH = 500;


    /**
     * The tour: each common path, a few calls each.
     *
     * @return what failed, each with its exception (empty when all went through)
     */
    static List<String> tour() {
        List<String> failed = new ArrayList<>();
        part(failed, "queues, pipes and locks", () -> paths(BATCH, BATCH / 10, 10, 10));
        part(failed, "a pool's worker", () -> PoolAccess.get().rehearseWorker(false));
        part(failed, "a manager", () -> manager(true));
        part(failed, "a child's payload with channels", () -> channelsPayload(false));
        part(failed, "a child's payload with channels, through Fory",
                () -> channelsPayload(true));
        part(failed, "the start methods' contexts", Workout::contexts);
        // As the lean tour does: a waiting forkserver JVM maps this cache, and every process
        // it ran that held a condition, an event, a barrier, a typed value or a ShareableList
        // read their classes from the jar.
        part(failed, "locks and shared values", Workout::sharedObjects);
        // A waiting forkserver JVM maps this cache: what its processes do before their
        // targets (a daemon's parent watcher, read from the jar in each, a pool's workers).
        part(failed, "a child's own waits", Workout::childsOwnWaits);
        part(failed, "a warm JVM's entry point", () -> {
            Class.forName(WARM_MAIN, false, Workout.class.getClassLoader());
            Class.forName(WARM_MAIN + "$WhenIdle", false, Workout.class.getClassLoader());
        });
        return failed;
    }

    /**
     * The class a JVM waiting in the fork server starts with, which only such a JVM loads: by
     * name, as this package does not depend on the fork server's.
     */
    private static final String WARM_MAIN = "multiprocessing.internal.forkserver.WarmMain";

    /**
     * The channels' classes, loaded (not initialized): a lean child whose lambda's class also
     * has a lambda that captures a queue (both written in one {@code main}, as programs do)
     * loads {@code Queue} to read its own, through that class's {@code $deserializeLambda$},
     * and read it from the jar (attack 17).
     */
    private static void channelClasses() throws ClassNotFoundException {
        for (String name : List.of("multiprocessing.Queue", "multiprocessing.JoinableQueue",
                "multiprocessing.SimpleQueue", "multiprocessing.connection.Connection",
                "multiprocessing.connection.Pipe")) {
            Class.forName(name, false, Workout.class.getClassLoader());
        }
    }

    /**
     * What a child that holds a queue and a connection reads before its target (their
     * reducers, the heap block's receipt behind the queue), as {@link #sharedObjects} does for
     * the lean cache: without it such a child read six of the library's classes from the jar
     * (attack 17).
     */
    private static void channelsPayload(boolean throughFory) throws Exception {
        // The other queues too, whose reducers a child holding one read from the jar.
        try (Queue<Object> queue = new Queue<>(); Pipe pipe = Pipe.open();
                Pipe simplex = Pipe.open(false); // a pipe(2), not a socket: its own calls
                JoinableQueue<Object> joinable = new JoinableQueue<>();
                SimpleQueue<Object> simple = new SimpleQueue<>()) {
            // A sorted map sends the whole payload through Fory (as a program's record does),
            // whose reading of the reduced objects in it the full cache then holds too.
            Object extra = throughFory ? new java.util.TreeMap<>(java.util.Map.of("k", 1)) : "k";
            SerializableRunnable target = () -> {
                queue.put("put");
                pipe.right().send("sent");
                joinable.put("joined");
                simple.put("simple");
                simplex.right().send("one way");
                // A wait on connections (Python's connection.wait), whose classes and lambdas
                // a child that waited so read from the jar and spun.
                multiprocessing.connection.Connections.await(java.util.List.of(pipe.right()),
                        java.time.Duration.ofMillis(1));
                extra.hashCode();
            };
            readAsAChildAndRun(target);
            queue.get(java.time.Duration.ofSeconds(5));
            pipe.left().recv();
            joinable.get(java.time.Duration.ofSeconds(5));
            joinable.taskDone();
            simple.get();
            simplex.left().recv();
        }
    }

    /**
     * Writes a process of {@code target} as a start does and reads it back as its child does
     * (the descriptors duplicated, as the child receives its own), then runs it here.
     */
    private static void readAsAChildAndRun(SerializableRunnable target) throws Exception {
        Handles sent = Handles.spawning();
        byte[] data = Serialization.serializeForStart(new multiprocessing.Process(target), sent);
        int[] fds = sent.fds().clone();
        for (int i = 0; i < fds.length; i++) {
            fds[i] = Posix.dup(fds[i]); // the child's own copies, as it receives them
        }
        sent.runAfterSend();
        ((multiprocessing.Process) Serialization.deserializeAtStart(data,
                Handles.received(fds))).run();
    }

    /**
     * A child makes its own start method's context before its target: one started by a
     * forkserver context read that context's classes from the jar (they were in no cache),
     * which for a large jar cost the child ~20 ms of CPU, most of it reading the jar's index.
     */
    private static void contexts() {
        for (String method : multiprocessing.Multiprocessing.getAllStartMethods()) {
            multiprocessing.Multiprocessing.getContext(method);
        }
    }

    /**
     * The trainer process of a lean cache ({@link AotCache.Kind#LEAN}, or with
     * {@code channels} {@link AotCache.Kind#CHANNELS}): its target captures nothing, so it
     * comes as a plain payload and runs as such a child's does, then takes its tour.
     */
    static Object leanProcess(boolean channels) {
        return ProcessAccess.get().unnumberedProcess(channels ? Workout::channelsTrainer
                : Workout::leanTrainer);
    }

    /** The lean trainer's target: {@link #leanTour}, bounded as the full trainer is. */
    private static void leanTrainer() {
        AotCache.Exercise.endWithinTheLimit();
        AotCache.loadProgramClasses();
        leanTour();
        AotCache.Exercise.done();
    }

    /** The channels trainer's target: {@link #channelsTour}, bounded as the full trainer is. */
    private static void channelsTrainer() {
        AotCache.Exercise.endWithinTheLimit();
        AotCache.loadProgramClasses();
        channelsTour();
        AotCache.Exercise.done();
    }

    /**
     * What a child that never builds Fory commonly does: the locks, an event, shared values
     * and shared memory, each made here, written in a process's payload and read back as a
     * child reads them, then used. Nothing of it builds Fory: its classes would be in the
     * lean cache, and the trainer would mark the key as one whose lean children build it.
     *
     * @return what failed, each with its exception (empty when all went through)
     */
    static List<String> leanTour() {
        List<String> failed = new ArrayList<>();
        leanPart(failed, "locks and shared values", Workout::sharedObjects);
        leanPart(failed, "a child's own waits", Workout::childsOwnWaits);
        leanPart(failed, "the start methods' contexts", Workout::contexts);
        leanPart(failed, "the channels' classes", Workout::channelClasses);
        return failed;
    }

    /**
     * The {@link #leanTour}, then a pool's worker and a manager with only what travels without
     * Fory (numbers, strings, plain lambdas), as the workers of most pools and the servers of
     * most managers run ({@link AotCache.Kind#CHANNELS}). Nothing of it builds Fory either.
     *
     * @return what failed, each with its exception (empty when all went through)
     */
    static List<String> channelsTour() {
        List<String> failed = leanTour();
        leanPart(failed, "a pool's worker, plain tasks",
                () -> PoolAccess.get().rehearseWorker(true));
        leanPart(failed, "a manager, plain calls", () -> manager(false));
        leanPart(failed, "a child's payload with channels", () -> channelsPayload(false));
        return failed;
    }

    /**
     * What a child does that a tour within one process cannot: it checks that the heap arenas
     * it attaches belong to its user ({@code geteuid}), and a daemon child watches its parent's
     * pipe ({@link Parker#awaitFd}, or with the JDK's I/O until the libc layer is linked:
     * {@code ChildMain.readUntilEnd}). Their classes (the downcalls' holders, poll's structure)
     * are then in the cache instead of read and verified from the jar in every such child.
     */
    private static void childsOwnWaits() throws Exception {
        // The bodies of a daemon child's parent watcher, of the thread that links ahead in a
        // child holding a channel and of the one that watches a child's end, and what takes a
        // hand-over's descriptors, which a trainer (none of those) never runs: loaded here.
        for (Class<?> body : List.of(ChildMain.ParentWatcher.class, Spawner.LinkAhead.class,
                ChildMain.EndWatch.class, Spawner.ReceivedFds.class, Spawner.CloseStray.class,
                IdleTarget.class)) {
            body.getName();
        }
        Posix.geteuid();
        int[] pipe = Posix.pipe(Posix.O_CLOEXEC);
        try {
            Parker.awaitFd(pipe[0], Posix.POLLIN, 1_000_000L, true);
            // A one-way pipe's end in a child that has not linked the libc layer (a pool's
            // worker; see Connection), and a daemon child's watch: the JDK's I/O, a byte
            // written and read, then a read to the pipe's end.
            try (PipeStream out = PipeStream.open(pipe[1], false)) {
                MemorySegment one = MemorySegment.ofArray(new byte[1]);
                out.writeFully(one, 1);
                try (PipeStream in = PipeStream.open(pipe[0], true)) {
                    if (in.readFully(one, 1, Parker.SPIN_NANOS) != 1) {
                        throw new IllegalStateException("the JDK's read got nothing");
                    }
                }
            }
            Posix.closeQuietly(pipe[1]);
            pipe[1] = -1;
            if (ChildMain.readUntilEnd(pipe[0]) != ChildMain.GONE) {
                throw new IllegalStateException("the watch's read did not see the pipe's end");
            }
        } finally {
            Posix.closeQuietly(pipe[0]);
            if (pipe[1] >= 0) {
                Posix.closeQuietly(pipe[1]);
            }
        }
    }

    private static void sharedObjects() throws Exception {
        Lock lock = new Lock();
        RLock rLock = new RLock();
        Semaphore semaphore = new Semaphore(1);
        BoundedSemaphore bounded = new BoundedSemaphore(1);
        Condition condition = new Condition();
        Event event = new Event();
        Event unset = new Event();
        Event woken = new Event();
        Barrier barrier = new Barrier(1);
        Value value = Value.of("i", 0);
        Array array = Array.of("d", 4);
        // The typed views too (README's RawValue.ofInt): a child holding one read their
        // classes from the jar, the tour having made only the typecode forms.
        SharedInt anInt = RawValue.ofInt(0);
        SharedLong aLong = RawValue.ofLong(0);
        SharedDouble aDouble = RawValue.ofDouble(0);
        SharedIntArray ints = RawArray.ofInts(2);
        SharedLongArray longs = RawArray.ofLongs(2);
        SharedDoubleArray doubles = RawArray.ofDoubles(2);
        SharedByteArray bytes = RawArray.ofBytes(2);
        SharedMemory memory = SharedMemory.create(4096);
        ShareableList list = ShareableList.create(java.util.Arrays.asList(
                1, 2.0, true, "three", new byte[] {4}, null));
        try {
            String name = memory.name();
            String listName = list.shm().name();
            SerializableRunnable target = () -> {
                lock.acquire();
                lock.release();
                rLock.acquire();
                rLock.release();
                semaphore.acquire();
                semaphore.release();
                bounded.acquire();
                bounded.release();
                condition.acquire();
                condition.await(java.time.Duration.ofMillis(1));
                condition.release();
                event.set();
                event.await(java.time.Duration.ofMillis(1));
                // Sleeps that time out: a child waiting on an Event or a Condition parks in
                // the kernel, and without these its cache lacked the sleeping path's classes
                // (the parker, the futex, the registration of the events with Flight Recorder,
                // whose event classes the cache refuses): read and verified from the jar in
                // every such child.
                unset.await(java.time.Duration.ofMillis(1));
                // A set() that wakes a sleeper, as a child's set() of an Event its parent
                // waits on: the waker's path (this JVM's parked virtual threads first, then
                // the futex), whose class the cache lacked, was read from the jar.
                Thread sleeper = LibraryThreads.platform().daemon()
                        .name("multiprocessing-aot-tour-sleeper")
                        .start(() -> woken.await(java.time.Duration.ofSeconds(5)));
                // Long enough for the sleeper to be asleep on a busy machine (no state of it
                // says so): a set() before that wakes nobody, and the path is left out.
                Thread.sleep(200);
                woken.set();
                sleeper.join(5_000);
                barrier.await();
                value.acquire();
                value.getObj().value((Integer) value.getObj().value() + 1);
                value.release();
                array.set(0, 1.0);
                array.get(0);
                anInt.addAndGet(1);
                aLong.addAndGet(1);
                aDouble.addAndGet(1);
                ints.getAndAdd(0, 1);
                longs.getAndAdd(0, 1);
                doubles.set(0, doubles.get(0) + 1);
                bytes.set(0, (byte) (bytes.get(0) + 1));
                ints.toArray();
                longs.toArray();
                doubles.toArray();
                bytes.toArray();
                try (SharedMemory attached = SharedMemory.attach(name)) {
                    attached.buf().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 1);
                }
                // A ShareableList attached by name, read and written (its classes were read
                // from the jar in every child that did).
                ShareableList attachedList = ShareableList.attach(listName);
                try {
                    for (int i = 0; i < attachedList.size(); i++) {
                        attachedList.set(i, attachedList.get(i));
                    }
                } finally {
                    attachedList.close();
                }
            };
            readAsAChildAndRun(target);
        } finally {
            memory.close();
            memory.unlink();
            list.close();
            list.shm().unlink();
        }
    }

    /** The workout: the hot paths, past the JIT's thresholds. */
    static void run() throws IOException {
        paths(SMALL, LARGE, MESSAGES, LOCKS);
    }

    private interface Part {
        void run() throws Exception;
    }

    /** As {@link #part}; one that builds Fory (in a JVM that had not) failed too. */
    private static void leanPart(List<String> failed, String what, Part part) {
        boolean before = Serialization.built();
        part(failed, what, part);
        if (!before && Serialization.built()) {
            failed.add(what + ": built Fory");
        }
    }

    private static void part(List<String> failed, String what, Part part) {
        try {
            part.run();
        } catch (Throwable e) {
            // Whatever it was (the trainer has the children's options: a small -Xmx, -ea), the
            // trainer goes on to exit 0 and write what it has loaded.
            failed.add(what + ": " + e);
            LibraryLog.get().log(System.Logger.Level.DEBUG,
                    "multiprocessing: the trainer's tour of " + what
                    + " failed", e);
        }
    }

    private static void paths(int small, int large, int messages, int locks) throws IOException {
        try (Queue<Object> q = new Queue<>()) {
            byte[] bytes = new byte[4096];
            for (int done = 0; done < small; done += BATCH) {
                for (int i = 0; i < BATCH; i++) {
                    q.put(done + i);
                }
                for (int i = 0; i < BATCH; i++) {
                    q.get();
                }
            }
            for (int done = 0; done < large; done += BATCH / 10) {
                for (int i = 0; i < BATCH / 10; i++) {
                    q.put(bytes);
                }
                for (int i = 0; i < BATCH / 10; i++) {
                    q.get();
                }
            }
        }
        try (Pipe pipe = Pipe.open()) {
            for (int done = 0; done < messages; done += 10) {
                for (int i = 0; i < 10; i++) {
                    pipe.right().send(done + i);
                }
                for (int i = 0; i < 10; i++) {
                    pipe.left().recv();
                }
            }
        }
        Lock lock = new Lock();
        Value value = Value.of("i", 0);
        for (int i = 0; i < locks; i++) {
            lock.acquire();
            lock.release();
            value.acquire();
            value.getObj().value((Integer) value.getObj().value() + 1);
            value.release();
        }
    }

    /** A manager served by a thread of this JVM, and a client of it calling the common types. */
    /**
     * Serves a SyncManager here and calls it through a client; with {@code all}, also with
     * what needs Fory (a merge's method reference, a queue, a shared value's proxy).
     */
    private static void manager(boolean all) throws Exception {
        // A fixed key: the socket lives for a moment in this JVM's own 0700 directory, and a
        // SecureRandom would put its provider's classes into every child's cache for nothing.
        byte[] key = "multiprocessing-aot-tour".getBytes(StandardCharsets.US_ASCII);
        SyncManager served = new SyncManager(null, key);
        Server server = served.getServer();
        Thread serving = LibraryThreads.platform().daemon().name("multiprocessing-manager-tour")
                .start(server::serveForever);
        try (SyncManager client = new SyncManager(served.address(), key)) {
            client.connect();
            DictProxy<String, Integer> dict = client.dict();
            dict.put("k", 1);
            dict.get("k");
            dict.keySet(); // a snapshot: the dict's copy
            ListProxy<Integer> list = client.list();
            list.add(1);
            list.get(0);
            list.toString();
            AcquirerProxy lock = client.lock();
            lock.acquire();
            lock.release();
            client.event().set();
            if (all) {
                dict.merge("k", 1, Integer::sum);
                QueueProxy<Integer> queue = client.queue();
                queue.put(1);
                queue.get();
                client.value("i", 0).get();
            }
            // What only a server started for its creator runs (ManagerServer.serveInChild):
            // its target's payload read, its threads' bodies loaded.
            multiprocessing.internal.managers.ServerTarget.rehearse();
            for (String body : List.of("ManagerServer$ShutDownWhenParentGone",
                    "ManagerServer$ShutDownWhenCreatorSays", "RingLink$WarmUp")) {
                Class.forName("multiprocessing.internal.managers." + body, false,
                        Workout.class.getClassLoader());
            }
        } finally {
            served.shutdown();
            serving.join(10_000);
        }
        if (serving.isAlive()) {
            throw new IllegalStateException("the tour's manager server did not end");
        }
    }
}
