package multiprocessing.internal.managers;

/**
 * Who is calling a server-side object: a client process and one of its threads. An RLock is
 * owned by such a caller rather than by the server thread that happens to run the call, since
 * a client's calls reach the server over whichever of its connections is free.
 */
public final class Caller {
    private Caller() {}

    private static final ThreadLocal<String> CURRENT = new ThreadLocal<>();

    /** The caller of the call the current thread runs. */
    public static String current() {
        String c = CURRENT.get();
        if (c == null) {
            throw new IllegalStateException("not inside a manager's call");
        }
        return c;
    }

    static void set(String caller) {
        CURRENT.set(caller);
    }

    static void clear() {
        CURRENT.remove();
    }
}
