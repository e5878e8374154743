package multiprocessing.sharedctypes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import multiprocessing.internal.managers.Typecodes;

/**
 * Python's one-letter typecodes with the sizes of their C types on Linux x86_64 (LP64, a 4-byte
 * {@code wchar_t}), and how Java values go in and come out of them.
 *
 * <p>A value read comes back as the smallest signed Java type that holds every value of the C
 * type, so that reading never wraps: {@code "B"} a {@code Short}, {@code "H"} an {@code Integer},
 * {@code "I"} a {@code Long}; {@code "L"}/{@code "Q"} a {@code Long}, or a {@code BigInteger}
 * above {@code Long.MAX_VALUE}. Writes are range-checked (ctypes wraps silently; a shared
 * counter that wraps is a bug nobody sees, so this library refuses it).
 */
enum Typecode {
    b(ValueLayout.JAVA_BYTE, "signed char"),
    B(ValueLayout.JAVA_BYTE, "unsigned char"),
    h(ValueLayout.JAVA_SHORT, "short"),
    H(ValueLayout.JAVA_SHORT, "unsigned short"),
    i(ValueLayout.JAVA_INT, "int"),
    I(ValueLayout.JAVA_INT, "unsigned int"),
    l(ValueLayout.JAVA_LONG, "long"),
    L(ValueLayout.JAVA_LONG, "unsigned long"),
    q(ValueLayout.JAVA_LONG, "long long"),
    Q(ValueLayout.JAVA_LONG, "unsigned long long"),
    f(ValueLayout.JAVA_FLOAT, "float"),
    d(ValueLayout.JAVA_DOUBLE, "double"),
    c(ValueLayout.JAVA_BYTE, "char"),
    u(ValueLayout.JAVA_INT, "wchar_t"),
    BOOL(ValueLayout.JAVA_BOOLEAN, "_Bool");

    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    static {
        // A manager's Array stores its elements as this package's Array would.
        Typecodes.install(new Typecodes.Codec() {
            @Override
            public Object element(String typecode, Object value) {
                Typecode t = of(typecode);
                MemorySegment slot = MemorySegment.ofArray(new long[1]);
                t.write(slot, 0, value);
                return t.read(slot, 0);
            }

            @Override
            public Object zero(String typecode) {
                return of(typecode).read(MemorySegment.ofArray(new long[1]), 0);
            }
        });
    }

    final ValueLayout layout;
    final String cType;

    Typecode(ValueLayout layout, String cType) {
        this.layout = layout;
        this.cType = cType;
    }

    /** The typecode as Python spells it. */
    String code() {
        return this == BOOL ? "?" : name();
    }

    long size() {
        return layout.byteSize();
    }

    static Typecode of(String code) {
        if (code != null && code.length() == 1) {
            char ch = code.charAt(0);
            if (ch == '?') {
                return BOOL;
            }
            for (Typecode t : values()) {
                if (t != BOOL && t.name().charAt(0) == ch) {
                    return t;
                }
            }
        }
        throw new IllegalArgumentException("bad typecode " + (code == null ? "null"
                : "'" + code + "'") + " (must be one of b, B, h, H, i, I, l, L, q, Q, f, d, c, u, ?)");
    }

