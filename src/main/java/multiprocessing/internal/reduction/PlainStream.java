package multiprocessing.internal.reduction;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.InvocationHandler;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A process's payload written without Fory, when it is made only of what most programs start
 * a process with: a serializable lambda, the values it captures (boxed primitives, strings,
 * arrays of bytes, ints, longs and doubles, immutable lists, other such lambdas) and the
 * library's reduced objects
 * (a lock, a queue, a shared value, a connection), each written by its own {@link Reducer} as
 * Fory writes it. A fresh child reads it before anything else, and building Fory there cost
 * about 70 ms of the child's start and 100 ms of its CPU (bench/RESULTS.md, ninth session):
 * a child whose target sends no object never builds it. The writer refuses, with
 * {@link Unsupported}, at the first object of any other kind, and {@link Serialization} then
 * writes the whole payload with Fory: this stream is an abbreviation of Fory's for one
 * message, not a second serialization.
 *
 * <p>Implementation note. The stream is a tag per value, then the value. A reduced object, a
 * lambda and an array get a number when first written (in the order written), and a later
 * write of the same object writes that number instead (Fory's reference tracking), so an
 * object captured twice arrives once. Strings are written as UTF-16 units and floating-point
 * numbers as their raw bits, so that both arrive exactly as Fory delivers them, and objects
 * nest at most {@value #MAX_DEPTH} deep here (deeper ones go to Fory, which reads up to
 * {@code Serialization.MAX_DEPTH} levels). A lambda is written
 * as its {@link SerializedLambda} (what its {@code writeReplace} returns, as Java serialization
 * and Fory write it) and rebuilt by its capturing class's {@code $deserializeLambda$}; the
 * writer refuses a lambda whose class, or whose capturing class, does not let this module in
 * (a named module that does not open its package), which Fory reaches by other means. A
 * received class name is loaded only if the library's deserialization policy allows it; a
 * reduced class only if it is one named here.
 */
final class PlainStream {
    private PlainStream() {}

    private static final int NULL = 0;
    private static final int TRUE = 1;
    private static final int FALSE = 2;
    private static final int INT = 3;
    private static final int LONG = 4;
    private static final int DOUBLE = 5;
    private static final int FLOAT = 6;
    private static final int SHORT = 7;
    private static final int BYTE = 8;
    private static final int CHAR = 9;
    private static final int STRING = 10;
    private static final int BYTES = 11;
    private static final int INTS = 12;
    private static final int LONGS = 13;
    private static final int DOUBLES = 14;
    private static final int LIST = 15;
    private static final int REDUCED = 16;
    private static final int LAMBDA = 17;
    private static final int BACK = 18;
    private static final int PROXY = 19;
    /**
     * An {@code ArrayList}, {@code HashMap} or {@code LinkedHashMap} (exactly: Fory rebuilds a
     * subclass as itself) of plain values, numbered as an array is (two lambdas that capture one
     * list give the child one list); a map of {@code Map.of}'s classes. A process given the
     * program's list of files or map of settings started without Fory only from Java 21's
     * immutable lists.
     */
    private static final int ARRAY_LIST = 20;
    private static final int HASH_MAP = 21;
    private static final int LINKED_HASH_MAP = 22;
    private static final int IMMUTABLE_MAP = 23;

    /** The value holds an object this stream does not write: write it all with Fory. */
    static final class Unsupported extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unsupported(String why) {
            super(why, null, false, false);
        }
    }

    /**
     * Writes {@code value}, collecting the descriptors its reducers name in {@code handles}.
     *
     * @throws Unsupported at the first object this stream does not write
     */
    static Written write(Object value, Handles handles) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        Writer writer = new Writer(new DataOutputStream(bytes), handles);
        writer.value(value);
        return new Written(bytes.toByteArray(), writer.channels, writer.linking,
                !writer.reduced && !writer.mutable);
    }

    /**
     * What {@link #write} wrote.
     *
     * @param bytes    the stream
     * @param channels whether it holds a {@link Serialization#CHANNEL_CLASSES channel}
     * @param linking  whether one of them has its receiver link the libc layer at once
     *                 ({@link Reducer#linksAtOnce})
     * @param immutable whether it holds only immutable values: no reduced object (whose
     *                 reducer may count each time it is written) and no array (which its holder
     *                 may change), so that the bytes stand for the value as long as it lives,
     *                 and one rebuilt copy for as many as are wanted
     */
    record Written(byte[] bytes, boolean channels, boolean linking, boolean immutable) {}

    /**
     * Reads what {@link #write} wrote, from {@code offset} to the end of {@code data}; the
     * descriptors its reducers name are taken from {@code handles}.
     *
     * @throws IllegalStateException when the bytes are not such a value, or name a class this
     *         process refuses or cannot load
     */
    static Object read(byte[] data, int offset, Handles handles) {
        DataInputStream in = new DataInputStream(
                new java.io.ByteArrayInputStream(data, offset, data.length - offset));
        Reader reader = new Reader(in, handles);
        Object value;
        try {
            value = reader.value();
            if (in.available() != 0) {
                throw new IllegalStateException("the received bytes (" + (data.length - offset)
                        + ") are not one value: " + in.available() + " of them are left over");
            }
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalStateException("the received bytes (" + (data.length - offset)
                    + ") end inside a value: " + e, e);
        } catch (StackOverflowError e) {
            // Forged bytes (a map keyed by a list that holds the map, whose hash recurses while
            // the map is read), or a program's such map, whose hash recursed in the sender too.
            throw new IllegalStateException("the received bytes (" + (data.length - offset)
                    + ") hold a value that holds itself where it is hashed");
        }
        handles.runAfterRead();
        return value;
    }

    private static final class Writer implements Reducer.Out {
        private final DataOutputStream out;
        private final Handles handles;
        private final Map<Object, Integer> numbers = new IdentityHashMap<>();
        /** Whether a reducer of {@link #LEAVES} has written (and counted what it sent). */
        private boolean committed;
        /** Whether a channel (a queue, a connection) has been written. */
        private boolean channels;
        /** Whether one whose receiver links the libc layer at once has ({@link Written}). */
        private boolean linking;
        /** Whether any reduced object has been written. */
        private boolean reduced;
        /** Whether any array (which its holder may change) has been written. */
        private boolean mutable;
        private int depth;

        Writer(DataOutputStream out, Handles handles) {
            this.out = out;
            this.handles = handles;
        }

        void value(Object v) {
            try {
                tagged(v);
            } catch (IOException e) {
                throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
            }
        }

        private void tagged(Object v) throws IOException {
            // An if chain, not a switch on types: such a switch spins a class at its first use
            // in every JVM, which no AOT cache keeps (1-2 ms of a child's start).
            if (v == null) {
                out.writeByte(NULL);
            } else if (v instanceof Boolean b) {
                out.writeByte(b ? TRUE : FALSE);
            } else if (v instanceof Integer i) {
                out.writeByte(INT);
                out.writeInt(i);
            } else if (v instanceof Long l) {
                out.writeByte(LONG);
                out.writeLong(l);
            } else if (v instanceof Double d) {
                // Raw bits, as Fory writes them: a NaN's payload arrives as it was.
                out.writeByte(DOUBLE);
                out.writeLong(Double.doubleToRawLongBits(d));
            } else if (v instanceof Float f) {
                out.writeByte(FLOAT);
                out.writeInt(Float.floatToRawIntBits(f));
            } else if (v instanceof Short sh) {
                out.writeByte(SHORT);
                out.writeShort(sh);
            } else if (v instanceof Byte b) {
                out.writeByte(BYTE);
                out.writeByte(b);
            } else if (v instanceof Character c) {
                out.writeByte(CHAR);
                out.writeChar(c);
            } else if (v instanceof String str) {
                out.writeByte(STRING);
                string(str);
            } else {
                object(v);
            }
        }

        private void object(Object v) throws IOException {
            Integer number = numbers.get(v);
            if (number != null) {
                out.writeByte(BACK);
                out.writeInt(number);
                return;
            }
            if (++depth > MAX_DEPTH) {
                throw refusal("objects nested deeper than " + MAX_DEPTH);
            }
            try {
                nonNull(v);
            } finally {
                depth--;
            }
        }

        /**
         * A manager's proxy: its interfaces' names, then its handler as the handler's reducer
         * writes it, as {@link PlainValue} writes one in a message. Counted as sent like a leaf:
         * the reducer counts a reference for the receiver.
         */
        private void proxy(Object proxy) throws IOException {
            numbers.put(proxy, numbers.size());
            reduced = true;
            channels = true; // a proxy calls its server over a connection of its own
            linking = true;
            out.writeByte(PROXY);
            ProxyImage image = ProxyImage.of(proxy);
            out.writeInt(image.interfaces().size());
            for (Class<?> i : image.interfaces()) {
                string(i.getName());
            }
            InvocationHandler handler = image.handler();
            committed = true;
            reduce(Serialization.reducerOf(handler.getClass()), handler);
        }

        /** Numbers {@code array} and writes its tag and length; its elements follow. */
        private void array(Object array, int tag, int length) throws IOException {
            mutable = true;
            numbers.put(array, numbers.size());
            out.writeByte(tag);
            out.writeInt(length);
        }

        private void nonNull(Object v) throws IOException {
            // An array is numbered, as Fory tracks it: two lambdas that capture one array give
            // the child one array.
            if (v instanceof byte[] a) {
                array(a, BYTES, a.length);
                out.write(a);
                return;
            }
            if (v instanceof int[] a) {
                array(a, INTS, a.length);
                for (int x : a) {
                    out.writeInt(x);
                }
                return;
            }
            if (v instanceof long[] a) {
                array(a, LONGS, a.length);
                for (long x : a) {
                    out.writeLong(x);
                }
                return;
            }
            if (v instanceof double[] a) {
                array(a, DOUBLES, a.length);
                for (double x : a) {
                    out.writeLong(Double.doubleToRawLongBits(x));
                }
                return;
            }
            if (managerProxy(v)) {
                proxy(v);
                return;
            }
            Class<?> type = v.getClass();
            Reducer<?> reducer = Serialization.reducerOf(type);
            if (reducer != null) {
                // A reduced object that carries the program's objects (a pool's worker as a
                // process's target) would reach them only after reducers that count what they
                // send: refused here, before any has run. The payload's process is the one
                // such object written, and only as the payload itself.
                boolean payload = type.getName().equals(PROCESS) && numbers.isEmpty();
                if (!payload && !LEAVES.contains(type.getName())
                        && !carriesOnlyPlain(type, reducer, v)) {
                    throw refusal("an object of " + type + ", which may hold the program's");
                }
                numbers.put(v, numbers.size());
                reduced = true;
                out.writeByte(REDUCED);
                string(type.getName());
                if (LEAVES.contains(type.getName())) {
                    committed = true;
                }
                if (Serialization.CHANNEL_CLASSES.contains(type.getName())) {
                    channels = true;
                    linking |= linksAtOnce(reducer, v);
                }
                reduce(reducer, v);
            } else if (isImmutableList(type)
                    && ((List<?>) v).stream().noneMatch(java.util.Objects::isNull)) {
                List<?> list = (List<?>) v;
                out.writeByte(LIST);
                out.writeInt(list.size());
                for (Object element : list) {
                    tagged(element);
                }
            } else if (type == java.util.ArrayList.class) {
                List<?> list = (List<?>) v;
                array(v, ARRAY_LIST, list.size());
                for (Object element : list) {
                    tagged(element);
                }
            } else if (type == java.util.HashMap.class || type == java.util.LinkedHashMap.class
                    || isImmutableMap(type)) {
                Map<?, ?> map = (Map<?, ?>) v;
                if (isImmutableMap(type)) {
                    out.writeByte(IMMUTABLE_MAP);
                    out.writeInt(map.size());
                } else {
                    array(v, type == java.util.HashMap.class ? HASH_MAP : LINKED_HASH_MAP,
                            map.size());
                }
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    tagged(e.getKey());
                    tagged(e.getValue());
                }
            } else if (type.isHidden() && v instanceof Serializable) {
                SerializedLambda lambda = serializedLambda(v);
                // Looked at whole before any of it is written: a reducer may count what it
                // writes as sent (a heap block's holders), and a refusal after that would have
                // Fory's write count it again.
                java.util.Set<Object> met = met();
                for (int i = 0; i < lambda.getCapturedArgCount(); i++) {
                    // At the depth each is written at: one the check let through is written.
                    if (!plain(lambda.getCapturedArg(i), depth + 1, met)) {
                        throw new Unsupported("a lambda that captures an object of "
                                + lambda.getCapturedArg(i).getClass());
                    }
                }
                numbers.put(v, numbers.size());
                out.writeByte(LAMBDA);
                string(lambda.getCapturingClass());
                string(lambda.getFunctionalInterfaceClass());
                string(lambda.getFunctionalInterfaceMethodName());
                string(lambda.getFunctionalInterfaceMethodSignature());
                out.writeInt(lambda.getImplMethodKind());
                string(lambda.getImplClass());
                string(lambda.getImplMethodName());
                string(lambda.getImplMethodSignature());
                string(lambda.getInstantiatedMethodType());
                out.writeInt(lambda.getCapturedArgCount());
                for (int i = 0; i < lambda.getCapturedArgCount(); i++) {
                    tagged(lambda.getCapturedArg(i));
                }
            } else {
                throw refusal("an object of " + type);
            }
        }

        /**
         * Refuses, before any reducer that counts what it writes has run; after one, a refusal
         * is this class's error (what the lambda's check let through), not the caller's case.
         */
        private RuntimeException refusal(String what) {
            if (committed) {
                return new IllegalStateException("the plain stream met " + what + " after a "
                        + "reducer had written: its check before the lambda missed it");
            }
            return new Unsupported(what);
        }

        @SuppressWarnings("unchecked")
        private <T> void reduce(Reducer<T> reducer, Object v) {
            reducer.reduce((T) v, this);
        }

        @SuppressWarnings("unchecked")
        private static <T> boolean linksAtOnce(Reducer<T> reducer, Object v) {
            return reducer.linksAtOnce((T) v);
        }

        /**
         * Whether {@code v}, of one of the {@link #CARRIERS}, carries only what this stream
         * writes, each looked at before any of it is written (as a lambda's captured values).
         */
        private static <T> boolean carriesOnlyPlain(Class<?> type, Reducer<T> reducer, Object v) {
            return CARRIERS.contains(type.getName()) && plain(v);
        }

        /** As UTF-16 units: exact for every string, a lone surrogate included. */
        private void string(String s) throws IOException {
            out.writeInt(s.length());
            out.writeChars(s);
        }

        /** What a serializable lambda's {@code writeReplace} gives, if this module may call it. */
        private static SerializedLambda serializedLambda(Object lambda) {
            try {
                return Lambdas.serialized(lambda);
            } catch (Lambdas.Refused e) {
                throw new Unsupported(e.getMessage());
            }
        }

        @Override
        public void writeInt(int v) {
            unchecked(() -> {
                out.writeInt(v);
                return null;
            });
        }

        @Override
        public void writeLong(long v) {
            unchecked(() -> {
                out.writeLong(v);
                return null;
            });
        }

        @Override
        public void writeBoolean(boolean v) {
            unchecked(() -> {
                out.writeBoolean(v);
                return null;
            });
        }

        @Override
        public void writeString(String v) {
            value(v);
        }

        @Override
        public void writeObject(Object v) {
            value(v);
        }

        @Override
        public void writeFd(int fd) {
            writeInt(handles.add(fd));
        }

        @Override
        public void afterSend(Runnable action) {
            handles.afterSend(action);
        }

        @Override
        public void ifUnsent(Runnable action) {
            handles.ifUnsent(action);
        }

        @Override
        public void readOnce() {
            handles.readOnce();
        }

        @Override
        public boolean carriesFds() {
            return handles.carriesFds();
        }

        @Override
        public boolean spawning() {
            return handles.isSpawning();
        }
    }

    /**
     * The library's reduced classes whose reducers write only what this stream writes
     * (numbers, strings, descriptors and other such objects), with nothing of the program's:
     * a lambda may capture them. A process, a pool's worker, a manager's registration or
     * message carries the program's objects, and goes to Fory when captured; the reader
     * accepts no reduced class but these and the payload's own process.
     */
    static final java.util.Set<String> LEAVES = Serialization.leafClasses();

    /**
     * How deep objects may nest in a payload written here, as Fory bounds its own (its default,
     * 50): a deeper one is written by Fory, which refuses it with its own message.
     */
    static final int MAX_DEPTH = 50;

    /** The payload itself: a reduced class besides {@link #LEAVES} this stream reads. */
    private static final String PROCESS = "multiprocessing.Process";

    /**
     * The library's reduced classes that carry the program's objects and say which
     * ({@link Reducer#carried}), written here when all of those are: a pool's worker with no
     * initializer or a plain one, so that a worker's JVM starts without building Fory (~30 ms
     * of its start; bench/RESULTS.md, seventeenth session), and a manager's registered types
     * with plain callables, which its server process starts with (~50 ms; eighteenth session),
     * and that server's target. The reader accepts them too.
     */
    static final java.util.Set<String> CARRIERS = java.util.Set.of("multiprocessing.pool.Worker",
            "multiprocessing.internal.managers.Registration",
            "multiprocessing.internal.managers.ServerTarget");

    /** The handler of a manager's proxy (named, not linked: managers sit above this layer). */
    private static final String PROXY_HANDLER = "multiprocessing.internal.managers.ProxyHandler";

    /**
     * Whether {@code v} is a manager's proxy: one made in this JVM ({@link ProxyImage#of})
     * whose handler is the library's (any other handler is a gadget's, which the
     * deserialization policy refuses).
     */
    private static boolean managerProxy(Object v) {
        ProxyImage image = v instanceof ProxyImage ? null : ProxyImage.of(v);
        return image != null && image.handler().getClass().getName().equals(PROXY_HANDLER);
    }

    /** What {@code v}, of one of the {@link #CARRIERS}, carries ({@link Reducer#carried}). */
    @SuppressWarnings("unchecked")
    private static <T> List<Object> carried(Reducer<T> reducer, Object v) {
        return reducer == null ? null : reducer.carried((T) v);
    }

    /** Whether this stream writes {@code v} whole, looked at without writing any of it. */
    static boolean plain(Object v) {
        return plain(v, 0, met());
    }

    /** A set of objects by identity, for {@link #plain(Object, int, Set)}. */
    static java.util.Set<Object> met() {
        return java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    }

    /**
     * Whether {@code v} is written here, {@code depth} objects deep, {@code met} holding the
     * collections and lambdas already looked at: one the writer numbers (a lambda, an
     * {@code ArrayList}, a {@code HashMap}) is looked at once and written once, later as a
     * reference back to it; an immutable list or map (which this stream writes whole wherever
     * it is reached, as it has no identity to keep) reached twice goes to Fory, which keeps it
     * once (a graph sharing them would grow as a tree, 2^depth).
     */
    private static boolean plain(Object v, int depth, java.util.Set<Object> met) {
        if (depth > MAX_DEPTH) {
            return false;
        }
        if (v == null || v instanceof Boolean || v instanceof Integer || v instanceof Long
                || v instanceof Double || v instanceof Float || v instanceof Short
                || v instanceof Byte || v instanceof Character || v instanceof String
                || v instanceof byte[] || v instanceof int[] || v instanceof long[]
                || v instanceof double[]) {
            return true;
        }
        Class<?> type = v.getClass();
        if (LEAVES.contains(type.getName())) {
            return Serialization.reducerOf(type) != null;
        }
        if (CARRIERS.contains(type.getName())) {
            List<Object> carried = carried(Serialization.reducerOf(type), v);
            return carried != null && carried.stream().allMatch(c -> plain(c, depth + 1, met));
        }
        if (managerProxy(v)) {
            return true; // its handler's reducer writes strings, numbers and a key's bytes
        }
        boolean immutable = isImmutableList(type) || isImmutableMap(type);
        boolean numbered = type == java.util.ArrayList.class || type == java.util.HashMap.class
                || type == java.util.LinkedHashMap.class
                || type.isHidden() && v instanceof Serializable;
        if ((immutable || numbered) && !met.add(v)) {
            return numbered;
        }
        if (isImmutableList(type)) {
            // Stream.toList() makes such a list with nulls in it, which List.of refuses.
            return ((List<?>) v).stream().allMatch(e -> e != null && plain(e, depth + 1, met));
        }
        if (type == java.util.ArrayList.class) {
            for (Object e : (List<?>) v) {
                if (!plain(e, depth + 1, met)) {
                    return false;
                }
            }
            return true;
        }
        if (type == java.util.HashMap.class || type == java.util.LinkedHashMap.class
                || isImmutableMap(type)) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!plain(e.getKey(), depth + 1, met) || !plain(e.getValue(), depth + 1, met)) {
                    return false;
                }
            }
            return true;
        }
        if (type.isHidden() && v instanceof Serializable) {
            SerializedLambda lambda;
            try {
                lambda = Writer.serializedLambda(v);
            } catch (Unsupported e) {
                return false;
            }
            for (int i = 0; i < lambda.getCapturedArgCount(); i++) {
                if (!plain(lambda.getCapturedArg(i), depth + 1, met)) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    /** A read or write of the stream, which a reducer's {@code In} or {@code Out} runs. */
    private interface Io<T> {
        T run() throws IOException;
    }

    /** Runs {@code io} for a reducer, whose methods throw no checked exception. */
    private static <T> T unchecked(Io<T> io) {
        try {
            return io.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The lists {@code List.of} and {@code List.copyOf} make: rebuilt as such a list. */
    private static boolean isImmutableList(Class<?> type) {
        return type == IMMUTABLE_LIST_12 || type == IMMUTABLE_LIST_N;
    }

    private static boolean isImmutableMap(Class<?> type) {
        return type == IMMUTABLE_MAP_1 || type == IMMUTABLE_MAP_N;
    }

    private static final Class<?> IMMUTABLE_MAP_1 = Map.of(1, 1).getClass();
    private static final Class<?> IMMUTABLE_MAP_N = Map.of().getClass();
    private static final Class<?> IMMUTABLE_LIST_12 = List.of(1).getClass();
    private static final Class<?> IMMUTABLE_LIST_N = List.of().getClass();

    private static final class Reader implements Reducer.In {
        private final DataInputStream in;
        private final Handles handles;
        private final List<Object> numbered = new ArrayList<>();
        /** The number of the reduced object being rebuilt, for {@link #reference}. */
        private int rebuilding = -1;
        private int depth;

        Reader(DataInputStream in, Handles handles) {
            this.in = in;
            this.handles = handles;
        }

        private Object numbered(Object array) {
            numbered.add(array);
            return array;
        }

        Object value() throws IOException {
            if (++depth > MAX_DEPTH) {
                throw new IllegalStateException("the received bytes nest objects deeper than "
                        + MAX_DEPTH);
            }
            try {
                return tagged();
            } finally {
                depth--;
            }
        }

        private Object tagged() throws IOException {
            int tag = in.readUnsignedByte();
            return switch (tag) {
                case NULL -> null;
                case TRUE -> Boolean.TRUE;
                case FALSE -> Boolean.FALSE;
                case INT -> in.readInt();
                case LONG -> in.readLong();
                case DOUBLE -> Double.longBitsToDouble(in.readLong());
                case FLOAT -> Float.intBitsToFloat(in.readInt());
                case SHORT -> in.readShort();
                case BYTE -> in.readByte();
                case CHAR -> in.readChar();
                case STRING -> string();
                case BYTES -> {
                    byte[] a = new byte[length(1)];
                    in.readFully(a);
                    yield numbered(a);
                }
                case INTS -> {
                    int[] a = new int[length(Integer.BYTES)];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = in.readInt();
                    }
                    yield numbered(a);
                }
                case LONGS -> {
                    long[] a = new long[length(Long.BYTES)];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = in.readLong();
                    }
                    yield numbered(a);
                }
                case DOUBLES -> {
                    double[] a = new double[length(Double.BYTES)];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = Double.longBitsToDouble(in.readLong());
                    }
                    yield numbered(a);
                }
                case LIST -> {
                    Object[] elements = new Object[length(1)];
                    for (int i = 0; i < elements.length; i++) {
                        elements[i] = value();
                    }
                    yield List.of(elements);
                }
                case ARRAY_LIST -> {
                    int n = length(1); // each element is at least its tag
                    java.util.ArrayList<Object> list = new java.util.ArrayList<>(n);
                    numbered(list);
                    for (int i = 0; i < n; i++) {
                        list.add(value());
                    }
                    yield list;
                }
                case HASH_MAP, LINKED_HASH_MAP -> {
                    int n = length(2); // each entry is at least two tags
                    Map<Object, Object> map = tag == HASH_MAP ? java.util.HashMap.newHashMap(n)
                            : java.util.LinkedHashMap.newLinkedHashMap(n);
                    numbered(map);
                    for (int i = 0; i < n; i++) {
                        Object key = value();
                        map.put(key, value());
                    }
                    yield map;
                }
                case IMMUTABLE_MAP -> {
                    @SuppressWarnings("unchecked")
                    Map.Entry<Object, Object>[] entries = new Map.Entry[length(2)];
                    for (int i = 0; i < entries.length; i++) {
                        Object key = value();
                        Object value = value();
                        if (key == null || value == null) {
                            throw new IllegalStateException("the received bytes hold an"
                                    + " immutable map holding null");
                        }
                        entries[i] = Map.entry(key, value);
                    }
                    try {
                        yield Map.ofEntries(entries);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalStateException("the received bytes hold an immutable"
                                + " map with a key twice", e);
                    }
                }
                case REDUCED -> reduced();
                case LAMBDA -> lambda();
                case PROXY -> proxy();
                case BACK -> {
                    int number = in.readInt();
                    if (number < 0 || number >= numbered.size()) {
                        throw new IllegalStateException("the received bytes refer to object #"
                                + number + " of " + numbered.size());
                    }
                    yield numbered.get(number);
                }
                default -> throw new IllegalStateException(
                        "the received bytes hold an unknown tag " + tag);
            };
        }

        /**
         * A count of elements, checked against the bytes left, so that a corrupt count fails
         * here rather than as an allocation of gigabytes. {@code available} is exact: the
         * stream reads an array.
         */
        private int length(int bytesEach) throws IOException {
            int n = in.readInt();
            if (n < 0 || (long) n * bytesEach > in.available()) {
                throw new IllegalStateException("the received bytes announce " + n
                        + " elements with " + in.available() + " bytes left");
            }
            return n;
        }

        private String string() throws IOException {
            char[] units = new char[length(Character.BYTES)];
            for (int i = 0; i < units.length; i++) {
                units[i] = in.readChar();
            }
            return new String(units);
        }

        private Object reduced() throws IOException {
            String name = string();
            if (!LEAVES.contains(name) && !name.equals(PROCESS) && !CARRIERS.contains(name)) {
                throw new IllegalStateException("the received bytes name " + name
                        + " as a reduced class; it is not one a payload may hold");
            }
            int number = numbered.size();
            numbered.add(null);
            Object rebuilt = rebuild(name, number);
            numbered.set(number, rebuilt);
            return rebuilt;
        }

        /** Rebuilds an object of the reduced class {@code name}, numbered {@code number}. */
        private Object rebuild(String name, int number) {
            Class<?> type;
            try {
                type = Class.forName(name, true, PlainStream.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            Reducer<?> reducer = Serialization.reducerOf(type);
            int outer = rebuilding;
            rebuilding = number;
            try {
                return reducer.rebuild(this);
            } catch (IllegalStateException e) {
                if (e.getMessage() != null && e.getMessage().startsWith(CANNOT_REBUILD)) {
                    throw e;
                }
                throw new IllegalStateException(CANNOT_REBUILD + type.getSimpleName()
                        + " cannot be rebuilt in this process: " + e.getMessage(), e);
            } catch (RuntimeException e) {
                throw new IllegalStateException(CANNOT_REBUILD + type.getSimpleName()
                        + " cannot be rebuilt in this process: " + e.getMessage(), e);
            } finally {
                rebuilding = outer;
            }
        }

        /** A manager's proxy: its interfaces, loaded as received classes are, then its handler. */
        private Object proxy() throws IOException {
            Class<?>[] interfaces = new Class<?>[length(Integer.BYTES)];
            if (interfaces.length == 0) {
                throw new IllegalStateException("the received bytes hold a proxy of no interface");
            }
            for (int i = 0; i < interfaces.length; i++) {
                interfaces[i] = Serialization.loadReceived(string());
            }
            int number = numbered.size();
            numbered.add(null);
            Object handler = rebuild(PROXY_HANDLER, number);
            Object proxy;
            try {
                proxy = new ProxyImage(List.of(interfaces), (InvocationHandler) handler).make();
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(CANNOT_REBUILD + "proxy of "
                        + List.of(interfaces) + " cannot be made in this process: "
                        + e.getMessage(), e);
            }
            numbered.set(number, proxy);
            return proxy;
        }

        private static final String CANNOT_REBUILD = "a received ";

        private Object lambda() throws IOException {
            String capturingName = string().replace('/', '.');
            // Before anything else is read: a name the policy refuses ends the read here.
            Class<?> capturing = Serialization.loadReceived(capturingName);
            String interfaceClass = string();
            String interfaceMethod = string();
            String interfaceSignature = string();
            int implKind = in.readInt();
            String implClass = string();
            String implMethod = string();
            String implSignature = string();
            String instantiatedType = string();
            Object[] captured = new Object[length(1)];
            // Numbered before what it captures, as the writer numbers it.
            int number = numbered.size();
            numbered.add(null);
            for (int i = 0; i < captured.length; i++) {
                captured[i] = value();
            }
            SerializedLambda serialized = new SerializedLambda(capturing, interfaceClass,
                    interfaceMethod, interfaceSignature, implKind, implClass, implMethod,
                    implSignature, instantiatedType, captured);
            Object lambda = Lambdas.rebuild(capturing, serialized);
            numbered.set(number, lambda);
            return lambda;
        }

        // No method references here: each is a class spun at its first use in a JVM whose
        // cache's tour did not read that kind of field (a child's start).
        private Object next() {
            try {
                return value();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public int readInt() {
            try {
                return in.readInt();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public long readLong() {
            try {
                return in.readLong();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public boolean readBoolean() {
            try {
                return in.readBoolean();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public String readString() {
            Object s = next();
            if (s != null && !(s instanceof String)) {
                throw new IllegalStateException("a received string is a " + s.getClass());
            }
            return (String) s;
        }

        @Override
        public Object readObject() {
            return next();
        }

        @Override
        public int readFd() {
            return handles.take(readInt());
        }

        @Override
        public void reference(Object rebuilt) {
            if (rebuilding >= 0) {
                numbered.set(rebuilding, rebuilt);
            }
        }

        @Override
        public void afterRead(Runnable action) {
            handles.afterRead(action);
        }
    }
}
