package multiprocessing.internal.reduction;

import java.nio.charset.StandardCharsets;

import org.apache.fory.memory.MemoryBuffer;

/**
 * A message that is one plain value (null, a boxed primitive, a string, a duration or a byte
 * array: what most queues and pipes carry, and a manager call's timeout), an {@code ArrayList}
 * of such values but byte arrays (a pool's chunk of items or its results), a list of {@code
 * List.of}'s or a {@code HashMap} of them (a manager's lists and dicts as their snapshots), a
 * serializable lambda that captures only such values and such lambdas (the function of a
 * manager dict's {@code merge}), a short {@code Object[]} of those (the library's own small
 * messages, such as a pool worker's and its tasks, and a manager call's arguments), or one of
 * the library's frequent messages ({@link #MESSAGES}), written without Fory: a process that
 * only ever sends and receives such values never builds Fory, which costs a fresh JVM hundreds
 * of milliseconds of CPU at its first message, and each such message is a tag and the value's
 * bytes.
 *
 * <p>Implementation note. The message starts with {@link #MARK}; Fory's messages start with
 * its header bitmap, whose flags are the low four bits, so a reader tells the two apart by the
 * first byte. The value arrives exactly as Fory delivers it: the same boxed class, a string's
 * UTF-16 units unchanged (Latin-1 strings as one byte a unit), floating-point numbers as their
 * raw bits. This is an abbreviation of Fory's message for one value, as {@link PlainStream}
 * is for a process's payload, not a second serialization.
 */
final class PlainValue {
    private PlainValue() {}

    /** The first byte of a plain value's message. */
    static final byte MARK = 'V';

    static final byte NULL = 0;
    private static final byte TRUE = 1;
    private static final byte FALSE = 2;
    private static final byte INT = 3;
    private static final byte LONG = 4;
    private static final byte DOUBLE = 5;
    private static final byte FLOAT = 6;
    private static final byte SHORT = 7;
    private static final byte BYTE = 8;
    private static final byte CHAR = 9;
    private static final byte LATIN1 = 10;
    private static final byte UTF16 = 11;
    private static final byte BYTES = 12;
    private static final byte OBJECTS = 13;

    /** One of the library's {@link #MESSAGES}: its index, then its reducer's fields. */
    private static final byte MESSAGE = 14;
    /** In a message's fields only: a {@code String[]} (a request's parameter types). */
    private static final byte STRINGS = 15;
    /** An {@code ArrayList} of immutable values. */
    private static final byte LIST = 16;
    /** A {@link java.lang.reflect.Proxy} whose handler is one of the {@link #MESSAGES}. */
    private static final byte PROXY = 17;
    /**
     * A list of {@code List.of}'s classes of immutable values, none null (what
     * {@code List.copyOf} returns: a SharedMemoryManager's segment names).
     */
    private static final byte IMMUTABLE_LIST = 18;
    /** A {@code HashMap} of immutable keys and values. */
    private static final byte MAP = 19;
    /**
     * A {@code LinkedHashMap} of immutable keys and values, in its order (Fory's too, which
     * keeps no access order): a manager's dict as its snapshot, which a dict proxy's
     * iteration, views, {@code toString} and {@code equals} read.
     */
    private static final byte LINKED_MAP = 20;
    /**
     * Arrays of numbers, as a byte array: a child that puts them in a queue (numeric work
     * often does) then sends its first item without building Fory (~100 ms of CPU).
     */
    private static final byte INTS = 21;
    private static final byte LONGS = 22;
    private static final byte DOUBLES = 23;
    /**
     * A serializable lambda capturing only immutable values and such lambdas (as
     * {@link PlainStream} writes one, see {@link Lambdas}): the function of a manager dict's
     * {@code merge(key, 1, Integer::sum)}, whose first call through Fory built it in the
     * caller and in the server (~100 ms of a program's first merge).
     */
    private static final byte LAMBDA = 24;

    /** How deep lambdas captured by lambdas may nest in a message written here. */
    private static final int MAX_LAMBDA_DEPTH = 8;

