package multiprocessing.internal.reduction;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.fory.Fory;
import org.apache.fory.config.Language;
import org.apache.fory.resolver.SharedRegistry;
import org.apache.fory.context.ReadContext;
import org.apache.fory.context.WriteContext;
import org.apache.fory.serializer.Serializer;

/**
 * The one serialization configuration of the library: every object that crosses a process line
 * (a process's target and arguments, messages, results, exceptions with their stack traces) is
 * written and read here, with Apache Fory, or, for payloads and messages of plain values only,
 * with its two shortcuts that need no Fory ({@link PlainStream}, {@link PlainValue}).
 *
 * <p>Objects that stand for operating-system resources are written by their {@link Reducer}
 * (Python's {@code ForkingPickler.register}); the descriptors they name travel beside the bytes,
 * collected in the {@link Handles} the caller passes.
 *
 * <p>The Fory instances are built on first use, because building one is the single largest
 * cost of a fresh JVM's first message (about 70 ms with the AOT cache, 300 without): a child
 * that never receives an object never pays it. A process's payload, which every child
 * receives, is written by {@link PlainStream} when it holds only values and the library's
 * objects (the reducers below, in a stream of their own), so that most children never build
 * Fory at all; anything else in it sends the whole payload through Fory.
 */
public final class Serialization {
    private Serialization() {}

    /**
     * Classes whose reducers register themselves when they are initialised: objects that stand
     * for operating-system resources, and the library's own objects that cross often (a
     * process, a pool's worker, a manager's messages). A class with no reducer is written with
     * its field metadata and read by a struct serializer Fory builds for it in each receiving
     * JVM, which in a fresh child costs tens of milliseconds (see {@code Process.Identity}).
     */
    private static final String[] REDUCED_CLASSES = {
        "multiprocessing.Process",
        "multiprocessing.pool.Worker",
        "multiprocessing.connection.Address",
        "multiprocessing.internal.managers.Registration",
        "multiprocessing.connection.Connection",
        "multiprocessing.connection.Pipe",
        "multiprocessing.synchronize.Lock",
        "multiprocessing.synchronize.RLock",
        "multiprocessing.synchronize.Semaphore",
        "multiprocessing.synchronize.BoundedSemaphore",
        "multiprocessing.synchronize.Condition",
        "multiprocessing.synchronize.Event",
        "multiprocessing.synchronize.Barrier",
        "multiprocessing.internal.heap.Block",
        "multiprocessing.sharedmemory.SharedMemory",
        "multiprocessing.sharedctypes.RawValue",
        "multiprocessing.sharedctypes.Value",
        "multiprocessing.sharedctypes.RawArray",
        "multiprocessing.sharedctypes.Array",
        "multiprocessing.sharedctypes.SharedInt",
        "multiprocessing.sharedctypes.SharedLong",
        "multiprocessing.sharedctypes.SharedDouble",
        "multiprocessing.sharedctypes.SharedIntArray",
        "multiprocessing.sharedctypes.SharedLongArray",
        "multiprocessing.sharedctypes.SharedDoubleArray",
        "multiprocessing.sharedctypes.SharedByteArray",
        "multiprocessing.Queue",
        "multiprocessing.JoinableQueue",
        "multiprocessing.SimpleQueue",
        "multiprocessing.internal.managers.ProxyHandler",
        "multiprocessing.internal.managers.Messages$Hello",
        "multiprocessing.internal.managers.Messages$Request",
        "multiprocessing.internal.managers.Messages$Response",
        "multiprocessing.internal.managers.Messages$Bye",
        "multiprocessing.internal.managers.ServerTarget",
        "multiprocessing.internal.spawn.IdleTarget",
    };

    /**
     * The reduced classes whose reducers write the program's objects (a process's target, a
     * worker's initializer, a manager's arguments), not only numbers, strings, descriptors and
     * other reduced objects: all the others are leaves, which {@link PlainStream} writes.
     */
    private static final java.util.Set<String> CARRYING_CLASSES = java.util.Set.of(
        "multiprocessing.Process",
        "multiprocessing.pool.Worker",
        "multiprocessing.internal.managers.Registration",
        "multiprocessing.internal.managers.ProxyHandler",
        "multiprocessing.internal.managers.Messages$Hello",
        "multiprocessing.internal.managers.Messages$Request",
        "multiprocessing.internal.managers.Messages$Response",
        "multiprocessing.internal.managers.ServerTarget");

    /**
     * The leaves through which a process sends and receives the program's objects, which
     * Fory serializes: a child whose payload holds one will likely build Fory, one whose
     * payload holds none likely never does (see {@link #startsWithoutSerializer}).
     */
    static final java.util.Set<String> CHANNEL_CLASSES = java.util.Set.of(
        "multiprocessing.connection.Address",
        "multiprocessing.connection.Connection",
        "multiprocessing.Queue",
        "multiprocessing.JoinableQueue",
        "multiprocessing.SimpleQueue");

