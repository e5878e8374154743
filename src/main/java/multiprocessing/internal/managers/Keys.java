package multiprocessing.internal.managers;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.Multiprocessing;
import multiprocessing.connection.Address;

/**
 * The authentication key this process uses for each manager it knows: the key a manager was
 * started or connected with here, or the one a received proxy brought; else the process's own
 * {@code authKey()}, which a child inherits from its parent (Python's rule).
 */
public final class Keys {
    private Keys() {}

    private static final Map<Address, byte[]> KEYS = new ConcurrentHashMap<>();

    public static void remember(Address address, byte[] key) {
        if (key != null) {
            KEYS.put(address, key.clone());
        }
    }

    /** The key remembered for {@code address}, or null. */
    public static byte[] remembered(Address address) {
        byte[] k = KEYS.get(address);
        return k == null ? null : k.clone();
    }

    /** Puts back what {@link #remembered} returned (a key that failed is not kept). */
    public static void restore(Address address, byte[] key) {
        if (key == null) {
            KEYS.remove(address);
        } else {
            KEYS.put(address, key);
        }
    }

    static byte[] forAddress(Address address) {
        byte[] k = KEYS.get(address);
        return k != null ? k : Multiprocessing.currentProcess().authKey();
    }
}
