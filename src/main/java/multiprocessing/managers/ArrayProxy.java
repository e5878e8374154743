package multiprocessing.managers;

import java.util.List;

/** A shared array ({@link SyncManager#array(String, Object)}), Python's {@code Array} proxy. */
public interface ArrayProxy extends BaseProxy {
    int length();

    Object get(int index);

    void set(int index, Object value);

    /** A copy of the elements. */
    List<Object> toList();
}
