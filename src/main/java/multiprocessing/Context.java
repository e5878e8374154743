package multiprocessing;

import java.util.List;

import multiprocessing.connection.Pipe;

/**
 * A start method and the factories of the module's objects that use it (Python's
 * {@code multiprocessing.context.BaseContext}). Obtain one with
 * {@link Multiprocessing#getContext(String)}: {@code "spawn"} gives a {@link SpawnContext},
 * {@code "forkserver"} a {@link ForkServerContext}; {@code multiprocessing.dummy.Dummy.context()}
 * gives the context whose processes are threads of this JVM.
 *
 * <p>Each context supplies how its processes start ({@link #process}) and how its pools run
 * their workers ({@link #pool(int, SerializableRunnable, int)}); the shared objects (pipes,
 * queues, locks, values) are the same whatever the context, since they work between threads as
 * well as between processes.
 *
 * <h2>JVM options</h2>
 * A child JVM runs with the same {@code java} (see {@link Multiprocessing#setExecutable}) and
 * the same class path or module path as its parent (with an AOT cache and the program's
 * classes in a directory, the library's and its serializer's jars first, which the cache needs,
 * and only when the library finds that no name could then resolve to another file), with the
 * options the library needs
 * ({@code -Xrs} so that SIGTERM ends it as a signal, {@code --enable-native-access},
 * {@code -XX:+DisableAttachMechanism}, because under {@code -Xrs} every JVM would open an
 * attach socket file at start that a terminated child leaves in {@code /tmp}; give
 * {@code -XX:-DisableAttachMechanism} to use {@code jcmd} on children), options
 * that make a short-lived JVM start faster ({@code -XX:+UseSerialGC} unless the context's
 * options choose a collector, {@code -XX:-UsePerfData}, and an AOT cache of the library's
 * classes on JDK 25+, a smaller one without the serializer's for a child whose lambda
 * captures only values and objects that send none (no queue, no connection): such a child
 * starts ~45 ms sooner, but one that then sends an object all the same loads the serializer
 * from its jar, ~0.3 s, once: later such children of the same jars get the full cache
 * ({@code -Dmultiprocessing.aotCache.lean=false} in the parent gives it to every child); {@code
 * -Dmultiprocessing.aotCache=false} turns the caches off;
 * {@code -XX:CompileThresholdScaling=2}, so that the JIT compilers spend less CPU on the
 * run-once code of a child's start, and {@code -XX:-AOTReplayTraining} with a cache, so that a
 * child does not compile at its start what the cache's trainer had compiled), options
 * that keep many children small ({@code -XX:ArchiveRelocationMode=0}, so that children share
 * the cache's pages instead of each relocating a private copy, and
 * {@code -XX:TrimNativeHeapInterval=1000}), and then
 * the options of its context: {@link #withJvmOptions(String...)} returns a context whose
 * children get more options ({@code -Xmx256m}, {@code -Dkey=value},
 * {@code -XX:TieredStopAtLevel=1} for many short children, ...). The context's options come
 * last, so they win where the JVM lets a later option win. A child passes its options on to its
 * own children. The heap is the JVM's default: a smaller young generation ({@code -Xmn8m})
 * makes an idle child a third smaller but an allocation-heavy one two to three times slower
 * (bench/RESULTS.md), so it is left to users who keep many idle children. A child also gets
 * this JVM's {@code java.io.tmpdir}, where each process keeps a private directory for its Unix
 * sockets (in {@code /tmp} instead when a socket path would be too long there); a directory
 * left by a killed JVM is removed by the next JVM that makes one
 * ({@code -Dmultiprocessing.tempDirSweep=false} turns that off).
 */
public abstract class Context {
    /**
     * For the contexts of this library's packages; applications obtain contexts from
     * {@link Multiprocessing#getContext(String)} and {@code Dummy.context()}.
     */
    protected Context() {}

    /**
     * {@return the start method of this context: {@code "spawn"}, {@code "forkserver"} or
     * {@code "dummy"}}
     */
    public abstract String getStartMethod();

    /**
     * {@return the JVM options this context's children are started with (beyond the library's own)}
     */
    public abstract List<String> jvmOptions();