    /**
     * An exception of the JDK's or the library's that holds nothing but what every throwable
     * holds: a manager call's failure ({@link PlainThrowables}).
     */
    static final byte THROWABLE = 25;

    /**
     * A {@link java.time.Duration}: its seconds and nanoseconds. The library's timeouts are
     * durations, and a manager call with one (a queue's timed {@code get}, a lock's timed
     * {@code acquire}) had Fory built in the caller and the server for its first.
     */
    private static final byte DURATION = 26;

    /**
     * A map of {@code Map.of}'s classes of immutable keys and values (a {@code putAll} of
     * one): its entries, rebuilt by {@code Map.ofEntries} (as Fory rebuilds one).
     */
    private static final byte IMMUTABLE_MAP = 27;

    /** The classes of {@code List.of}'s lists: of one or two elements, and of any other count. */
    private static final Class<?> LIST_12 = java.util.List.of(0).getClass();
    private static final Class<?> LIST_N = java.util.List.of().getClass();
    /** The classes of {@code Map.of}'s maps: of one entry, and of any other count. */
    private static final Class<?> MAP_1 = java.util.Map.of(0, 0).getClass();
    private static final Class<?> MAP_N = java.util.Map.of().getClass();

    /** The most elements of an {@code Object[]} written here; a longer one goes to Fory. */
    static final int MAX_OBJECTS = 16;

    /**
     * The library's messages that cross most often, a manager's requests and replies (and the
     * last message of a link, and the hello that opens one, which may carry a descriptor),
     * written here by their own reducers: their fields are numbers, strings, byte arrays and
     * string arrays, and through Fory each cost 80-200 ns to write and as much to read, a
     * fifth of a manager's round trip (bench/RESULTS.md, eighteenth session). A proxy of a
     * manager's object is written as its interfaces and its handler, one of these messages
     * ({@link #PROXY_HANDLER}): a program whose manager calls pass plain values never builds
     * Fory. And an address, which a manager's client asks its server for when it connects.
     * Named, as this package does not depend on theirs.
     */
    private static final java.util.List<String> MESSAGES = java.util.List.of(
            "multiprocessing.internal.managers.Messages$Request",
            "multiprocessing.internal.managers.Messages$Response",
            "multiprocessing.internal.managers.Messages$Bye",
            "multiprocessing.internal.managers.Messages$Hello",
            "multiprocessing.internal.managers.ProxyHandler",
            "multiprocessing.connection.Address");

    /** The index in {@link #MESSAGES} of a manager proxy's handler. */
    private static final int PROXY_HANDLER =
            MESSAGES.indexOf("multiprocessing.internal.managers.ProxyHandler");

    /** The reducers of {@link #MESSAGES}, looked up once each. */
    private static final Reducer<?>[] MESSAGE_REDUCERS = new Reducer<?>[MESSAGES.size()];

    /** A class's index in {@link #MESSAGES}, or -1 (another class of the same name, say). */
    private static final ClassValue<Integer> MESSAGE_INDEX = new ClassValue<>() {
        @Override
        protected Integer computeValue(Class<?> type) {
            int i = MESSAGES.indexOf(type.getName());
            return i >= 0 && type.getClassLoader() == PlainValue.class.getClassLoader()
                    && Serialization.reducerOf(type) != null ? i : -1;
        }
    };