    /** The reduced classes that are not {@link #CARRYING_CLASSES}. */
    static java.util.Set<String> leafClasses() {
        return java.util.Arrays.stream(REDUCED_CLASSES)
                .filter(name -> !CARRYING_CLASSES.contains(name))
                .collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    private static final Map<Class<?>, Reducer<?>> REDUCERS = new ConcurrentHashMap<>();
    private static final ThreadLocal<Handles> HANDLES = new ThreadLocal<>();

    private static volatile boolean built;
    /** The loader a child installed for the classes it receives (see {@link #useClassLoader}). */
    private static volatile ClassLoader installed;

    /**
     * Registers how {@code type} crosses a process line; call from the type's static init, and
     * name the class in {@link #REDUCED_CLASSES}, so that every process registers the same
     * reducers before it builds its serializer (registration numbers the classes).
     */
    public static <T> void register(Class<T> type, Reducer<T> reducer) {
        if (!java.util.Arrays.asList(REDUCED_CLASSES).contains(type.getName())) {
            // A reducer another process may not know would shift every class number after it:
            // fail here, in the developer's first test, not in a child that misreads a message.
            throw new IllegalStateException(type.getName() + " registers a reducer but is not "
                    + "listed in Serialization.REDUCED_CLASSES");
        }
        if (built) {
            throw new IllegalStateException(type.getName() + " registers a reducer after the "
                    + "serializer was built: does its static initializer serialize?");
        }
        REDUCERS.put(type, reducer);
    }

    /**
     * The system property that bounds the bytes one received message may allocate, as Fory
     * estimates its arrays, collections and objects (default 1 GiB).
     */
    public static final String MAX_GRAPH_MEMORY_PROPERTY =
            "multiprocessing.serialization.maxGraphMemoryBytes";
    static final long DEFAULT_MAX_GRAPH_MEMORY_BYTES = 1L << 30;

    /** System properties every child must see as its parent does: they shape the decoder. */
    public static final java.util.List<String> INHERITED_PROPERTIES = java.util.List.of(
            ClassPolicy.ALLOW_PROPERTY, ClassPolicy.DENY_PROPERTY, MAX_GRAPH_MEMORY_PROPERTY);

    private static long maxGraphMemoryBytes() {
        long max = Long.getLong(MAX_GRAPH_MEMORY_PROPERTY, DEFAULT_MAX_GRAPH_MEMORY_BYTES);
        return max > 0 ? max : DEFAULT_MAX_GRAPH_MEMORY_BYTES;
    }

    /** The loader Fory resolves names through, and so the one the policy checks them with. */
    private static final ClassLoader RESOLVER = new Resolver();

    private static final ClassPolicy POLICY = ClassPolicy.fromSystemProperties(RESOLVER);

    private static final class Holder {
        // Fory starts a cleaner thread as it is built, in the building thread's group: built
        // on a thread of the library's (see LibraryThreads), which waits for no class this
        // thread may be initializing: the reduced classes are initialized here first (one
        // whose initializer serialized would otherwise have that thread wait for its
        // initialization while this one waits for the thread), and Builder touches nothing of
        // Holder, whose initialization this thread holds while it waits.
        static final ForyPool FORY = build();

        private static ForyPool build() {
            Builder.initializeReducedClasses();
            ForyPool pool = new ForyPool(Builder::buildOne, POOL_SIZE);
            // The first instance now: a JVM's first message is what builds the pool.
            pool.execute(fory -> fory);
            Runnable built = whenBuilt;
            if (built != null) {
                built.run();
            }
            return pool;
        }
    }

    private static volatile Runnable whenBuilt;

    /**
     * Has {@code action} run (once, on the building thread, it must not throw) when this JVM
     * builds Fory, if it ever does: a child started without it reports that it needed it.
     */
    public static void whenBuilt(Runnable action) {
        whenBuilt = action;
    }

    /**
     * The most Fory instances that serve this JVM's threads (a thread borrows one per
     * message; {@link ForyPool} builds them as they are needed). Fory's default, four per CPU,
     * would let a JVM on 64 CPUs build 256; eight is that default on two CPUs, where the
     * library is measured.
     */
    static final int POOL_SIZE =
            Math.min(8, Math.max(2, 4 * Runtime.getRuntime().availableProcessors()));

    private static final class Builder {
        /** Has every reduced class register its reducer (their static initializers do). */
        private static void initializeReducedClasses() {
            for (String name : REDUCED_CLASSES) {
                try {
                    Class.forName(name, true, Serialization.class.getClassLoader());
                } catch (ClassNotFoundException e) {
                    throw new ExceptionInInitializerError(e);
                }
            }
        }

        /** One registry of class metadata for every instance, as Fory's own pool shares. */
        private static final SharedRegistry SHARED = new SharedRegistry();

        /** Builds one instance, on a thread of the library's (see {@link Holder}). */
        private static Fory buildOne() {
            return multiprocessing.internal.util.LibraryThreads
                    .callInGroup("multiprocessing-serializer-build", Builder::build);
        }

        private static Fory build() {
            quietFory();
            Fory fory = Fory.builder()
                    .withLanguage(Language.JAVA)
                    .requireClassRegistration(false)
                    .suppressClassRegistrationWarnings(true)
                    .withRefTracking(true)
                    .withCodegen(false)
                    // A received message names classes: only those the policy allows load.
                    .withTypeChecker(POLICY)
                    // Bounds what a message's arrays may make this JVM allocate: Fory's 128 MiB
                    // default is below what a queue carries (256 MiB and more), no bound at all
                    // lets a few bytes ask for the whole heap.
                    .withMaxGraphMemoryBytes(maxGraphMemoryBytes())
                    // Fory reads 50 levels of nesting by default, and writes any: a chain of 51
                    // objects was sent and then could not be received (the item lost). A
                    // thread's default stack (1 MiB) writes 900 to 2,700 levels; the bound is
                    // far above, and Fory keeps an array as long (64 KiB).
                    .withMaxDepth(MAX_DEPTH)
                    // Fory keeps the loader it is built with; the one a child installs for
                    // its program's classes comes later (a forkserver JVM builds Fory before
                    // it is handed a process), so Fory gets one that looks at it per name.
                    .withClassLoader(RESOLVER)
                    // A class this process cannot load is an error to report, not a map of
                    // field names to hand the program in place of its object.
                    .withDeserializeUnknownClass(false)
                    .withSharedRegistry(SHARED)
                    .withSerializerFactory(ThrowableSerializer.FACTORY)
                    .build();
            // In one fixed order: registering a serializer numbers the class, and the numbers
            // must agree between the processes (a hash map's order differs from JVM to JVM).
            // No reducer is added once the first instance is built (register refuses), so
            // every instance numbers the same classes alike.
            REDUCERS.entrySet().stream()
                    .sorted(java.util.Map.Entry.comparingByKey(
                            java.util.Comparator.comparing(Class::getName)))
                    .forEach(e -> register(fory, e.getKey(), e.getValue()));
            // Classes Fory numbers itself: replacing their serializer renumbers nothing.
            replace(fory, NullTolerantListSerializer.CLASSES, NullTolerantListSerializer::new);
            replace(fory, SubListCopySerializer.CLASSES, SubListCopySerializer::new);
            replace(fory, ListBeforeItemsSerializer.CLASSES, ListBeforeItemsSerializer::new);
            replace(fory, SortedMapSerializer.CLASSES, SortedMapSerializer::new);
            replace(fory, SortedCollectionSerializer.CLASSES, SortedCollectionSerializer::new);
            replace(fory, ByteBufferCopySerializer.CLASSES, ByteBufferCopySerializer::new);
            fory.registerSerializer(java.math.BigInteger.class,
                    resolver -> new BigNumberSerializers.BigIntegers(resolver));
            fory.registerSerializer(java.math.BigDecimal.class,
                    resolver -> new BigNumberSerializers.BigDecimals(resolver));
            built = true;
            return fory;
        }

        /**
         * Fory's warnings go to the program's standard output, which is the program's own:
         * a class with custom JDK serialization, a list view, each printed a line there the
         * first time it was sent (review 54, attack 55). They are turned off unless the
         * program asks for Fory's logging, with Fory's own {@code FORY_LOG_LEVEL} or by setting
         * a level of its own through Fory's API (attack 56); errors reach the caller as
         * exceptions.
         */
        private static void quietFory() {
            String asked = System.getenv("FORY_LOG_LEVEL");
            if ((asked == null || asked.isBlank())
                    && org.apache.fory.logging.LoggerFactory.getLogLevel()
                            == org.apache.fory.logging.LogLevel.DEFAULT_LEVEL) {
                org.apache.fory.logging.LoggerFactory.setLogLevel(
                        org.apache.fory.logging.LogLevel.ERROR_LEVEL);
            }
        }

        /** Has {@code types}, which Fory serializes itself, serialized by the library's own. */
        private static void replace(Fory fory, java.util.List<Class<?>> types,
                java.util.function.BiFunction<org.apache.fory.resolver.TypeResolver, Class<?>,
                        org.apache.fory.serializer.Serializer<?>> serializer) {
            for (Class<?> type : types) {
                fory.registerSerializer(type, resolver -> serializer.apply(resolver, type));
            }
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private static void register(Fory fory, Class<?> type, Reducer<?> reducer) {
            // With its type: registerSerializer alone leaves the class unregistered, and a
            // process that first meets it while reading then writes it differently (as a
            // struct with field metadata), which the other processes cannot read.
            fory.registerSerializerAndType(type,
                    resolver -> new ReducerSerializer(resolver.getConfig(), type, reducer));
        }
    }

    /**
     * Makes received class names resolve through {@code loader} (the class loader a child
     * creates for classes that are not on its class path), before any other loader.
     */
    public static void useClassLoader(ClassLoader loader) {
        installed = loader;
    }

    /** The program's class loaders the library has seen, most recent first (see below). */
    private static volatile java.util.function.Supplier<java.util.List<ClassLoader>> seen =
            java.util.List::of;

    /**
     * Makes received class names that no other loader has resolve through {@code loaders}:
     * the program's class loaders the library met (a process's target, a manager's registered
     * types), so that what comes back from a child or a manager's server, a proxy of an
     * interface such a loader defined, can be read here too.
     */
    public static void lookUpAlsoIn(java.util.function.Supplier<java.util.List<ClassLoader>> loaders) {
        seen = loaders;
    }

    /**
     * Resolves a received class name: through the loader a child installed, else the calling
     * thread's context loader (the program's, under {@code mvn exec:java}, an application
     * server or jshell), else the library's own, else the program's loaders the library has
     * seen ({@link #lookUpAlsoIn}).
     */
    private static final class Resolver extends ClassLoader {
        static {
            registerAsParallelCapable();
        }

        Resolver() {
            super("multiprocessing-resolver", Serialization.class.getClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            ClassLoader first = installed;
            if (first == null) {
                first = Thread.currentThread().getContextClassLoader();
            }
            if (first != null && first != getParent()) {
                try {
                    return Class.forName(name, false, first);
                } catch (ClassNotFoundException e) {
                    // the library's own loader may have it
                }
            }
            try {
                return super.loadClass(name, resolve);
            } catch (ClassNotFoundException notTheLibrarys) {
                for (ClassLoader l : seen.get()) {
                    if (l != first) {
                        try {
                            return Class.forName(name, false, l);
                        } catch (ClassNotFoundException e) {
                            // the next one may have it
                        }
                    }
                }
                throw notTheLibrarys;
            }
        }
    }

    /** Marks a process's payload written by {@link PlainStream}, holding no channel. */
    private static final byte PLAIN = 'P';
    /**
     * Marks a process's payload written by {@link PlainStream} that holds a channel whose
     * receiver links the libc layer at once ({@link Reducer#linksAtOnce}).
     */
    private static final byte PLAIN_WITH_CHANNELS = 'C';
    /**
     * Marks a process's payload written by {@link PlainStream} whose channels are all read and
     * written with the JDK's own I/O until something links the libc layer (one-way pipe ends:
     * a pool's worker).
     */
    private static final byte PLAIN_WITH_PIPES = 'J';
    /** Marks a process's payload written by Fory. */
    private static final byte FORY = 'F';
    /**
     * Marks a function written by {@link PlainStream} with only immutable values in it (no
     * array, no reduced object): see {@link #serializeFunction}. Never a process's payload.
     */
    private static final byte PLAIN_IMMUTABLE = 'I';

    /**
     * Serializes a process's payload (what starts a child): by {@link PlainStream} when it
     * can, which the child reads without building Fory, else by Fory.
     *
     * @throws IllegalArgumentException naming the class when {@code value} cannot be serialized
     */
    public static byte[] serializeForStart(Object value, Handles handles) {
        return payload(value, handles, false);
    }

    /**
     * {@link #serializeForStart}'s bytes; with {@code tellImmutable}, marked
     * {@link #PLAIN_IMMUTABLE} when PlainStream wrote them with only immutable values in them.
     */
    private static byte[] payload(Object value, Handles handles, boolean tellImmutable) {
        byte[] data;
        byte format = PLAIN;
        try {
            // A refusal comes before any reducer that names a descriptor or counts what it
            // sends has run (PlainStream), so Fory's write starts from where this one did.
            PlainStream.Written written = PlainStream.write(value, handles);
            data = written.bytes();
            format = written.channels()
                    ? written.linking() ? PLAIN_WITH_CHANNELS : PLAIN_WITH_PIPES
                    : tellImmutable && written.immutable() ? PLAIN_IMMUTABLE : PLAIN;
        } catch (PlainStream.Unsupported e) {
            data = serialize(value, handles);
            format = FORY;
        } catch (RuntimeException | StackOverflowError e) {
            // A reducer that failed (a closed connection): as a Fory write reports it.
            throw cannotSerialize(value, e);
        } catch (OutOfMemoryError e) {
            throw tooLarge(value, e);
        }
        if (data.length > Integer.MAX_VALUE - 9) {
            throw tooLarge(value, new OutOfMemoryError("Required array length "
                    + data.length + " + 1 is too large"));
        }
        byte[] tagged = new byte[data.length + 1];
        tagged[0] = format;
        System.arraycopy(data, 0, tagged, 1, data.length);
        return tagged;
    }

    /**
     * Whether the child that {@code payload} (from {@link #serializeForStart}) starts will
     * likely never build Fory: it reads its process without it, and holds no channel through
     * which it would send or receive an object. A guess from what the payload holds (the
     * child may still make a queue of its own), which only chooses what the child's JVM
     * prepares for: {@code Spawner}'s AOT cache without Fory's classes.
     */
    public static boolean startsWithoutSerializer(byte[] payload) {
        return payload.length > 0 && payload[0] == PLAIN;
    }

    /**
     * Whether the child that {@code payload} (from {@link #serializeForStart}) starts reads
     * its process without Fory but holds a channel (a pool's worker, a manager's server, a
     * queue's producer): it builds Fory only if an object it sends or receives needs it.
     */
    public static boolean startsWithoutSerializerButHoldsChannels(byte[] payload) {
        return payload.length > 0
                && (payload[0] == PLAIN_WITH_CHANNELS || payload[0] == PLAIN_WITH_PIPES);
    }

    /**
     * Whether the child that {@code payload} (from {@link #serializeForStart}) starts will
     * likely link the libc layer as soon as it runs: it holds a channel that needs it, or
     * anything Fory wrote (a one-way pipe's end alone does not).
     */
    public static boolean linksAtStart(byte[] payload) {
        return payload.length > 0 && payload[0] != PLAIN && payload[0] != PLAIN_WITH_PIPES;
    }

    /** Whether this JVM has built Fory. */
    public static boolean built() {
        return built;
    }

    /**
     * Reads what {@link #serializeForStart} wrote.
     *
     * @throws IllegalStateException when the bytes are not such a payload, or name a class this
     *         process refuses or cannot load
     */
    public static Object deserializeAtStart(byte[] data, Handles handles) {
        if (data.length == 0) {
            throw new IllegalStateException("the received payload is empty");
        }
        return switch (data[0]) {
            case PLAIN, PLAIN_WITH_CHANNELS, PLAIN_WITH_PIPES, PLAIN_IMMUTABLE ->
                    PlainStream.read(data, 1, handles);
            case FORY -> reading(org.apache.fory.memory.MemoryBuffer.fromByteArray(data, 1,
                    data.length - 1), handles);
            default -> throw new IllegalStateException("the received payload has an unknown "
                    + "format " + data[0]);
        };
    }

    /**
     * The bytes of functions written by PlainStream with only immutable values in them (no
     * array, no library object, whose reducer may count each send), by the function object (a
     * lambda's identity): a pool's apply is a job of its own each time, and writing a lambda
     * takes PlainStream ~2 us (bench/RESULTS.md, eighteenth session). Callers only read the
     * bytes.
     */
    private static final Map<Object, byte[]> FUNCTIONS =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    /**
     * Serializes a function that messages name by its bytes (a pool job's, sent with each of
     * its chunks; a worker reads it once per job), as a payload is: a plain lambda without Fory, which a worker then
     * reads without building it. Such bytes are read by {@link #deserializeFunction}.
     *
     * @throws IllegalArgumentException naming the class when {@code fn} cannot be serialized
     */
    public static byte[] serializeFunction(Object fn) {
        return serializeFunction(fn, Handles.refusing("this channel cannot carry descriptors"));
    }

    /**
     * As {@link #serializeFunction(Object)}, what its reducers count recorded in
     * {@code handles}: given back by {@link Handles#unsent} if no message carrying the bytes is
     * ever sent.
     */
    public static byte[] serializeFunction(Object fn, Handles handles) {
        byte[] known = FUNCTIONS.get(fn);
        if (known != null) {
            return known;
        }
        byte[] bytes;
        try {
            bytes = payload(fn, handles, true);
        } catch (RuntimeException | Error e) {
            handles.unsent(); // what its reducers counted before the failure, as serialize's
            throw e;
        }
        if (immutable(bytes)) {
            FUNCTIONS.put(fn, bytes);
        }
        return bytes;
    }

    /** Reads what {@link #serializeFunction} wrote. */
    public static Object deserializeFunction(byte[] data) {
        return deserializeAtStart(data, Handles.received(new int[0]));
    }

    /**
     * Whether {@code data}, from {@link #serializeFunction}, holds only immutable values: one
     * function rebuilt from it may serve every message that carries the same bytes (a
     * function holding an array must reach each job as it was sent, a fresh copy).
     */
    public static boolean immutable(byte[] data) {
        return data.length > 0 && data[0] == PLAIN_IMMUTABLE;
    }

    /** The reducer registered for exactly {@code type}, or null. */
    static Reducer<?> reducerOf(Class<?> type) {
        return REDUCERS.get(type);
    }

    /**
     * Loads a class a received message names, as Fory does: if the deserialization policy
     * allows it, through the loaders a received class is looked for in; not initialized.
     */
    /** Whether a received message may name {@code name} (the deserialization policy). */
    static boolean policyAllows(String name) {
        return POLICY.allows(name);
    }

    public static Class<?> loadReceived(String name) {
        if (!POLICY.allows(name)) {
            throw new IllegalStateException("a received message names a class the "
                    + "deserialization policy refuses: " + name + " (allow a class with -D"
                    + ClassPolicy.ALLOW_PROPERTY + "=name, see multiprocessing's package"
                    + " documentation)");
        }
        try {
            return Class.forName(name, false, RESOLVER);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalStateException("a received object's class cannot be loaded in"
                    + " this process (" + e + "): it is not on this process's class path, and"
                    + " the sender's class loaders could not give it", e);
        }
    }

    /**
     * Serializes {@code value}; descriptors its reducers name are added to {@code handles}.
     *
     * @throws IllegalArgumentException naming the class when {@code value} cannot be serialized
     */
    public static byte[] serialize(Object value, Handles handles) {
        try {
            return serializeOnce(value, handles);
        } catch (RuntimeException | Error e) {
            handles.unsent(); // what its reducers counted before the failure
            throw e;
        }
    }

    private static byte[] serializeOnce(Object value, Handles handles) {
        if (PlainValue.writes(value)) {
            // Taken from the slot while in use: a write on another thread, or within this one,
            // makes a buffer of its own meanwhile.
            org.apache.fory.memory.MemoryBuffer out = PLAIN_SCRATCH.getAndSet(null);
            if (out == null) {
                out = org.apache.fory.memory.MemoryBuffer.newHeapBuffer(
                        value instanceof byte[] b ? b.length + 8 : 256);
            } else {
                out.writerIndex(0);
            }
            try {
                PlainValue.write(value, out, handles);
                return out.getBytes(0, out.writerIndex());
            } finally {
                if (out.size() <= SCRATCH_KEPT) {
                    PLAIN_SCRATCH.set(out);
                }
            }
        }
        Object v = forFory(value);
        return writing(v, handles, fory -> fory.serialize(v), bytes -> bytes);
    }

    /**
     * One buffer for {@link PlainValue}'s writes, kept between them while it holds at most
     * {@link #SCRATCH_KEPT} bytes: grown afresh from a few bytes for each message, a pool map's
     * chunk of 125,000 numbers made twice its size in garbage, and a map of 1,000,000 such
     * items ~10 MB, its share of the GC pauses that dominate such a map's time. One for the
     * process, not one per thread: each thread that ever sent a large message kept 4 MiB
     * until it ended, and 120 such threads ran a 512 MiB heap out of memory (attack 28).
     */
    private static final java.util.concurrent.atomic.AtomicReference<
            org.apache.fory.memory.MemoryBuffer> PLAIN_SCRATCH =
            new java.util.concurrent.atomic.AtomicReference<>();
    private static final int SCRATCH_KEPT = 4 << 20;

    /**
     * Serializes {@code value} into {@code buffer} from its writer index on, without the copy
     * {@link #serialize(Object, Handles)} returns; Fory grows the buffer through its global
     * allocator when the value does not fit.
     *
     * @return the buffer holding the bytes (the one given, possibly re-pointed by a grow)
     * @throws IllegalArgumentException naming the class when {@code value} cannot be serialized
     */
    public static org.apache.fory.memory.MemoryBuffer serialize(Object value, Handles handles,
            org.apache.fory.memory.MemoryBuffer buffer) {
        try {
            return serializeOnce(value, handles, buffer);
        } catch (RuntimeException | Error e) {
            handles.unsent(); // what its reducers counted before the failure
            throw e;
        }
    }

    private static org.apache.fory.memory.MemoryBuffer serializeOnce(Object value,
            Handles handles, org.apache.fory.memory.MemoryBuffer buffer) {
        if (PlainValue.writes(value)) {
            PlainValue.write(value, buffer, handles);
            return buffer;
        }
        int start = buffer.writerIndex();
        Object v = forFory(value);
        return writing(v, handles, fory -> fory.serialize(buffer, v), bytes -> {
            // Written again on the deep thread into an array of its own, then copied here: the
            // buffer may grow through a hook that belongs to this thread (a queue's scratch).
            buffer.writerIndex(start);
            buffer.writeBytes(bytes);
            return buffer;
        });
    }

    /**
     * {@code value} as Fory must be given it: Fory writes only proxies that exist, so a
     * {@link ProxyImage} that {@link PlainValue} does not write (the rare case) is made here.
     */
    private static Object forFory(Object value) {
        return value instanceof ProxyImage image ? image.make() : value;
    }

    /**
     * Runs a write of {@code value} with {@code handles} current; names its class on failure.
     * A write that runs out of this thread's stack (a deeply nested graph) is written again
     * on a thread with a deep one, into an array of its own that {@code copy} then takes here;
     * not when a reducer ran in the first try, since a reducer may count, share or hold what
     * it writes, once.
     */
    private static <T> T writing(Object value, Handles handles,
            java.util.function.Function<Fory, T> write,
            java.util.function.Function<byte[], T> copy) {
        Handles outer = HANDLES.get();
        HANDLES.set(handles);
        int reduced = handles.reduced;
        try {
            try {
                return Holder.FORY.execute(write);
            } catch (RuntimeException | StackOverflowError e) {
                if (!causedBy(e, StackOverflowError.class) || DeepStack.isCurrent()
                        || handles.reduced != reduced) {
                    throw e;
                }
            }
            return copy.apply(onDeepStack(handles, fory -> fory.serialize(value)));
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(CANNOT_SEND)) {
                throw e;
            }
            throw cannotSerialize(value, e);
        } catch (RuntimeException | StackOverflowError e) {
            throw cannotSerialize(value, e);
        } finally {
            HANDLES.set(outer);
        }
    }

    /**
     * Reads one object from {@code buffer} at its reader index (heap or off-heap memory).
     *
     * @throws IllegalStateException when the bytes are not a serialized object
     */
    public static Object deserialize(org.apache.fory.memory.MemoryBuffer buffer, Handles handles) {
        return reading(buffer, handles);
    }

    /** Serializes {@code value}, which must name no descriptor. */
    public static byte[] serialize(Object value) {
        return serialize(value, Handles.refusing("this channel cannot carry descriptors"));
    }

    /**
     * Reads what {@link #serialize} wrote; descriptors the message names are taken from
     * {@code handles}.
     *
     * @throws IllegalStateException when the bytes are not a serialized object
     */
    public static Object deserialize(byte[] data, Handles handles) {
        return reading(org.apache.fory.memory.MemoryBuffer.fromByteArray(data), handles);
    }

    /**
     * Reads the one object that fills {@code buffer} from its reader index to its end, with
     * {@code handles} current; says why it failed.
     */
    private static Object reading(org.apache.fory.memory.MemoryBuffer buffer, Handles handles) {
        long size = buffer.size() - buffer.readerIndex();
        if (size > 0 && buffer.getByte(buffer.readerIndex()) == PlainValue.MARK) {
            // A message's reducer that leaves work for after the read has it run by then.
            return PlainValue.read(buffer, handles);
        }
        Handles outer = HANDLES.get();
        HANDLES.set(handles);
        Object value;
        int start = buffer.readerIndex();
        int reducedBefore = handles.reduced;
        try {
            try {
                value = Holder.FORY.execute(fory -> fory.deserialize(buffer));
            } catch (RuntimeException | StackOverflowError e) {
                // Out of this thread's stack: read again on a thread with a deep one, unless a
                // reducer ran (it may have taken, or counted, what it read: once).
                if (!causedBy(e, StackOverflowError.class) || DeepStack.isCurrent()
                        || handles.reduced != reducedBefore) {
                    throw e;
                }
                buffer.readerIndex(start);
                value = onDeepStack(handles, fory -> fory.deserialize(buffer));
            }
        } catch (RuntimeException | StackOverflowError e) {
            // The deepest known cause says most: a reducer that fails may only have been
            // reading a nested object (a process's target) whose class could not be loaded.
            Throwable cause = null;
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof RebuildFailed
                        || c instanceof org.apache.fory.exception.InsecureException
                        || c instanceof ClassNotFoundException
                        || c instanceof NoClassDefFoundError
                        || c instanceof ExceptionInInitializerError) {
                    cause = c;
                }
            }
            if (cause instanceof RebuildFailed rebuild) {
                throw new IllegalStateException(rebuild.getMessage(), e);
            }
            if (cause == null && causedBy(e, StackOverflowError.class)) {
                throw new IllegalStateException("a received object is nested too deeply to read"
                        + " (" + size + " bytes; StackOverflowError): send a flatter structure",
                        e);
            }
            if (cause instanceof org.apache.fory.exception.InsecureException refused
                    && refused.getMessage() != null
                    && refused.getMessage().startsWith("Read depth exceed")) {
                throw new IllegalStateException("a received object is nested deeper than "
                        + MAX_DEPTH + " levels, more than this library reads (" + size
                        + " bytes): send a flatter structure", e);
            }
            if (cause instanceof org.apache.fory.exception.InsecureException refused
                    && refused.getMessage() != null
                    && (refused.getMessage().contains("maxGraphMemoryBytes")
                            || refused.getMessage().contains("maxUnbackedContainerItems"))) {
                throw new IllegalStateException("a received object would take more memory than"
                        + " one message may (" + maxGraphMemoryBytes() + " bytes, as Fory"
                        + " estimates it; " + size + " bytes arrived): raise -D"
                        + MAX_GRAPH_MEMORY_PROPERTY + " on the main JVM if the sender is trusted"
                        + " [" + refused.getMessage() + "]", e);
            }
            if (cause instanceof org.apache.fory.exception.InsecureException refused) {
                throw new IllegalStateException("a received message names a class the "
                        + "deserialization policy refuses: " + refused.getMessage()
                        + " (allow a class with -D" + ClassPolicy.ALLOW_PROPERTY
                        + "=name, see multiprocessing's package documentation)", e);
            }
            if (cause instanceof ExceptionInInitializerError thrown) {
                throw new IllegalStateException("a received object's class "
                        + initializing(thrown) + " failed to initialize in this process: "
                        + thrown.getCause(), e);
            }
            if (cause instanceof NoClassDefFoundError failed && failed.getMessage() != null
                    && failed.getMessage().startsWith("Could not initialize class")) {
                // Its static initializer threw at an earlier use.
                throw new IllegalStateException("a received object's class failed to initialize"
                        + " in this process (" + cause + ")", e);
            }
            if (cause != null) {
                throw new IllegalStateException("a received object's class cannot be loaded"
                        + " in this process (" + cause + "): it is not on this process's class"
                        + " path, and the sender's class loaders could not give it", e);
            }
            String hook = hookThatThrew(e, READING_HOOKS);
            if (hook != null) {
                throw new IllegalStateException("a received object could not be read: " + hook,
                        e);
            }
            throw new IllegalStateException("the received bytes (" + size
                    + ") are not an object this library serialized: " + e, e);
        } finally {
            HANDLES.set(outer);
        }
        long used = size - (buffer.size() - buffer.readerIndex());
        if (used != size) {
            // Trailing bytes mean a message this library did not write (or a torn one): what was
            // decoded from its start is not what the sender sent.
            throw new IllegalStateException("the received bytes (" + size + ") are not one "
                    + "object this library serialized: an object was decoded from the first "
                    + used + " of them");
        }
        // The serializer is back in the pool: what the reducers left for now may send.
        handles.runAfterRead();
        return value;
    }

