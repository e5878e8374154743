package multiprocessing.managers;

import java.util.List;

/** A shared array ({@link SyncManager#array(String, Object)}), Python's {@code Array} proxy. */
public interface ArrayProxy extends BaseProxy {
    /** {@return the number of elements} */
    int length();

    /**
     * Element {@code index}.
     *
     * @param index the element's position
     * @return the element
     */
    Object get(int index);

    /**
     * Sets element {@code index}.
     *
     * @param index the element's position
     * @param value the new element
     */
    void set(int index, Object value);

    /** {@return a copy of the elements} */
    List<Object> toList();
}