    /** Whether {@code value} is written here rather than by Fory. */
    static boolean writes(Object value) {
        if (value == null) {
            return true;
        }
        Class<?> c = value.getClass();
        if (c == Object[].class) {
            // A short array, as the library's own small messages are (a pool's worker says it
            // is ready with one, a task is one, a manager call's arguments are one): of
            // immutable values, number arrays, lists and maps of immutable values, lambdas and
            // exceptions, each array, list or map in it once (Fory keeps their identity: the
            // same array twice arrives as one, which this would not do).
            Object[] a = (Object[]) value;
            if (a.length > MAX_OBJECTS) {
                return false;
            }
            // The lambdas and exceptions of all the elements, by identity: one reached from two
            // (an exception and the one it caused) would be written, and arrive, twice.
            java.util.Set<Object> met = java.util.Collections.newSetFromMap(
                    new java.util.IdentityHashMap<>());
            for (int i = 0; i < a.length; i++) {
                Object e = a[i];
                if (immutable(e)) {
                    continue;
                }
                if (!numberArray(e.getClass()) && !plainList(e) && !immutableList(e)
                        && !plainMap(e) && !plainLambda(e, 0, met)
                        && !PlainThrowables.writes(e, met)) {
                    return false;
                }
                for (int j = 0; j < i; j++) {
                    if (a[j] == e) {
                        return false;
                    }
                }
            }
            return true;
        }
        return numberArray(c) || immutable(value) || plainList(value)
                || immutableList(value) || plainMap(value)
                || MESSAGE_INDEX.get(c) >= 0 || messageProxy(value)
                || plainLambda(value, 0, java.util.Collections.newSetFromMap(
                        new java.util.IdentityHashMap<>()))
                || PlainThrowables.writes(value, java.util.Collections.newSetFromMap(
                        new java.util.IdentityHashMap<>()));
    }

    /**
     * A serializable lambda this module may take apart and rebuild, which captures only
     * immutable values and such lambdas, {@code depth} lambdas deep, each met once ({@code met}:
     * this stream keeps no identity, and Fory would deliver a lambda captured twice once).
     */
    private static boolean plainLambda(Object value, int depth, java.util.Set<Object> met) {
        if (depth >= MAX_LAMBDA_DEPTH || !Lambdas.isLambda(value) || !met.add(value)) {
            return false;
        }
        java.lang.invoke.SerializedLambda lambda;
        try {
            lambda = Lambdas.serialized(value);
        } catch (Lambdas.Refused e) {
            return false;
        }
        for (int i = 0; i < lambda.getCapturedArgCount(); i++) {
            Object captured = lambda.getCapturedArg(i);
            if (!immutable(captured) && !plainLambda(captured, depth + 1, met)) {
                return false;
            }
        }
        return true;
    }

    /** An array of bytes, ints, longs or doubles. */
    private static boolean numberArray(Class<?> c) {
        return c == byte[].class || c == int[].class || c == long[].class
                || c == double[].class;
    }

    /** A list of {@code List.of}'s classes (Fory rebuilds it as one) of immutable values. */
    private static boolean immutableList(Object value) {
        Class<?> c = value.getClass();
        if (c != LIST_12 && c != LIST_N) {
            return false;
        }
        for (Object e : (java.util.List<?>) value) {
            // A null: Stream.toList's lists share ListN's class and take them, List.of not.
            if (e == null || !immutable(e)) {
                return false;
            }
        }
        return true;
    }

    /**
     * A {@code HashMap} or {@code LinkedHashMap} (exactly: Fory rebuilds a subclass as itself),
     * or one of {@code Map.of}'s, of immutable keys and values.
     */
    private static boolean plainMap(Object value) {
        Class<?> c = value.getClass();
        if (c != java.util.HashMap.class && c != java.util.LinkedHashMap.class && c != MAP_1
                && c != MAP_N) {
            return false;
        }
        for (java.util.Map.Entry<?, ?> e : ((java.util.Map<?, ?>) value).entrySet()) {
            if (!immutable(e.getKey()) || !immutable(e.getValue())) {
                return false;
            }
        }
        return true;
    }

    /**
     * A proxy (made, described or only an image: {@link ProxyImage#of}) whose handler is one
     * of the {@link #MESSAGES} (a manager's proxy).
     */
    private static boolean messageProxy(Object value) {
        ProxyImage image = ProxyImage.of(value);
        return image != null && !image.interfaces().isEmpty()
                && MESSAGE_INDEX.get(image.handler().getClass()) >= 0;
    }

    /**
     * An {@code ArrayList} (exactly: Fory rebuilds a subclass as itself) of immutable values:
     * a pool's chunk of items and its results, as most maps have them.
     */
    private static boolean plainList(Object value) {
        if (value.getClass() != java.util.ArrayList.class) {
            return false;
        }
        for (Object e : (java.util.ArrayList<?>) value) {
            if (!immutable(e)) {
                return false;
            }
        }
        return true;
    }