    /** A class's own hooks that Java serialization calls as it reads an object. */
    private static final Set<String> READING_HOOKS = Set.of("readObject", "readObjectNoData",
            "readExternal", "readResolve");
    /** A class's own hooks that Java serialization calls as it writes an object. */
    private static final Set<String> WRITING_HOOKS = Set.of("writeObject", "writeExternal",
            "writeReplace");

    /**
     * Names the program's own hook among {@code hooks} (a class's {@code readObject}, say)
     * that threw the deepest cause of {@code e}, with what it threw; null if none did. Its
     * exception was the fourth cause down, under Fory's "Serialize object ... failed" and its
     * advice to register a serializer, or a message saying the bytes were not this library's
     * (attacks 45 and 46).
     */
    private static String hookThatThrew(Throwable e, Set<String> hooks) {
        Throwable deepest = e;
        for (Throwable c = e; c != null && c != c.getCause(); c = c.getCause()) {
            deepest = c;
        }
        for (StackTraceElement frame : deepest.getStackTrace()) {
            String cls = frame.getClassName();
            if (hooks.contains(frame.getMethodName())
                    && !cls.startsWith("org.apache.fory.") && !cls.startsWith("java.")
                    && !cls.startsWith("jdk.") && !isLibraryReader(cls)) {
                return cls + "." + frame.getMethodName() + " threw " + deepest;
            }
        }
        return null;
    }

