package multiprocessing.internal.managers;

/**
 * Who is calling a server-side object: a client process and one of its threads. An RLock is
 * owned by such a caller rather than by the server thread that happens to run the call, since
 * a client's calls reach the server over whichever of its connections is free.
 *
 * <p>One is made per call, and the server marks it {@linkplain #abandon() abandoned} when
 * nobody will read the call's reply (its client cancelled it, or its connection ended) before
 * it interrupts the call: a call that would take something for its caller on the way out (a
 * condition's wait takes its lock back) leaves it for the living instead.
 */
public final class Caller {
    private static final ThreadLocal<Caller> CURRENT = new ThreadLocal<>();

    private final String name;
    /** The link the call came over, null for a call from the server's own JVM. */
    private final Link link;
    /** The locks its client holds, null for a call from the server's own JVM. */
    private final Holdings holdings;
    /** When the call began ({@link System#nanoTime}): how long a call has run. */
    final long since = System.nanoTime();
    private volatile boolean abandoned;

    Caller(String name, Link link, Holdings holdings) {
        this.name = name;
        this.link = link;
        this.holdings = holdings;
    }

    /** The caller of the call the current thread runs. */
    public static String current() {
        return running().name;
    }

    /**
     * Whether the call the current thread runs was given up: its reply will not be read, and
     * what it would take for its caller it must not take. Its client may have died a moment
     * ago without the server having seen it yet (the reader of a connection over rings looks
     * every half second): so this also looks at the connection, a system call; for a call
     * about to take something for its caller, not for every call.
     */
    public static boolean abandoned() {
        Caller c = running();
        return c.abandoned || c.link != null && c.link.peerGone();
    }

    /** The locks the client of the current thread's call holds; null for the server's JVM. */
    static Holdings holdings() {
        return running().holdings;
    }

    private static Caller running() {
        Caller c = CURRENT.get();
        if (c == null) {
            throw new IllegalStateException("not inside a manager's call");
        }
        return c;
    }

    /** Whether the server has marked the call given up (no look at the connection). */
    boolean marked() {
        return abandoned;
    }

    /** Marks the call given up; the server interrupts its thread next. */
    void abandon() {
        abandoned = true;
    }

    void enter() {
        CURRENT.set(this);
    }

    static void clear() {
        CURRENT.remove();
    }
}