    private static boolean immutable(Object value) {
        if (value == null) {
            return true;
        }
        Class<?> c = value.getClass();
        return c == Integer.class || c == String.class || c == Long.class
                || c == Double.class || c == Boolean.class || c == Float.class
                || c == Short.class || c == Byte.class || c == Character.class
                || c == java.time.Duration.class;
    }

    /**
     * Writes {@code value}, one {@link #writes} accepts, at {@code out}'s writer index; the
     * descriptors a message's reducer names go to {@code handles}.
     */
    static void write(Object value, MemoryBuffer out, Handles handles) {
        out.writeByte(MARK);
        int message = value == null ? -1 : MESSAGE_INDEX.get(value.getClass());
        if (message >= 0) {
            out.writeByte(MESSAGE);
            message(value, message, out, handles);
            return;
        }
        ProxyImage image = ProxyImage.of(value);
        if (image != null) {
            proxy(image.interfaces().toArray(new Class<?>[0]), image.handler(), out, handles);
            return;
        }
        if (value != null && value.getClass() == Object[].class) {
            Object[] a = (Object[]) value;
            out.writeByte(OBJECTS);
            out.writeInt32(a.length);
            for (Object e : a) {
                element(e, out);
            }
            return;
        }
        element(value, out);
    }

    /** Writes a proxy (made or only described, {@link ProxyImage}): its interfaces, its handler. */
    private static void proxy(Class<?>[] interfaces, Object handler, MemoryBuffer out,
            Handles handles) {
        out.writeByte(PROXY);
        out.writeInt32(interfaces.length);
        for (Class<?> i : interfaces) {
            writeString(i.getName(), out);
        }
        message(handler, MESSAGE_INDEX.get(handler.getClass()), out, handles);
    }

    /** Writes one value, its tag first. */
    static void element(Object value, MemoryBuffer out) {
        // An if chain, not a switch on types: such a switch spins a class at its first use
        // in every JVM, which no AOT cache keeps (1-2 ms of a child's start).
        if (value == null) {
            out.writeByte(NULL);
        } else if (value instanceof Integer i) {
            out.writeByte(INT);
            out.writeInt32(i);
        } else if (value instanceof String s) {
            writeString(s, out);
        } else if (value instanceof Long l) {
            out.writeByte(LONG);
            out.writeInt64(l);
        } else if (value instanceof byte[] b) {
            out.writeByte(BYTES);
            out.writeInt32(b.length);
            out.writeBytes(b);
        } else if (value instanceof int[] a) {
            out.writeByte(INTS);
            out.writeInt32(a.length);
            out.writeInts(a);
        } else if (value instanceof long[] a) {
            out.writeByte(LONGS);
            out.writeInt32(a.length);
            out.writeLongs(a);
        } else if (value instanceof double[] a) {
            out.writeByte(DOUBLES);
            out.writeInt32(a.length);
            out.writeDoubles(a);
        } else if (value instanceof Double d) {
            out.writeByte(DOUBLE);
            out.writeInt64(Double.doubleToRawLongBits(d));
        } else if (value instanceof Boolean b) {
            out.writeByte(b ? TRUE : FALSE);
        } else if (value instanceof Float f) {
            out.writeByte(FLOAT);
            out.writeInt32(Float.floatToRawIntBits(f));
        } else if (value instanceof Short s) {
            out.writeByte(SHORT);
            out.writeInt16(s);
        } else if (value instanceof Byte b) {
            out.writeByte(BYTE);
            out.writeByte(b);
        } else if (value instanceof Character c) {
            out.writeByte(CHAR);
            out.writeInt16((short) c.charValue());
        } else if (value instanceof java.time.Duration d) {
            out.writeByte(DURATION);
            out.writeInt64(d.getSeconds());
            out.writeInt32(d.getNano());
        } else if (value.getClass() == java.util.ArrayList.class
                || value.getClass() == LIST_12 || value.getClass() == LIST_N) {
            java.util.List<?> list = (java.util.List<?>) value;
            out.writeByte(value.getClass() == java.util.ArrayList.class ? LIST : IMMUTABLE_LIST);
            out.writeInt32(list.size());
            for (Object e : list) {
                element(e, out);
            }
        } else if (value.getClass() == java.util.HashMap.class
                || value.getClass() == java.util.LinkedHashMap.class
                || value.getClass() == MAP_1 || value.getClass() == MAP_N) {
            java.util.Map<?, ?> map = (java.util.Map<?, ?>) value;
            out.writeByte(value.getClass() == java.util.HashMap.class ? MAP
                    : value.getClass() == java.util.LinkedHashMap.class ? LINKED_MAP
                    : IMMUTABLE_MAP);
            out.writeInt32(map.size());
            for (java.util.Map.Entry<?, ?> e : map.entrySet()) {
                element(e.getKey(), out);
                element(e.getValue(), out);
            }
        } else if (Lambdas.isLambda(value)) {
            lambda(Lambdas.serialized(value), out);
        } else if (value instanceof Throwable t) {
            PlainThrowables.write(t, out);
        } else {
            throw new IllegalArgumentException("not a plain value: " + value.getClass());
        }
    }