    /**
     * Whether {@code cls} is one of this library's readers, whose {@code readObject()} (a
     * reducer's next object) is the library's own.
     */
    private static boolean isLibraryReader(String cls) {
        for (Class<?> reader : new Class<?>[] {Serialization.class, PlainStream.class,
                PlainValue.class, Reducer.class}) {
            if (cls.equals(reader.getName()) || cls.startsWith(reader.getName() + "$")) {
                return true;
            }
        }
        return false;
    }

    /** The class whose static initializer threw {@code e}, as its stack trace shows. */
    private static String initializing(ExceptionInInitializerError e) {
        Throwable thrown = e.getCause() != null ? e.getCause() : e;
        for (StackTraceElement frame : thrown.getStackTrace()) {
            if (frame.getMethodName().equals("<clinit>")) {
                return frame.getClassName();
            }
        }
        return "(unknown)";
    }

    public static Object deserialize(byte[] data) {
        return deserialize(data, Handles.received(new int[0]));
    }

    /** Builds the serializer now, off any latency-sensitive path. */
    public static void warmUp() {
        Holder.FORY.getClass();
    }

    /**
     * Builds the serializer on a thread of its own unless it is built: for a process that
     * will soon need it and waits for something meanwhile. A message that needs it before the
     * build ends waits for the build, as it would have built it.
     */
    public static void buildInBackground() {
        if (!built) {
            multiprocessing.internal.util.LibraryThreads.platform().daemon()
                    .name("multiprocessing-serializer-build-ahead").start(Serialization::warmUp);
        }
    }