    /**
     * A context like this one whose children also get {@code options}.
     *
     * @param options JVM options, each one argument of the {@code java} command
     * @return a context with this one's options followed by {@code options}
     * @throws IllegalArgumentException if an option is empty or blank, or is a word that
     *         starts with neither '-' nor '@' (an argument file) and is no value of the option
     *         before it ({@code --add-opens}'s, say): the {@code java} command would take it for
     *         the class to run
     * @throws NullPointerException if an option is null
     */
    public abstract Context withJvmOptions(String... options);

    /**
     * A process that runs {@code target} with this context's start method.
     *
     * @param target what the process runs
     * @return the process, not yet started
     */
    public abstract Process process(SerializableRunnable target);

    /**
     * A pool of {@code processes} workers of this context (Python's
     * {@code ctx.Pool(processes, initializer, maxtasksperchild)}); what
     * {@link multiprocessing.pool.Pool.Builder#build()} calls for the builder's context.
     *
     * @param processes        how many workers
     * @param initializer      runs in each worker before its first task, or null
     * @param maxTasksPerChild tasks after which a worker is replaced; 0 for never
     * @return the pool, its workers starting
     */
    public abstract multiprocessing.pool.Pool pool(int processes, SerializableRunnable initializer,
            int maxTasksPerChild);

    /**
     * A pool of {@code processes} workers started with this context (Python's
     * {@code ctx.Pool(processes)}); of the dummy context, a {@link multiprocessing.pool.ThreadPool}.
     *
     * @param processes how many workers
     * @return the pool, its workers starting
     */
    public multiprocessing.pool.Pool pool(int processes) {
        return pool(processes, null, 0);
    }

    /** {@return a pool of {@link Multiprocessing#cpuCount()} workers started with this context} */
    public multiprocessing.pool.Pool pool() {
        return pool(Multiprocessing.cpuCount());
    }

    /**
     * A started {@link multiprocessing.managers.SyncManager} whose server process is started
     * with this context (Python's {@code ctx.Manager()}); shut it down (or close it) when done.
     *
     * @return the manager, its server running
     */
    public multiprocessing.managers.SyncManager manager() {
        multiprocessing.managers.SyncManager m =
                new multiprocessing.managers.SyncManager(null, null, this);
        m.start();
        return m;
    }

    /**
     * A new pipe (see {@link Pipe#open(boolean)}).
     *
     * @param duplex true for a pair of two-way connections, false for a one-way pipe
     * @return the pipe's two ends
     */
    public Pipe pipe(boolean duplex) {
        return Pipe.open(duplex);
    }

    /** {@return a new duplex pipe} */
    public Pipe pipe() {
        return Pipe.open(true);
    }

    /** {@return a new {@link multiprocessing.synchronize.Lock}} */
    public multiprocessing.synchronize.Lock lock() {
        return new multiprocessing.synchronize.Lock();
    }

    /** {@return a new {@link multiprocessing.synchronize.RLock}} */
    public multiprocessing.synchronize.RLock rLock() {
        return new multiprocessing.synchronize.RLock();
    }

    /**
     * A new {@link multiprocessing.synchronize.Semaphore} of {@code value}.
     *
     * @param value the initial count
     * @return the semaphore
     */
    public multiprocessing.synchronize.Semaphore semaphore(int value) {
        return new multiprocessing.synchronize.Semaphore(value);
    }

    /**
     * A new {@link multiprocessing.synchronize.BoundedSemaphore} of {@code value}.
     *
     * @param value the initial count, which releases may not exceed
     * @return the semaphore
     */
    public multiprocessing.synchronize.BoundedSemaphore boundedSemaphore(int value) {
        return new multiprocessing.synchronize.BoundedSemaphore(value);
    }

    /** {@return a new {@link multiprocessing.synchronize.Condition} over a new RLock} */
    public multiprocessing.synchronize.Condition condition() {
        return new multiprocessing.synchronize.Condition();
    }

    /**
     * A new {@link multiprocessing.synchronize.Condition} over {@code lock}.
     *
     * @param lock the lock the condition's waiters release and take back
     * @return the condition
     */
    public multiprocessing.synchronize.Condition condition(multiprocessing.synchronize.Lock lock) {
        return new multiprocessing.synchronize.Condition(lock);
    }

    /**
     * A new {@link multiprocessing.synchronize.Condition} over {@code lock}.
     *
     * @param lock the lock the condition's waiters release and take back
     * @return the condition
     */
    public multiprocessing.synchronize.Condition condition(multiprocessing.synchronize.RLock lock) {
        return new multiprocessing.synchronize.Condition(lock);
    }

