package multiprocessing.internal.managers;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * A manager's {@code Array}: a typecode and a fixed-length list of values, each checked and
 * stored as a shared {@code multiprocessing.sharedctypes.Array} of that typecode would store it
 * (Python's manager keeps an {@code array.array}, which checks its elements too).
 */
public final class ServerArray {
    private final String typecode;
    private final Object[] values;

    /** {@code init}: a length, a primitive or object array, or a collection. */
    public ServerArray(String typecode, Object init) {
        Typecodes.Codec codec = Typecodes.codec();
        Object zero = codec.zero(typecode); // refuses an unknown typecode, whatever init is
        this.typecode = typecode;
        if (init instanceof Integer n) {
            if (n < 0) {
                throw new IllegalArgumentException("an array's length must not be negative, not "
                        + n);
            }
            values = allocate(n);
            Arrays.fill(values, zero);
        } else if (init != null && init.getClass().isArray()) {
            values = new Object[Array.getLength(init)];
            for (int i = 0; i < values.length; i++) {
                values[i] = element(codec, i, Array.get(init, i));
            }
        } else if (init instanceof Collection<?> c) {
            values = c.toArray();
            for (int i = 0; i < values.length; i++) {
                values[i] = element(codec, i, values[i]);
            }
        } else {
            throw new IllegalArgumentException("an array is made from a length, an array or a "
                    + "collection, not " + init);
        }
    }

    /**
     * An array of {@code n} slots, refused as the caller's error when this server's heap could
     * never hold it (a slot takes up to 8 bytes), rather than an OutOfMemoryError that would
     * reach the caller as if its own JVM had run out.
     */
    private static Object[] allocate(int n) {
        long most = Runtime.getRuntime().maxMemory() / 8;
        if (n > most) {
            throw tooLong(n);
        }
        try {
            return new Object[n];
        } catch (OutOfMemoryError e) {
            throw tooLong(n); // nothing else was allocated: the failed array is all there was
        }
    }

    private static IllegalArgumentException tooLong(int n) {
        return new IllegalArgumentException("an array of " + n + " elements does not fit in the"
                + " manager's server, whose heap is at most "
                + (Runtime.getRuntime().maxMemory() >> 20) + " MiB");
    }

    private Object element(Typecodes.Codec codec, int index, Object value) {
        try {
            return codec.element(typecode, value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("element " + index + " of an array of '"
                    + typecode + "': " + e.getMessage(), e);
        }
    }

    public int length() {
        return values.length;
    }

    public Object get(int index) {
        return values[index];
    }

    public void set(int index, Object value) {
        Objects.checkIndex(index, values.length);
        values[index] = element(Typecodes.codec(), index, value);
    }

    public List<Object> toList() {
        return new ArrayList<>(List.of(values));
    }

    public String typecode() {
        return typecode;
    }

    @Override
    public String toString() {
        return "array('" + typecode + "', " + Arrays.toString(values) + ")";
    }
}