    private static final String CANNOT_SEND = "cannot send ";

    /** Runs {@code work} with a pooled Fory and {@code handles} current, on a deep stack. */
    private static <T> T onDeepStack(Handles handles, java.util.function.Function<Fory, T> work) {
        return DeepStack.call(() -> {
            HANDLES.set(handles);
            try {
                return Holder.FORY.execute(work);
            } finally {
                HANDLES.remove();
            }
        });
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    /** How deeply nested a received object may be (Fory's {@code withMaxDepth}). */
    static final int MAX_DEPTH = 1 << 14;

    /**
     * A write that needed an array larger than the JVM makes (past ~2 GiB): refused as any
     * object that cannot be sent is, not an OutOfMemoryError a caller catching exceptions
     * misses (a function capturing 2.4 GB, attack 22b). A heap that ran out is rethrown.
     */
    private static IllegalArgumentException tooLarge(Object value, OutOfMemoryError e) {
        if (!pastArrayLimit(e)) {
            throw e;
        }
        return new IllegalArgumentException("cannot send an object of " + value.getClass()
                + " to another process: it serializes to more than a Java array holds (2 GiB)",
                e);
    }

    static IllegalArgumentException cannotSerialize(Object value, Throwable cause) {
        String detail = causedBy(cause, StackOverflowError.class)
                ? "it is nested too deeply to write (StackOverflowError): send a flatter"
                        + " structure"
                : pastArrayLimit(cause) ? "it serializes to more than a Java array holds (2 GiB)"
                : cause.getMessage() != null ? cause.getMessage() : cause.toString();
        String hook = hookThatThrew(cause, WRITING_HOOKS);
        if (hook != null) {
            detail = hook;
        }
        for (Throwable c = cause; c != null; c = c.getCause()) {
            if (c instanceof org.apache.fory.exception.InsecureException refused) {
                // Fory's own text suggests turning the registration check off: say ours.
                detail = "it holds a class the deserialization policy refuses on arrival ("
                        + refused.getMessage() + "); allow it with -D"
                        + ClassPolicy.ALLOW_PROPERTY + "=name";
                break;
            }
        }
        return new IllegalArgumentException(CANNOT_SEND + "an object of class "
                + (value == null ? "null" : value.getClass().getName())
                + " to another process: " + detail, cause);
    }

    /**
     * Whether {@code cause} says a write outgrew the largest byte array the JVM makes: Fory's
     * buffer fails with an IndexOutOfBoundsException whose index, or whose range's end, is past
     * every array ("arraycopy: last destination index 2516582810 out of bounds for
     * byte[2147483639]", "Range [1100000018, 1100000018 + 1100000000) out of bounds for length
     * 2147479552": a function capturing 2.4 GB, a list of two 1.1 GB arrays on a queue; attacks
     * 22b and 23b), a copy of it with an OutOfMemoryError ("Required array length ... is too
     * large").
     */
    static boolean pastArrayLimit(Throwable cause) {
        for (Throwable c = cause; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (m == null) {
                continue;
            }
            if (c instanceof OutOfMemoryError
                    && (m.startsWith("Required array length") || m.contains("exceeds VM limit"))) {
                return true;
            }
            if (c instanceof IndexOutOfBoundsException && indexPastArrays(m)) {
                return true;
            }
        }
        return false;
    }

    /** The largest length a byte array may have here (the JDK's own soft limit). */
    private static final long LARGEST_ARRAY = Integer.MAX_VALUE - 8;

    /**
     * Whether an index-out-of-bounds message names an index, or a range's end, that no array
     * reaches: the JDK writes them as decimal numbers ("Index i out of bounds for length n",
     * "Range [a, a + k) out of bounds for length n", "arraycopy: last destination index i
     * out of bounds for byte[n]").
     */
    private static boolean indexPastArrays(String m) {
        java.util.regex.Matcher range = IndexMessages.RANGE.matcher(m);
        if (range.find() && Long.parseLong(range.group(1)) + Long.parseLong(range.group(2))
                > LARGEST_ARRAY) {
            return true;
        }
        java.util.regex.Matcher number = IndexMessages.NUMBER.matcher(m);
        while (number.find()) {
            if (number.group().length() > 18 || Long.parseLong(number.group()) > LARGEST_ARRAY) {
                return true;
            }
        }
        return false;
    }

    /** Made at the first failure that needs them: every process initializes this class. */
    private static final class IndexMessages {
        static final java.util.regex.Pattern RANGE = java.util.regex.Pattern.compile(
                "\\[(\\d{1,18}), \\d{1,18} \\+ (\\d{1,18})\\)");
        static final java.util.regex.Pattern NUMBER = java.util.regex.Pattern.compile("\\d+");
    }

    static Handles handles() {
        Handles h = HANDLES.get();
        if (h == null) {
            throw new IllegalStateException("no serialization is under way");
        }
        return h;
    }

    /**
     * A received object's reducer could not rebuild it here (a shared memory segment unlinked
     * before it arrived, a descriptor that did not come): the message says which and why,
     * however deep in the received value it was.
     */
    private static final class RebuildFailed extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        RebuildFailed(Class<?> type, RuntimeException cause) {
            super("a received " + type.getSimpleName() + " cannot be rebuilt in this process: "
                    + cause.getMessage(), cause);
        }
    }

