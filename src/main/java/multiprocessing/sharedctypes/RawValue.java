package multiprocessing.sharedctypes;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.internal.heap.Block;
import multiprocessing.internal.heap.Heap;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * One C value in shared memory (Python's {@code multiprocessing.sharedctypes.RawValue}): either
 * of a Python typecode ({@code "b" "B" "h" "H" "i" "I" "l" "L" "q" "Q" "f" "d" "c" "u" "?"},
 * with the sizes of the C types on Linux x86_64), or a struct described by a
 * {@link MemoryLayout} in place of a ctypes {@code Structure}.
 *
 * <p>The memory comes from the shared heap; the object travels to another process (captured by
 * a process's target, as a field of an object sent, through a Pipe) as the same memory, never a
 * copy. Reads and writes are plain, not atomic, and take no lock (as in Python): use
 * {@link Value} for a value guarded by a lock, or the typed views {@link #ofInt},
 * {@link #ofLong}, {@link #ofDouble}, whose {@code getAndAdd}/{@code compareAndSet} are atomic
 * across processes.
 *
 * <p>What {@link #value()} returns per typecode: {@code "b"} and {@code "c"} a {@code Byte},
 * {@code "h"} a {@code Short}, {@code "i"} an {@code Integer}, {@code "l"}/{@code "q"} a
 * {@code Long}, {@code "f"} a {@code Float}, {@code "d"} a {@code Double}, {@code "?"} a
 * {@code Boolean}, {@code "u"} a one-code-point {@code String}; the unsigned ones the next wider
 * signed type ({@code "B"} a {@code Short}, {@code "H"} an {@code Integer}, {@code "I"} a
 * {@code Long}, {@code "L"}/{@code "Q"} a {@code Long}, or a {@code BigInteger} above
 * {@code Long.MAX_VALUE}). Integral typecodes accept any integral {@code Number} that fits,
 * {@code "f"}/{@code "d"} any {@code Number}, rounded as a C cast does (one beyond the type's
 * range becomes an infinity, as CPython's {@code c_float(1e40)} does); {@code "c"} a {@code byte[1]}, a {@code Character}
 * / one-char {@code String} up to {@code \u00ff}, or an integral {@code Number} from -128 to 255
 * (a {@code Byte} among them); anything else, or an integral or character value out of
 * range, throws {@link IllegalArgumentException}.
 *
 * <p>A struct value has no single {@link #value()}: its named fields are read and written with
 * {@link #get(String)} and {@link #set(String, Object)} (a dotted path reaches into nested
 * structs), or through {@link #segment()} with the layout's own var handles.
 */
public class RawValue {
    static {
        Serialization.register(RawValue.class, new Reducer<RawValue>() {
            @Override
            public void reduce(RawValue value, Out out) {
                value.writeTo(out);
            }

            @Override
            public RawValue rebuild(In in) {
                return readFrom(in);
            }
        });
    }

    final Block block;
    /** Null for a struct. */
    final Typecode type;
    final MemoryLayout layout;
    final MemorySegment segment;
    private volatile Map<String, VarHandle> fields;

    RawValue(Block block, Typecode type, MemoryLayout layout) {
        this.block = block;
        this.type = type;
        this.layout = layout;
        this.segment = block.segment().asSlice(0, layout.byteSize());
    }

    /** Shares {@code other}'s memory (a synchronized wrapper). */
    RawValue(RawValue other) {
        this(other.block, other.type, other.layout);
    }

    /**
     * A new value of {@code typecode}, zero (Python's {@code RawValue(typecode)}).
     *
     * @param typecode a Python typecode ({@code "i"}, {@code "q"}, {@code "d"}, {@code "c"}, ...)
     * @return the value in shared memory
     * @throws IllegalArgumentException for a bad typecode
     */
    public static RawValue of(String typecode) {
        Typecode t = Typecode.of(typecode);
        return new RawValue(allocate(t.layout), t, t.layout);
    }

    /**
     * A new value of {@code typecode} holding {@code initial} ({@code null}: zero).
     *
     * @param typecode a Python typecode ({@code "i"}, {@code "q"}, {@code "d"}, {@code "c"}, ...)
     * @param initial  the value it starts with, or null for zero
     * @return the value in shared memory
     * @throws IllegalArgumentException for a bad typecode or a value that does not fit it (an
     *         integral or character one out of range; see the class comment for "f" and "d")
     */
    public static RawValue of(String typecode, Object initial) {
        Typecode t = Typecode.of(typecode);
        if (initial != null) {
            t.check(initial);
        }
        RawValue v = new RawValue(allocate(t.layout), t, t.layout);
        if (initial != null) {
            t.write(v.segment, 0, initial);
        }
        return v;
    }

    /**
     * A new zeroed struct of {@code layout} (Python's {@code RawValue(MyStructure)}): its
     * {@link #segment()} is {@code layout.byteSize()} bytes aligned for the layout.
     *
     * @param layout the struct's layout, whose named value fields {@link #get(String)} reads
     * @return the struct in shared memory
     * @throws IllegalArgumentException for a layout aligned beyond 4096 bytes
     */
    public static RawValue of(MemoryLayout layout) {
        return new RawValue(allocate(layout), null, layout);
    }

    /**
     * A new shared {@code int} (typecode {@code "i"}) with atomic operations.
     *
     * @param initial the value it starts with
     * @return the value in shared memory
     */
    public static SharedInt ofInt(int initial) {
        SharedInt v = new SharedInt(allocate(ValueLayout.JAVA_INT));
        v.set(initial);
        return v;
    }

    /**
     * A new shared {@code long} (typecode {@code "q"}) with atomic operations.
     *
     * @param initial the value it starts with
     * @return the value in shared memory
     */
    public static SharedLong ofLong(long initial) {
        SharedLong v = new SharedLong(allocate(ValueLayout.JAVA_LONG));
        v.set(initial);
        return v;
    }

    /**
     * A new shared {@code double} (typecode {@code "d"}) with atomic operations.
     *
     * @param initial the value it starts with
     * @return the value in shared memory
     */
    public static SharedDouble ofDouble(double initial) {
        SharedDouble v = new SharedDouble(allocate(ValueLayout.JAVA_DOUBLE));
        v.set(initial);
        return v;
    }

    static Block allocate(MemoryLayout layout) {
        return Heap.allocate(Math.max(1, layout.byteSize()), layout.byteAlignment());
    }

    /**
     * The value (Python's {@code .value}).
     *
     * @return the value, boxed as its typecode reads
     * @throws UnsupportedOperationException for a struct: use {@link #get(String)}
     */
    public Object value() {
        return requireScalar().read(segment, 0);
    }

    /**
     * Sets the value (Python's {@code .value = v}).
     *
     * @param value the new value
     * @throws IllegalArgumentException if {@code value} does not fit the typecode
     * @throws UnsupportedOperationException for a struct: use {@link #set(String, Object)}
     */
    public void value(Object value) {
        requireScalar().write(segment, 0, value);
    }

    /**
     * The struct field named {@code path} ("x", or "inner.x" for a nested struct), boxed.
     *
     * @param path the field's name, dotted through nested structs
     * @return the field's value, boxed
     * @throws IllegalArgumentException if the layout has no such value field
     */
    public Object get(String path) {
        return field(path).get(segment, 0L);
    }

    /**
     * Sets the struct field named {@code path}; integral fields take any integral
     * {@code Number} that fits, floating ones any {@code Number}.
     *
     * @param path  the field's name, dotted through nested structs
     * @param value the new value
     * @throws IllegalArgumentException if there is no such field or the value does not fit it
     */
    public void set(String path, Object value) {
        VarHandle h = field(path);
        h.set(segment, 0L, coerce(h.varType(), path, value));
    }

    /**
     * {@return the whole backing memory: the value's bytes, or the struct's
     * {@code layout.byteSize()}}
     */
    public MemorySegment segment() {
        return segment;
    }

    /** {@return the typecode, or null for a struct} */
    public String typecode() {
        return type == null ? null : type.code();
    }

    /** {@return the layout of the memory: the typecode's C type, or the struct's layout} */
    public MemoryLayout layout() {
        return layout;
    }

    private Typecode requireScalar() {
        if (type == null) {
            throw new UnsupportedOperationException("a value of layout " + layout + " is not"
                    + " one of a typecode's, so it has no single value: use get(field) /"
                    + " set(field, value) for a struct's fields, or segment()");
        }
        return type;
    }

    private VarHandle field(String path) {
        Map<String, VarHandle> map = fields;
        if (map == null) {
            map = new ConcurrentHashMap<>();
            fields = map;
        }
        VarHandle h = map.get(path);
        if (h == null) {
            String[] names = path.split("\\.");
            MemoryLayout.PathElement[] elements = new MemoryLayout.PathElement[names.length];
            for (int k = 0; k < names.length; k++) {
                elements[k] = MemoryLayout.PathElement.groupElement(names[k]);
            }
            try {
                h = layout.varHandle(elements);
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                throw new IllegalArgumentException("no value field '" + path + "' in " + layout, e);
            }
            map.put(path, h);
        }
        return h;
    }

    private static Object coerce(Class<?> carrier, String path, Object value) {
        Typecode t;
        if (carrier == byte.class) {
            t = Typecode.b;
        } else if (carrier == short.class) {
            t = Typecode.h;
        } else if (carrier == int.class) {
            t = Typecode.i;
        } else if (carrier == long.class) {
            t = Typecode.q;
        } else if (carrier == float.class) {
            t = Typecode.f;
        } else if (carrier == double.class) {
            t = Typecode.d;
        } else if (carrier == boolean.class) {
            if (value instanceof Boolean) {
                return value;
            }
            throw new IllegalArgumentException("field '" + path + "' takes a Boolean, not " + value);
        } else if (carrier == char.class) {
            if (value instanceof Character) {
                return value;
            }
            throw new IllegalArgumentException("field '" + path + "' takes a Character, not " + value);
        } else {
            if (carrier.isInstance(value)) {
                return value;
            }
            throw new IllegalArgumentException("field '" + path + "' takes a "
                    + carrier.getSimpleName() + ", not " + value);
        }
        t.check(value);
        Number n = (Number) value;
        return switch (t) {
            case b -> n.byteValue();
            case h -> n.shortValue();
            case i -> n.intValue();
            case q -> n.longValue();
            case f -> n.floatValue();
            default -> n.doubleValue();
        };
    }

    void writeTo(Reducer.Out out) {
        out.writeObject(block);
        out.writeBoolean(type == null);
        if (type == null) {
            LayoutCodec.write(layout, out);
        } else {
            out.writeString(type.code());
        }
    }

    static RawValue readFrom(Reducer.In in) {
        Block block = (Block) in.readObject();
        if (in.readBoolean()) {
            return new RawValue(block, null, LayoutCodec.read(in));
        }
        Typecode t = Typecode.of(in.readString());
        return new RawValue(block, t, t.layout);
    }

    @Override
    public String toString() {
        return "RawValue(" + describe() + ")";
    }

    String describe() {
        return type == null ? layout.toString() : "'" + type.code() + "', " + quoted(value());
    }

    static String quoted(Object v) {
        return v instanceof String s ? "'" + s + "'" : String.valueOf(v);
    }
}
