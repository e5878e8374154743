package multiprocessing.pool;

import java.io.EOFException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import multiprocessing.ProcessError;
import multiprocessing.SerializableFunction;
import multiprocessing.SerializableRunnable;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;
import multiprocessing.internal.heap.Heap;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.util.LibraryThreads;

/**
 * The body of a pool's worker process (Python's {@code multiprocessing.pool.worker}): runs the
 * initializer, says it is ready, then runs the tasks it receives on its pipe one at a
 * time, answering each with its results, until it gets {@code null}, its pipe closes, or it
 * has run {@code maxTasks} tasks.
 *
 * <p>Messages to the worker: {@code Object[]{Long jobId, Integer kind, byte[] fn, List items}}
 * (and a fifth element, {@code true}, when the parent records the task: see {@link #TIMING}),
 * or null to stop, several to a pipe message ({@link Frames}). Each result is sent as soon as its
 * task ends, never held back to be sent with the next: the parent must know that a worker that
 * dies was running the first task it has not answered, and no other. From the worker: an {@code ArrayList} of results, or an {@code Object[]}
 * whose first element is one of the tags below. Plain arrays and lists, so that nothing of this
 * package has to be reflected on by the serializer.
 */
final class Worker implements SerializableRunnable,
        multiprocessing.internal.spawn.EndsWithoutItsThreads {
    private static final long serialVersionUID = 1L;

    static final int READY = 1;
    static final int FAILED = 2;
    static final int INIT_FAILED = 3;
    /**
     * When the worker began a task and when its result was ready ({@link System#nanoTime()}),
     * sent just before the result of a task that asks for it (see PoolTaskEvent). A task that
     * cannot even be read is answered without it: the parent cannot count on it.
     */
    static final int TIMING = 4;

    static {
        Serialization.register(Worker.class, new Reducer<Worker>() {
            @Override
            public void reduce(Worker w, Out out) {
                out.writeObject(w.tasks);
                out.writeObject(w.results);
                out.writeObject(w.initializer);
                out.writeInt(w.maxTasks);
            }

            @Override
            public Worker rebuild(In in) {
                return new Worker((Connection) in.readObject(), (Connection) in.readObject(),
                        (SerializableRunnable) in.readObject(), in.readInt());
            }

            @Override
            public List<Object> carried(Worker w) {
                return Arrays.asList(w.tasks, w.results, w.initializer);
            }
        });
    }

    /** {@return the message that stops a worker} */
    static byte[] stop() {
        return Stop.MESSAGE;
    }

    /**
     * Apart from Worker's initializer, which runs while the serializer is being built (it
     * registers a reducer) and so cannot serialize.
     */
    private static final class Stop {
        static final byte[] MESSAGE = Serialization.serialize(null);
    }

    /** The most {@link #rehearse(boolean)} waits for the whole rehearsal. */
    private static final long REHEARSAL_NANOS = 20_000_000_000L;
    /** How long a worker waits for its next task before it lets go of its jobs' functions. */
    private static final Duration IDLE = Duration.ofMillis(100);

    /** The read-only end of a one-way pipe: what the pool sends. */
    private final Connection tasks;
    /** The write-only end of another: the answers. */
    private final Connection results;
    private final SerializableRunnable initializer;
    private final int maxTasks;

    /**
     * Two one-way pipes rather than a socket pair: a spawned worker reads and writes them with
     * the JDK's own I/O (see {@link Connection}) and so, for tasks of plain values, never links
     * the libc layer, ~15 ms of a fresh JVM and twice that while its pool's other workers start
     * beside it (bench/RESULTS.md, twenty-sixth session).
     */
    Worker(Connection tasks, Connection results, SerializableRunnable initializer, int maxTasks) {
        this.tasks = tasks;
        this.results = results;
        this.initializer = initializer;
        this.maxTasks = maxTasks;
    }

    // Set in run(): a deserialized worker has no field initializers run.
    private transient ArrayDeque<byte[]> inbox;
    private transient List<byte[]> outbox;

    @Override
    public void run() throws Exception {
        inbox = new ArrayDeque<>();
        outbox = new ArrayList<>();
        if (initializer != null) {
            try {
                initializer.run();
            } catch (Throwable t) {
                hold(failure(INIT_FAILED, t));
                flush();
                return;
            }
        }
        hold(Serialization.serialize(new Object[] {READY})); // without the serializer
        flush();
        // Nothing here builds the serializer (Fory) ahead: a task of a plain lambda over plain
        // items (numbers, strings, byte arrays) and its results travel without it, and a worker
        // that only runs such tasks never builds it (~100 ms of CPU each; bench/RESULTS.md,
        // eighteenth session). The first task that needs it builds it.
        // The functions of the last few jobs: a map's function is deserialized once per worker,
        // not once per chunk. Kept with the bytes they were read from: a cluster member's
        // workers run chunks of several pools whose job numbers may meet. One of only
        // immutable values is kept by its bytes, for every job that sends the same (a pool's
        // applies are a job each); any other reaches each job afresh, as it was sent.
        Map<Object, Object[]> functions = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Object, Object[]> eldest) {
                return size() > 8;
            }
        };
        for (int done = 0; maxTasks == 0 || done < maxTasks; done++) {
            if (inbox.isEmpty()) {
                flush();
                if (holdsJobFunctions(functions) && !tasks.poll(IDLE)) {
                    dropJobFunctions(functions);
                }
                byte[] frame;
                try {
                    frame = tasks.recvBytes();
                } catch (EOFException e) {
                    return;
                }
                Frames.unpack(frame, inbox::add);
            }
            byte[] reply;
            boolean timed = false; // a task the parent records
            long began = 0;
            try {
                Object message = Serialization.deserialize(inbox.poll());
                if (message == null) {
                    flush();
                    return;
                }
                Object[] task = (Object[]) message;
                if (task.length > 4) {
                    timed = true;
                    began = System.nanoTime();
                }
                byte[] fnBytes = (byte[]) task[2];
                Object key = Serialization.immutable(fnBytes)
                        ? java.nio.ByteBuffer.wrap(fnBytes) : (Long) task[0];
                Object[] cached = functions.get(key);
                if (cached == null || !Arrays.equals((byte[]) cached[0], fnBytes)) {
                    cached = new Object[] {fnBytes, Serialization.deserializeFunction(fnBytes)};
                    functions.put(key, cached);
                }
                @SuppressWarnings("unchecked")
                List<Object> items = (List<Object>) task[3];
                Object results = Tasks.run((Integer) task[1], cached[1], items);
                try {
                    reply = Serialization.serialize(results);
                } catch (IllegalArgumentException unserializable) {
                    // Python's MaybeEncodingError: the task ran, its result cannot travel.
                    reply = failure(FAILED, new ProcessError("Error sending result: the result of "
                            + "the task cannot be sent back to the parent process. Reason: "
                            + unserializable.getMessage()));
                }
            } catch (Throwable t) {
                // Also a task whose items cannot be read here (a class missing from this
                // JVM's class path): the task fails, the worker goes on.
                reply = failure(FAILED, t);
            }
            if (timed) {
                hold(Serialization.serialize(new Object[] {TIMING, began, System.nanoTime()}));
            }
            hold(reply);
            flush();
        }
        flush();
    }

    /**
     * Whether a cached function was kept by its job: one that captured more than immutable
     * values, perhaps shared memory (an array, a queue's ring).
     */
    private static boolean holdsJobFunctions(Map<Object, Object[]> functions) {
        for (Object key : functions.keySet()) {
            if (key instanceof Long) {
                return true;
            }
        }
        return false;
    }

    /**
     * Lets go of the functions kept by their jobs, and of the shared memory they captured, once
     * this worker has had nothing to do for {@link #IDLE}: kept until 8 more jobs came, a 1 GiB
     * array a map's function captured stayed in /dev/shm as long as the pool lived (attack 29).
     * A worker that goes on with the same job reads its function again, once.
     */
    private static void dropJobFunctions(Map<Object, Object[]> functions) {
        for (var keys = functions.keySet().iterator(); keys.hasNext(); ) {
            if (keys.next() instanceof Long) {
                keys.remove();
            }
        }
        Heap.collectDroppedViews();
    }

    /** A task message as a worker reads it: {@code timed} asks for its TIMING answer. */
    static byte[] task(long jobId, int kind, byte[] fn, List<?> items, boolean timed) {
        return task(jobId, kind, fn, items, timed, Handles.refusing(NO_DESCRIPTORS));
    }

    /** As above, what the items' reducers count recorded in {@code handles} (see Chunk). */
    static byte[] task(long jobId, int kind, byte[] fn, List<?> items, boolean timed,
            Handles handles) {
        return Serialization.serialize(timed
                ? new Object[] {jobId, kind, fn, items, true}
                : new Object[] {jobId, kind, fn, items}, handles);
    }

    static final String NO_DESCRIPTORS = "a pool's task cannot carry file descriptors";

    /**
     * Runs a worker in a thread of this JVM on one end of a pipe and plays its pool on the
     * other, as {@link ProcessEngine} does (ready, a timed map chunk, a chunk that fails, the
     * stop, several to a message), so that the AOT cache's trainer records the classes and call
     * sites of a worker's loop, which a pool's workers then start with (through PoolAccess; see
     * internal.spawn's Workout). Every wait is bounded: the trainer must end whatever happens.
     * With {@code plain}, no chunk fails: every message then travels without Fory, as a worker
     * of plain tasks sends and receives them (the channels cache's tour, which must not build it).
     *
     * @throws Exception if the worker does not answer as a pool expects in time
     */
    static void rehearse(boolean plain) throws Exception {
        long deadline = System.nanoTime() + REHEARSAL_NANOS;
        try (Pipe toWorker = Pipe.open(false); Pipe fromWorker = Pipe.open(false)) {
            Connection pool = fromWorker.left();
            Connection end = fromWorker.right();
            Worker worker = new Worker(toWorker.left(), end, null, 0);
            Thread t = LibraryThreads.platform().daemon().name("multiprocessing-worker-rehearsal")
                    .start(() -> {
                        try {
                            worker.run();
                        } catch (Exception e) {
                            multiprocessing.internal.util.LibraryLog.get().log(
                                    System.Logger.Level.DEBUG, "the rehearsed worker failed", e);
                        } finally {
                            end.close(); // the pool side then reads end of file, not nothing
                        }
                    });
            SerializableFunction<Integer, Integer> next = x -> x + 1;
            SerializableFunction<Integer, Integer> fails = x -> 1 / (x - x);
            byte[] map = task(1L, Job.MAP, Serialization.serializeFunction(next),
                    new ArrayList<>(List.of(1, 2, 3)), true);
            byte[] failing = task(2L, Job.MAP, Serialization.serializeFunction(fails),
                    new ArrayList<>(List.of(1)), false);
            toWorker.right().sendBytes(Frames.pack(plain ? List.of(map, stop())
                    : List.of(map, failing, stop())));
            List<Object> answers = new ArrayList<>();
            try {
                while (true) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !pool.poll(Duration.ofNanos(left))) {
                        throw new IllegalStateException("the rehearsed worker did not answer in "
                                + REHEARSAL_NANOS / 1_000_000 + " ms: " + answers);
                    }
                    Frames.unpack(pool.recvBytes(), b -> answers.add(Serialization.deserialize(b)));
                }
            } catch (EOFException stopped) {
                // the worker read the stop and ended
            }
            t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            if (t.isAlive()) {
                throw new IllegalStateException("the rehearsed worker did not end");
            }
            // READY; TIMING then the map's results; FAILED with its exception and traceback.
            if (answers.size() != (plain ? 3 : 4) || tag(answers.get(0)) != READY
                    || tag(answers.get(1)) != TIMING || !List.of(2, 3, 4).equals(answers.get(2))
                    || !plain && tag(answers.get(3)) != FAILED) {
                throw new IllegalStateException("the rehearsed worker answered " + answers);
            }
        }
    }

    private static int tag(Object answer) {
        return answer instanceof Object[] a && a.length > 0 && a[0] instanceof Integer i ? i : -1;
    }

    private void hold(byte[] reply) {
        outbox.add(reply);
    }

    private void flush() throws Exception {
        if (!outbox.isEmpty()) {
            results.sendBytes(Frames.pack(outbox));
            outbox.clear();
        }
    }

    static byte[] failure(int tag, Throwable t) {
        // Total: the task's exception is the program's object, whose getMessage() or
        // toString() may throw, and whose cause chain may be too deep to print or serialize
        // (StackOverflowError). A throw from here would end the worker, and the caller would
        // see a lost worker instead of its task's failure.
        String traceback;
        try {
            traceback = Tasks.traceback(t);
        } catch (Throwable unprintable) {
            traceback = "(its traceback cannot be printed: " + unprintable.getClass().getName()
                    + ")";
        }
        try {
            return Serialization.serialize(new Object[] {tag, t, traceback});
        } catch (Throwable unsendable) {
            ProcessError stand = new ProcessError("the task threw " + describe(t)
                    + ", which cannot be sent to the parent process (" + describe(unsendable)
                    + ")");
            try {
                stand.setStackTrace(t.getStackTrace());
            } catch (RuntimeException noTrace) {
                // the stand-in's own trace, then
            }
            return Serialization.serialize(new Object[] {tag, stand, traceback});
        }
    }

    /** A throwable's class and, if it can be read, its message. */
    private static String describe(Throwable t) {
        String name = t.getClass().getName();
        try {
            String message = t.getMessage();
            return message == null ? name : name + ": " + message;
        } catch (Throwable unreadable) {
            return name + " (its message cannot be read: " + unreadable.getClass().getName()
                    + ")";
        }
    }
}
