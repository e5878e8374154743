package multiprocessing.internal.managers;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;

/** A manager's {@code Namespace}: named attributes. */
public final class ServerNamespace {
    private final Map<String, Object> attributes = new LinkedHashMap<>();

    public Object get(String name) {
        if (!attributes.containsKey(name)) {
            throw new NoSuchElementException("the namespace has no attribute '" + name + "'");
        }
        return attributes.get(name);
    }

    public void set(String name, Object value) {
        attributes.put(name, value);
    }

    public void delete(String name) {
        if (!attributes.containsKey(name)) {
            throw new NoSuchElementException("the namespace has no attribute '" + name + "'");
        }
        attributes.remove(name);
    }

    public boolean contains(String name) {
        return attributes.containsKey(name);
    }

    public Map<String, Object> toMap() {
        return new LinkedHashMap<>(attributes);
    }

    /**
     * Python's repr: {@code Namespace(name='Bob', n=3)}; names that begin with an underscore
     * are left out, as Python's Namespace leaves them out (review 55).
     */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("Namespace(");
        attributes.forEach((k, v) -> {
            if (!k.startsWith("_")) {
                b.append(b.length() > 10 ? ", " : "").append(k).append('=')
                        .append(multiprocessing.internal.util.PyRepr.of(v));
            }
        });
        return b.append(')').toString();
    }
}