    /** Adapts a {@link Reducer} to Fory. */
    private static final class ReducerSerializer<T> extends Serializer<T> {
        private final Reducer<T> reducer;
        private final Class<T> type;

        ReducerSerializer(org.apache.fory.config.Config config, Class<T> type, Reducer<T> reducer) {
            super(config, type);
            this.reducer = reducer;
            this.type = type;
        }

        @Override
        public void write(WriteContext context, T value) {
            handles().reduced++;
            reducer.reduce(value, new Reducer.Out() {
                @Override
                public void writeInt(int v) {
                    context.writeVarInt32(v);
                }

                @Override
                public void writeLong(long v) {
                    context.writeVarInt64(v);
                }

                @Override
                public void writeBoolean(boolean v) {
                    context.writeBoolean(v);
                }

                @Override
                public void writeString(String v) {
                    context.writeString(v);
                }

                @Override
                public void writeObject(Object v) {
                    context.writeRef(v);
                }

                @Override
                public void writeFd(int fd) {
                    context.writeVarInt32(handles().add(fd));
                }

                @Override
                public boolean carriesFds() {
                    return handles().carriesFds();
                }

                @Override
                public void afterSend(Runnable action) {
                    handles().afterSend(action);
                }

                @Override
                public void ifUnsent(Runnable action) {
                    handles().ifUnsent(action);
                }

                @Override
                public void readOnce() {
                    handles().readOnce();
                }

                @Override
                public boolean spawning() {
                    return handles().isSpawning();
                }
            });
        }

        @Override
        public T read(ReadContext context) {
            handles().reduced++;
            try {
                return rebuild(context);
            } catch (RebuildFailed e) {
                throw e;
            } catch (RuntimeException e) {
                throw new RebuildFailed(type, e);
            }
        }

        private T rebuild(ReadContext context) {
            return reducer.rebuild(new Reducer.In() {
                @Override
                public int readInt() {
                    return context.readVarInt32();
                }

                @Override
                public long readLong() {
                    return context.readVarInt64();
                }

                @Override
                public boolean readBoolean() {
                    return context.readBoolean();
                }

                @Override
                public String readString() {
                    return context.readString();
                }

                @Override
                public Object readObject() {
                    return context.readRef();
                }

                @Override
                public int readFd() {
                    return handles().take(context.readVarInt32());
                }

                @Override
                public void reference(Object rebuilt) {
                    context.reference(rebuilt);
                }

                @Override
                public void afterRead(Runnable action) {
                    handles().afterRead(action);
                }
            });
        }
    }
}
