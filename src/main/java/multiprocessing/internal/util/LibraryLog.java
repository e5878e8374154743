package multiprocessing.internal.util;

/**
 * The library's logger ("multiprocessing"), got at its first use. Getting a
 * {@code System.Logger} builds the logging backend (java.util.logging's log manager, its
 * configuration and handlers): about 30 ms and 2 MB of heap in a fresh JVM (bench/RESULTS.md,
 * ninth session). The library logs only when something goes wrong, so a child that has
 * nothing to report never builds it; a logger held in a static field would have every child
 * that initializes the class build it.
 */
public final class LibraryLog {
    private LibraryLog() {}

    private static final class Holder {
        static final System.Logger LOGGER = System.getLogger("multiprocessing");
    }

    /** {@return the library's logger} */
    public static System.Logger get() {
        return Holder.LOGGER;
    }
}