    /** Writes a lambda, one {@link #plainLambda} accepts, as its parts. */
    private static void lambda(java.lang.invoke.SerializedLambda lambda, MemoryBuffer out) {
        out.writeByte(LAMBDA);
        writeString(lambda.getCapturingClass().replace('/', '.'), out);
        writeString(lambda.getFunctionalInterfaceClass(), out);
        writeString(lambda.getFunctionalInterfaceMethodName(), out);
        writeString(lambda.getFunctionalInterfaceMethodSignature(), out);
        out.writeInt32(lambda.getImplMethodKind());
        writeString(lambda.getImplClass(), out);
        writeString(lambda.getImplMethodName(), out);
        writeString(lambda.getImplMethodSignature(), out);
        writeString(lambda.getInstantiatedMethodType(), out);
        out.writeInt32(lambda.getCapturedArgCount());
        for (int i = 0; i < lambda.getCapturedArgCount(); i++) {
            element(lambda.getCapturedArg(i), out);
        }
    }

    static void writeString(String s, MemoryBuffer out) {
        int n = s.length();
        boolean latin1 = true;
        for (int i = 0; i < n && latin1; i++) {
            latin1 = s.charAt(i) < 256;
        }
        out.writeByte(latin1 ? LATIN1 : UTF16);
        out.writeInt32(n);
        if (latin1) {
            out.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
        } else {
            for (int i = 0; i < n; i++) {
                out.writeInt16((short) s.charAt(i));
            }
        }
    }

    /**
     * Reads the value of a message {@link #write} wrote, from its mark at {@code in}'s reader
     * index; the message must end where the value does.
     *
     * @throws IllegalStateException when the bytes are not such a message
     */
    static Object read(MemoryBuffer in, Handles handles) {
        long size = in.size() - in.readerIndex();
        try {
            in.readByte(); // MARK
            byte tag = in.readByte();
            Object value;
            if (tag == MESSAGE) {
                value = message(in, handles);
            } else if (tag == PROXY) {
                value = proxy(in, handles);
            } else if (tag == OBJECTS) {
                int n = length(in, 1); // each element is at least its tag
                if (n > MAX_OBJECTS) {
                    throw new IllegalStateException("an array of " + n + " elements");
                }
                Object[] a = new Object[n];
                for (int i = 0; i < n; i++) {
                    byte t = in.readByte();
                    if (t == OBJECTS || t == MESSAGE || t == STRINGS) {
                        throw new IllegalStateException("an array holding tag " + t);
                    }
                    a[i] = element(t, in);
                }
                value = a;
            } else {
                value = element(tag, in);
            }
            if (in.readerIndex() != in.size()) {
                throw new IllegalStateException("trailing bytes after the value");
            }
            return value;
        } catch (IndexOutOfBoundsException | IllegalStateException | ClassCastException
                | IllegalArgumentException | NegativeArraySizeException e) {
            // The last three: a message whose fields are of other kinds than its reducer reads.
            throw new IllegalStateException("the received bytes (" + size + ") are not a value"
                    + " this library serialized: " + e.getMessage(), e);
        }
    }

