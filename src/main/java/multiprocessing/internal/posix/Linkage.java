package multiprocessing.internal.posix;

/**
 * Whether this JVM has begun to link the libc layer (its downcall, or a variadic function's).
 * A fresh child pays ~15 ms of its start, and twice that of CPU while another starts beside it,
 * for that first link (bench/RESULTS.md); what can be done as well with the JDK's own I/O
 * (a one-way pipe's blocking receive and send, a daemon child's watch of its parent) is done so
 * until it is paid. Reading the flag loads nothing of the layer.
 */
public final class Linkage {
    private Linkage() {}

    private static volatile boolean begun;

    /** {@return whether the libc layer's first link has begun in this JVM} */
    public static boolean begun() {
        return begun;
    }

    /** Called by {@link Errno} as it links, before anything is linked. */
    static void begin() {
        begun = true;
    }
}
