package multiprocessing.internal.managers;

/** A manager's {@code Value}: a typecode (kept for Python parity) and a value. */
public final class ServerValue {
    private final String typecode;
    private Object value;

    public ServerValue(String typecode, Object value) {
        this.typecode = typecode;
        this.value = value;
    }

    public Object get() {
        return value;
    }

    public void set(Object value) {
        this.value = value;
    }

    public String typecode() {
        return typecode;
    }

    @Override
    public String toString() {
        return "Value('" + typecode + "', " + value + ")";
    }
}
