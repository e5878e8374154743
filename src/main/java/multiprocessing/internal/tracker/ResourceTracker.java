package multiprocessing.internal.tracker;

/**
 * The client side of the resource tracker: what a process tells the tracker about the
 * shared-memory names it creates and unlinks.
 */
public final class ResourceTracker {
    private ResourceTracker() {}

    /** Records that this process created {@code name}: it is unlinked if the tree ends first. */
    public static void register(String name) {
        // wired to the tracker daemon in a later commit
    }

    /** Records that {@code name} has been unlinked. */
    public static void unregister(String name) {
        // wired to the tracker daemon in a later commit
    }
}