    /** Reads one value whose {@code tag} has been read. */
    private static Object element(byte tag, MemoryBuffer in) {
        return switch (tag) {
            case NULL -> null;
            case TRUE -> Boolean.TRUE;
            case FALSE -> Boolean.FALSE;
            case INT -> in.readInt32();
            case LONG -> in.readInt64();
            case DOUBLE -> Double.longBitsToDouble(in.readInt64());
            case FLOAT -> Float.intBitsToFloat(in.readInt32());
            case SHORT -> in.readInt16();
            case BYTE -> in.readByte();
            case CHAR -> (char) in.readInt16();
            case LATIN1 -> new String(in.readBytes(length(in, 1)), StandardCharsets.ISO_8859_1);
            case UTF16 -> {
                int n = length(in, 2);
                char[] chars = new char[n];
                for (int i = 0; i < n; i++) {
                    chars[i] = (char) in.readInt16();
                }
                yield new String(chars);
            }
            case BYTES -> in.readBytes(length(in, 1));
            case INTS -> {
                int[] a = new int[length(in, Integer.BYTES)];
                in.readInt32ArrayBytes(a, a.length * Integer.BYTES);
                yield a;
            }
            case LONGS -> {
                long[] a = new long[length(in, Long.BYTES)];
                in.readInt64ArrayBytes(a, a.length * Long.BYTES);
                yield a;
            }
            case DOUBLES -> {
                double[] a = new double[length(in, Double.BYTES)];
                in.readFloat64ArrayBytes(a, a.length * Double.BYTES);
                yield a;
            }
            case LIST -> {
                int n = length(in, 1); // each element is at least its tag
                java.util.ArrayList<Object> list = new java.util.ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    list.add(leaf(in, "a list"));
                }
                yield list;
            }
            case IMMUTABLE_LIST -> {
                Object[] elements = new Object[length(in, 1)];
                for (int i = 0; i < elements.length; i++) {
                    elements[i] = leaf(in, "an immutable list");
                    if (elements[i] == null) {
                        throw new IllegalStateException("an immutable list holding null");
                    }
                }
                yield java.util.List.of(elements);
            }
            case MAP, LINKED_MAP -> {
                int n = length(in, 2); // each entry is at least two tags
                java.util.HashMap<Object, Object> map = tag == MAP ? java.util.HashMap.newHashMap(n)
                        : java.util.LinkedHashMap.newLinkedHashMap(n);
                for (int i = 0; i < n; i++) {
                    Object key = leaf(in, "a map");
                    map.put(key, leaf(in, "a map"));
                }
                yield map;
            }
            case IMMUTABLE_MAP -> {
                @SuppressWarnings("unchecked")
                java.util.Map.Entry<Object, Object>[] entries =
                        new java.util.Map.Entry[length(in, 2)]; // each entry is two tags
                for (int i = 0; i < entries.length; i++) {
                    Object key = leaf(in, "an immutable map");
                    Object value = leaf(in, "an immutable map");
                    if (key == null || value == null) {
                        throw new IllegalStateException("an immutable map holding null");
                    }
                    entries[i] = java.util.Map.entry(key, value);
                }
                yield java.util.Map.ofEntries(entries);
            }
            case DURATION -> {
                long seconds = in.readInt64();
                int nanos = in.readInt32();
                if (nanos < 0 || nanos > 999_999_999) {
                    throw new IllegalStateException("a duration of " + nanos + " nanoseconds");
                }
                yield java.time.Duration.ofSeconds(seconds, nanos);
            }
            case LAMBDA -> lambda(in, 0);
            case THROWABLE -> PlainThrowables.read(in, 0);
            default -> throw new IllegalStateException("unknown plain value tag " + tag);
        };
    }

    /**
     * Reads a lambda whose tag has been read, {@code depth} lambdas deep: its capturing class
     * is loaded, the deserialization policy allowing, before anything else is read.
     */
    private static Object lambda(MemoryBuffer in, int depth) {
        if (depth >= MAX_LAMBDA_DEPTH) {
            throw new IllegalStateException("lambdas nested deeper than " + MAX_LAMBDA_DEPTH);
        }
        Class<?> capturing = Serialization.loadReceived(string(in));
        String interfaceClass = string(in);
        String interfaceMethod = string(in);
        String interfaceSignature = string(in);
        int implKind = in.readInt32();
        String implClass = string(in);
        String implMethod = string(in);
        String implSignature = string(in);
        String instantiatedType = string(in);
        Object[] captured = new Object[length(in, 1)]; // each is at least its tag
        for (int i = 0; i < captured.length; i++) {
            byte t = in.readByte();
            captured[i] = t == LAMBDA ? lambda(in, depth + 1)
                    : t >= NULL && t <= UTF16 || t == DURATION ? element(t, in)
                    : unexpected("a lambda's captured value", t);
        }
        return Lambdas.rebuild(capturing, new java.lang.invoke.SerializedLambda(capturing,
                interfaceClass, interfaceMethod, interfaceSignature, implKind, implClass,
                implMethod, implSignature, instantiatedType, captured));
    }

    /** Reads a string or null, its tag first. */
    static String nullableString(MemoryBuffer in) {
        byte t = in.readByte();
        if (t == NULL) {
            return null;
        }
        if (t != LATIN1 && t != UTF16) {
            throw new IllegalStateException("a string of tag " + t);
        }
        return (String) element(t, in);
    }

    /** Reads a string, its tag first. */
    static String string(MemoryBuffer in) {
        byte t = in.readByte();
        if (t != LATIN1 && t != UTF16) {
            throw new IllegalStateException("a string of tag " + t);
        }
        return (String) element(t, in);
    }

    static Object unexpected(String what, byte tag) {
        throw new IllegalStateException(what + " of tag " + tag);
    }

    /** Reads an immutable value (its tag first), an element of {@code what}. */
    private static Object leaf(MemoryBuffer in, String what) {
        byte t = in.readByte();
        if ((t < NULL || t > UTF16) && t != DURATION) {
            throw new IllegalStateException(what + " holding tag " + t);
        }
        return element(t, in);
    }

    /** Writes one of the {@link #MESSAGES}: its index, then what its reducer writes. */
    private static void message(Object value, int index, MemoryBuffer out, Handles handles) {
        out.writeByte(index);
        reduce(Serialization.reducerOf(value.getClass()), value, new FieldsOut(out, handles));
    }

    @SuppressWarnings("unchecked")
    private static <T> void reduce(Reducer<T> reducer, Object value, Reducer.Out out) {
        reducer.reduce((T) value, out);
    }

    /**
     * Reads a proxy whose tag has been read: its interfaces, loaded as a received class is
     * (the deserialization policy allowing), then its handler.
     */
    private static Object proxy(MemoryBuffer in, Handles handles) {
        int n = length(in, 1);
        Class<?>[] interfaces = new Class<?>[n];
        for (int i = 0; i < n; i++) {
            byte t = in.readByte();
            if (t != LATIN1 && t != UTF16) {
                throw new IllegalStateException("an interface's name of tag " + t);
            }
            interfaces[i] = Serialization.loadReceived((String) element(t, in));
        }
        Object handler = message(in, handles);
        if (n == 0 || !(handler instanceof java.lang.reflect.InvocationHandler h)
                || MESSAGE_INDEX.get(h.getClass()) != PROXY_HANDLER) {
            throw new IllegalStateException("a proxy without a manager's handler");
        }
        // The program's interface comes first: its loader sees the library's too.
        return new ProxyImage(java.util.List.of(interfaces), h).make();
    }

    /** Reads a message whose tag has been read: its index, then what its reducer wrote. */
    private static Object message(MemoryBuffer in, Handles handles) {
        int index = in.readByte();
        if (index < 0 || index >= MESSAGES.size()) {
            throw new IllegalStateException("unknown message " + index);
        }
        Reducer<?> reducer = MESSAGE_REDUCERS[index];
        if (reducer == null) {
            try {
                Class<?> type = Class.forName(MESSAGES.get(index), true,
                        PlainValue.class.getClassLoader());
                reducer = Serialization.reducerOf(type);
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            MESSAGE_REDUCERS[index] = reducer; // the same one by any thread that races here
        }
        FieldsIn fields = new FieldsIn(in, handles);
        Object value = reducer.rebuild(fields);
        fields.done();
        return value;
    }

    /** A message's field: a plain value, a byte array or a string array. */
    private static void field(Object v, MemoryBuffer out) {
        if (v instanceof String[] strings) {
            out.writeByte(STRINGS);
            out.writeInt32(strings.length);
            for (String s : strings) {
                element(s, out);
            }
        } else if (v == null || v instanceof byte[] || immutable(v)) {
            element(v, out);
        } else {
            throw new IllegalArgumentException("a message's field of " + v.getClass()
                    + ": a plain message holds numbers, strings and their arrays");
        }
    }

    private static Object field(MemoryBuffer in) {
        byte tag = in.readByte();
        if (tag == STRINGS) {
            String[] strings = new String[length(in, 1)];
            for (int i = 0; i < strings.length; i++) {
                byte t = in.readByte();
                if (t != NULL && t != LATIN1 && t != UTF16) {
                    throw new IllegalStateException("a string array holding tag " + t);
                }
                strings[i] = (String) element(t, in);
            }
            return strings;
        }
        if (tag == OBJECTS || tag == MESSAGE) {
            throw new IllegalStateException("a message's field of tag " + tag);
        }
        return element(tag, in);
    }

    /** What a message's reducer writes, in order, without names. */
    private record FieldsOut(MemoryBuffer out, Handles handles) implements Reducer.Out {
        @Override
        public void writeInt(int value) {
            out.writeInt32(value);
        }

        @Override
        public void writeLong(long value) {
            out.writeInt64(value);
        }

        @Override
        public void writeBoolean(boolean value) {
            out.writeByte(value ? TRUE : FALSE);
        }

        @Override
        public void writeString(String value) {
            field(value, out);
        }

        @Override
        public void writeObject(Object value) {
            field(value, out);
        }

        @Override
        public void writeFd(int fd) {
            out.writeInt32(handles.add(fd));
        }

        @Override
        public boolean carriesFds() {
            return handles.carriesFds();
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
        public boolean spawning() {
            return handles.isSpawning();
        }
    }

    /** Reads what {@link FieldsOut} wrote. */
    private static final class FieldsIn implements Reducer.In {
        private final MemoryBuffer in;
        private final Handles handles;
        private java.util.List<Runnable> afterRead;

        FieldsIn(MemoryBuffer in, Handles handles) {
            this.in = in;
            this.handles = handles;
        }

        @Override
        public int readInt() {
            return in.readInt32();
        }

        @Override
        public long readLong() {
            return in.readInt64();
        }

        @Override
        public boolean readBoolean() {
            byte b = in.readByte();
            if (b != TRUE && b != FALSE) {
                throw new IllegalStateException("a boolean of " + b);
            }
            return b == TRUE;
        }

        @Override
        public String readString() {
            Object s = field(in);
            if (s != null && !(s instanceof String)) {
                throw new IllegalStateException("a received string is a " + s.getClass());
            }
            return (String) s;
        }

        @Override
        public Object readObject() {
            return field(in);
        }

        @Override
        public int readFd() {
            return handles.take(in.readInt32());
        }

        @Override
        public void reference(Object rebuilt) {
            // No field of a message refers back to it.
        }

        @Override
        public void afterRead(Runnable action) {
            if (afterRead == null) {
                afterRead = new java.util.ArrayList<>();
            }
            afterRead.add(action);
        }

        void done() {
            if (afterRead != null) {
                afterRead.forEach(Runnable::run);
            }
        }
    }

    /** A length read, checked against what is left: a corrupt one must not allocate. */
    static int length(MemoryBuffer in, int unitBytes) {
        int n = in.readInt32();
        if (n < 0 || (long) n * unitBytes > in.size() - in.readerIndex()) {
            throw new IllegalStateException("a length of " + n + " where "
                    + (in.size() - in.readerIndex()) + " bytes are left");
        }
        return n;
    }
}
