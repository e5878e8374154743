package multiprocessing.internal.managers;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** A manager's {@code Array}: a typecode and a fixed-length list of values. */
public final class ServerArray {
    private final String typecode;
    private final Object[] values;

    /** {@code init}: a length, a primitive or object array, or a collection. */
    public ServerArray(String typecode, Object init) {
        this.typecode = typecode;
        if (init instanceof Integer n) {
            values = new Object[n];
            Object zero = switch (typecode) {
                case "f" -> 0.0f;
                case "d" -> 0.0;
                case "q", "Q", "l", "L" -> 0L;
                case "?" -> false;
                default -> 0;
            };
            java.util.Arrays.fill(values, zero);
        } else if (init != null && init.getClass().isArray()) {
            values = new Object[Array.getLength(init)];
            for (int i = 0; i < values.length; i++) {
                values[i] = Array.get(init, i);
            }
        } else if (init instanceof Collection<?> c) {
            values = c.toArray();
        } else {
            throw new IllegalArgumentException("an array is made from a length, an array or a "
                    + "collection, not " + init);
        }
    }

    public int length() {
        return values.length;
    }

    public Object get(int index) {
        return values[index];
    }

    public void set(int index, Object value) {
        values[index] = value;
    }

    public List<Object> toList() {
        return new ArrayList<>(List.of(values));
    }

    public String typecode() {
        return typecode;
    }

    @Override
    public String toString() {
        return "array('" + typecode + "', " + java.util.Arrays.toString(values) + ")";
    }
}
