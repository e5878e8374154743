package multiprocessing.managers;

import java.util.Map;

/**
 * A shared namespace ({@link SyncManager#namespace()}), Python's {@code Namespace}: named
 * attributes, read and written one at a time in the server. A value read is a copy: change it
 * and {@link #set} it back for others to see.
 */
public interface NamespaceProxy extends BaseProxy {
    /** The attribute {@code name}; {@link java.util.NoSuchElementException} if there is none. */
    Object get(String name);

    void set(String name, Object value);

    /** Removes {@code name}; {@link java.util.NoSuchElementException} if there is none. */
    void delete(String name);

    boolean contains(String name);

    /** A copy of all the attributes. */
    Map<String, Object> toMap();
}