    /** {@return a new {@link multiprocessing.synchronize.Event}, not set} */
    public multiprocessing.synchronize.Event event() {
        return new multiprocessing.synchronize.Event();
    }

    /**
     * A new {@link multiprocessing.synchronize.Barrier} for {@code parties} parties.
     *
     * @param parties how many waiters the barrier lets through together
     * @return the barrier
     */
    public multiprocessing.synchronize.Barrier barrier(int parties) {
        return new multiprocessing.synchronize.Barrier(parties);
    }

    /**
     * A new {@link Queue} bounded only by its ring's room.
     *
     * @param <E> the type of the items
     * @return the queue
     */
    public <E> Queue<E> queue() {
        return new Queue<>();
    }

    /**
     * A new {@link Queue} of at most {@code maxsize} items ({@code <= 0}: no item bound).
     *
     * @param <E>     the type of the items
     * @param maxsize the most items it holds; {@code <= 0} for no bound but the ring's room
     * @return the queue
     */
    public <E> Queue<E> queue(int maxsize) {
        return new Queue<>(maxsize);
    }

    /**
     * A new {@link SimpleQueue}.
     *
     * @param <E> the type of the items
     * @return the queue
     */
    public <E> SimpleQueue<E> simpleQueue() {
        return new SimpleQueue<>();
    }

    /**
     * A new {@link JoinableQueue} bounded only by its ring's room.
     *
     * @param <E> the type of the items
     * @return the queue
     */
    public <E> JoinableQueue<E> joinableQueue() {
        return new JoinableQueue<>();
    }

    /**
     * A new {@link JoinableQueue} of at most {@code maxsize} items.
     *
     * @param <E>     the type of the items
     * @param maxsize the most items it holds; {@code <= 0} for no bound but the ring's room
     * @return the queue
     */
    public <E> JoinableQueue<E> joinableQueue(int maxsize) {
        return new JoinableQueue<>(maxsize);
    }

    /**
     * A new {@link multiprocessing.sharedctypes.RawValue} of a Python typecode holding
     * {@code initial} (null: zero); see there for the typecodes and the values they take.
     *
     * @param typecode a Python typecode ({@code "i"}, {@code "q"}, {@code "d"}, {@code "c"}, ...)
     * @param initial  the value it starts with, or null for zero
     * @return the value in shared memory
     */
    public multiprocessing.sharedctypes.RawValue rawValue(String typecode, Object initial) {
        return multiprocessing.sharedctypes.RawValue.of(typecode, initial);
    }

    /**
     * A new zeroed struct of {@code layout} in shared memory (Python's {@code RawValue(MyStruct)}).
     *
     * @param layout the struct's layout
     * @return the struct in shared memory
     */
    public multiprocessing.sharedctypes.RawValue rawValue(java.lang.foreign.MemoryLayout layout) {
        return multiprocessing.sharedctypes.RawValue.of(layout);
    }

    /**
     * A new zeroed {@link multiprocessing.sharedctypes.RawArray} of {@code size} elements.
     *
     * @param typecode the elements' Python typecode
     * @param size     how many elements
     * @return the array in shared memory
     */
    public multiprocessing.sharedctypes.RawArray rawArray(String typecode, int size) {
        return multiprocessing.sharedctypes.RawArray.of(typecode, size);
    }

    /**
     * A new {@link multiprocessing.sharedctypes.RawArray} holding the elements of
     * {@code initializer} (a primitive array such as {@code int[]}, an {@code Object[]} or a
     * {@code List}; an {@code Integer} is a size).
     *
     * @param typecode    the elements' Python typecode
     * @param initializer the elements, or an {@code Integer} size for zeroed ones
     * @return the array in shared memory
     */
    public multiprocessing.sharedctypes.RawArray rawArray(String typecode, Object initializer) {
        return multiprocessing.sharedctypes.RawArray.of(typecode, initializer);
    }

    /**
     * A new {@link multiprocessing.sharedctypes.Value} guarded by a new RLock.
     *
     * @param typecode a Python typecode
     * @param initial  the value it starts with, or null for zero
     * @return the value, which takes its lock on every access
     */
    public multiprocessing.sharedctypes.Value value(String typecode, Object initial) {
        return multiprocessing.sharedctypes.Value.of(typecode, initial);
    }

