package multiprocessing.managers;

import java.util.Map;

/**
 * A shared namespace ({@link SyncManager#namespace()}), Python's {@code Namespace}: named
 * attributes, read and written one at a time in the server. A value read is a copy: change it
 * and {@link #set} it back for others to see.
 *
 * <p>As in Python, an attribute whose name begins with an underscore ({@code "_cache"}) is the
 * proxy's own: kept in this proxy object, not in the server, so that another proxy of the same
 * namespace (in this process or another) does not see it, and a proxy sent elsewhere arrives
 * without it. {@link #toMap()} and {@code toString()} show the shared attributes only.
 */
public interface NamespaceProxy extends BaseProxy {
    /**
     * The attribute {@code name}; {@link java.util.NoSuchElementException} if there is none.
     *
     * @param name the attribute's name
     * @return a copy of the attribute's value
     */
    Object get(String name);

    /**
     * Sets the attribute {@code name}, making it if there is none.
     *
     * @param name  the attribute's name
     * @param value its new value
     */
    void set(String name, Object value);

    /**
     * Removes {@code name}; {@link java.util.NoSuchElementException} if there is none.
     *
     * @param name the attribute's name
     */
    void delete(String name);

    /**
     * Whether the namespace has the attribute {@code name}.
     *
     * @param name the attribute's name
     * @return whether it is there
     */
    boolean contains(String name);

    /** {@return a copy of all the attributes} */
    Map<String, Object> toMap();
}