    Object read(MemorySegment s, long offset) {
        return switch (this) {
            case b, c -> s.get(ValueLayout.JAVA_BYTE, offset);
            case B -> (short) Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, offset));
            case h -> s.get(ValueLayout.JAVA_SHORT, offset);
            case H -> Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT, offset));
            case i -> s.get(ValueLayout.JAVA_INT, offset);
            case I -> Integer.toUnsignedLong(s.get(ValueLayout.JAVA_INT, offset));
            case l, q -> s.get(ValueLayout.JAVA_LONG, offset);
            case L, Q -> {
                long v = s.get(ValueLayout.JAVA_LONG, offset);
                yield v >= 0 ? (Object) v : BigInteger.valueOf(v).add(TWO_64);
            }
            case f -> s.get(ValueLayout.JAVA_FLOAT, offset);
            case d -> s.get(ValueLayout.JAVA_DOUBLE, offset);
            case u -> Character.toString(s.get(ValueLayout.JAVA_INT, offset));
            case BOOL -> s.get(ValueLayout.JAVA_BOOLEAN, offset);
        };
    }

    void write(MemorySegment s, long offset, Object value) {
        switch (this) {
            case b -> s.set(ValueLayout.JAVA_BYTE, offset, (byte) integral(value, -128, 127));
            case B -> s.set(ValueLayout.JAVA_BYTE, offset, (byte) integral(value, 0, 255));
            case h -> s.set(ValueLayout.JAVA_SHORT, offset,
                    (short) integral(value, Short.MIN_VALUE, Short.MAX_VALUE));
            case H -> s.set(ValueLayout.JAVA_SHORT, offset, (short) integral(value, 0, 0xffff));
            case i -> s.set(ValueLayout.JAVA_INT, offset,
                    (int) integral(value, Integer.MIN_VALUE, Integer.MAX_VALUE));
            case I -> s.set(ValueLayout.JAVA_INT, offset, (int) integral(value, 0, 0xffff_ffffL));
            case l, q -> s.set(ValueLayout.JAVA_LONG, offset,
                    integral(value, Long.MIN_VALUE, Long.MAX_VALUE));
            case L, Q -> s.set(ValueLayout.JAVA_LONG, offset, unsigned64(value));
            case f -> s.set(ValueLayout.JAVA_FLOAT, offset, number(value).floatValue());
            case d -> s.set(ValueLayout.JAVA_DOUBLE, offset, number(value).doubleValue());
            case c -> s.set(ValueLayout.JAVA_BYTE, offset, charByte(value));
            case u -> s.set(ValueLayout.JAVA_INT, offset, codePoint(value));
            case BOOL -> s.set(ValueLayout.JAVA_BOOLEAN, offset, bool(value));
        }
    }

    /** Throws unless {@link #write} would accept {@code value}; writes nothing. */
    void check(Object value) {
        switch (this) {
            case b -> integral(value, -128, 127);
            case B -> integral(value, 0, 255);
            case h -> integral(value, Short.MIN_VALUE, Short.MAX_VALUE);
            case H -> integral(value, 0, 0xffff);
            case i -> integral(value, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case I -> integral(value, 0, 0xffff_ffffL);
            case l, q -> integral(value, Long.MIN_VALUE, Long.MAX_VALUE);
            case L, Q -> unsigned64(value);
            case f, d -> number(value);
            case c -> charByte(value);
            case u -> codePoint(value);
            case BOOL -> bool(value);
        }
    }

    private static boolean isIntegral(Object v) {
        return v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long
                || v instanceof BigInteger || v instanceof AtomicInteger || v instanceof AtomicLong;
    }

    private long integral(Object value, long min, long max) {
        // Integer and Long first: the common cases decide in one type check.
        long v;
        if (value instanceof Integer n) {
            v = n;
        } else if (value instanceof Long n) {
            v = n;
        } else if (value instanceof BigInteger big) {
            if (big.bitLength() > 63) {
                throw outOfRange(value, min, max);
            }
            v = big.longValue();
        } else if (isIntegral(value)) {
            v = ((Number) value).longValue();
        } else {
            throw wrongType(value, "an integral Number (Byte, Short, Integer, Long, BigInteger)");
        }
        if (v < min || v > max) {
            throw outOfRange(value, min, max);
        }
        return v;
    }

    private long unsigned64(Object value) {
        if (!isIntegral(value)) {
            throw wrongType(value, "an integral Number (Byte, Short, Integer, Long, BigInteger)");
        }
        if (value instanceof BigInteger big) {
            if (big.signum() < 0 || big.bitLength() > 64) {
                throw new IllegalArgumentException(value + " does not fit typecode '" + code()
                        + "' (" + cType + ": 0 to " + TWO_64.subtract(BigInteger.ONE) + ")");
            }
            return big.longValue();
        }
        long v = ((Number) value).longValue();
        if (v < 0) {
            throw new IllegalArgumentException(value + " does not fit typecode '" + code()
                    + "' (" + cType + ": 0 to " + TWO_64.subtract(BigInteger.ONE) + ")");
        }
        return v;
    }

    private Number number(Object value) {
        if (value instanceof Number n) {
            return n;
        }
        throw wrongType(value, "a Number");
    }

    private byte charByte(Object value) {
        if (value instanceof Byte by) {
            return by;
        }
        if (value instanceof byte[] bytes && bytes.length == 1) {
            return bytes[0];
        }
        int ch;
        if (value instanceof Character character) {
            ch = character;
        } else if (value instanceof String s && s.length() == 1) {
            ch = s.charAt(0);
        } else if (isIntegral(value)) {
            return (byte) integral(value, -128, 255);
        } else {
            throw wrongType(value, "one byte (a Byte, byte[1], or a Character / one-char String"
                    + " up to \\u00ff)");
        }
        if (ch > 0xff) {
            throw new IllegalArgumentException("'" + (char) ch + "' does not fit typecode 'c'"
                    + " (char: one byte, up to \\u00ff)");
        }
        return (byte) ch;
    }

    private int codePoint(Object value) {
        if (value instanceof Character ch) {
            return ch;
        }
        if (value instanceof String s && !s.isEmpty() && s.codePointCount(0, s.length()) == 1) {
            return s.codePointAt(0);
        }
        throw wrongType(value, "one character (a Character or a one-code-point String)");
    }

    private boolean bool(Object value) {
        if (value instanceof Boolean bo) {
            return bo;
        }
        if (isIntegral(value)) {
            return value instanceof BigInteger big ? big.signum() != 0
                    : ((Number) value).longValue() != 0;
        }
        throw wrongType(value, "a Boolean (or an integral Number, nonzero meaning true)");
    }

    private IllegalArgumentException wrongType(Object value, String expected) {
        return new IllegalArgumentException("typecode '" + code() + "' (" + cType + ") takes "
                + expected + ", not " + (value == null ? "null"
                : value.getClass().getSimpleName() + " " + describe(value)));
    }

    private IllegalArgumentException outOfRange(Object value, long min, long max) {
        return new IllegalArgumentException(value + " does not fit typecode '" + code() + "' ("
                + cType + ": " + min + " to " + max + ")");
    }

    private static String describe(Object value) {
        String s = value instanceof byte[] bytes ? "byte[" + bytes.length + "]" : String.valueOf(value);
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