    /**
     * A new {@link multiprocessing.sharedctypes.Value} guarded by {@code lock}.
     *
     * @param typecode a Python typecode
     * @param initial  the value it starts with, or null for zero
     * @param lock     the lock taken on every access
     * @return the value
     */
    public multiprocessing.sharedctypes.Value value(String typecode, Object initial,
            multiprocessing.synchronize.Lock lock) {
        return multiprocessing.sharedctypes.Value.of(typecode, initial, lock);
    }

    /**
     * A new {@link multiprocessing.sharedctypes.Value} guarded by {@code lock}.
     *
     * @param typecode a Python typecode
     * @param initial  the value it starts with, or null for zero
     * @param lock     the lock taken on every access
     * @return the value
     */
    public multiprocessing.sharedctypes.Value value(String typecode, Object initial,
            multiprocessing.synchronize.RLock lock) {
        return multiprocessing.sharedctypes.Value.of(typecode, initial, lock);
    }

    /**
     * Python's {@code Value(typecode, initial, lock=lock)}: with {@code lock} true a
     * {@link multiprocessing.sharedctypes.Value} guarded by a new RLock, with false the raw value.
     *
     * @param typecode a Python typecode
     * @param initial  the value it starts with, or null for zero
     * @param lock     whether the value is guarded by a lock of its own
     * @return a {@code Value} or a {@code RawValue}
     */
    public multiprocessing.sharedctypes.RawValue value(String typecode, Object initial, boolean lock) {
        return lock ? value(typecode, initial) : rawValue(typecode, initial);
    }

    /**
     * A new zeroed {@link multiprocessing.sharedctypes.Array} guarded by a new RLock.
     *
     * @param typecode the elements' Python typecode
     * @param size     how many elements
     * @return the array, which takes its lock on every access
     */
    public multiprocessing.sharedctypes.Array array(String typecode, int size) {
        return multiprocessing.sharedctypes.Array.of(typecode, size);
    }

    /**
     * A new {@link multiprocessing.sharedctypes.Array} from {@code initializer} (see
     * {@link #rawArray(String, Object)}), guarded by a new RLock.
     *
     * @param typecode    the elements' Python typecode
     * @param initializer the elements, or an {@code Integer} size for zeroed ones
     * @return the array, which takes its lock on every access
     */
    public multiprocessing.sharedctypes.Array array(String typecode, Object initializer) {
        return multiprocessing.sharedctypes.Array.of(typecode, initializer);
    }

    /**
     * A new {@link multiprocessing.sharedctypes.Array} guarded by {@code lock}.
     *
     * @param typecode          the elements' Python typecode
     * @param sizeOrInitializer the elements, or an {@code Integer} size for zeroed ones
     * @param lock              the lock taken on every access
     * @return the array
     */
    public multiprocessing.sharedctypes.Array array(String typecode, Object sizeOrInitializer,
            multiprocessing.synchronize.Lock lock) {
        return multiprocessing.sharedctypes.Array.of(typecode, sizeOrInitializer, lock);
    }

    /**
     * A new {@link multiprocessing.sharedctypes.Array} guarded by {@code lock}.
     *
     * @param typecode          the elements' Python typecode
     * @param sizeOrInitializer the elements, or an {@code Integer} size for zeroed ones
     * @param lock              the lock taken on every access
     * @return the array
     */
    public multiprocessing.sharedctypes.Array array(String typecode, Object sizeOrInitializer,
            multiprocessing.synchronize.RLock lock) {
        return multiprocessing.sharedctypes.Array.of(typecode, sizeOrInitializer, lock);
    }

    /**
     * With {@code lock} true an Array guarded by a new RLock, with false the raw array (Python's
     * {@code Array(typecode, size_or_initializer, lock=lock)}).
     *
     * @param typecode          the elements' Python typecode
     * @param sizeOrInitializer the elements, or an {@code Integer} size for zeroed ones
     * @param lock              whether the array is guarded by a lock of its own
     * @return an {@code Array} or a {@code RawArray}
     */
    public multiprocessing.sharedctypes.RawArray array(String typecode, Object sizeOrInitializer,
            boolean lock) {
        return lock ? array(typecode, sizeOrInitializer) : rawArray(typecode, sizeOrInitializer);
    }
}
