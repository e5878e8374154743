package multiprocessing.internal.util;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * The authentication handshakes a server has under way (a keyed {@code Listener}, a manager's
 * server), the oldest first, and when one more may begin.
 *
 * <p>Implementation note. A stranger that connects and says nothing must not hold the
 * server's clients back, nor may strangers cost it a thread each without bound; and a slow
 * client (hundreds of CPython threads answering under one interpreter lock, a loaded machine,
 * a remote peer) must not be cut off because others came after it. So: at most {@link #MAX}
 * handshakes at once; one more closes the oldest, but only once that one has had
 * {@link #MIN_AGE_NANOS} to answer; until then the newcomer waits for a place (in the
 * kernel's queue of the listening socket). Closing the oldest at once, as this did, lost a
 * third of a burst of 300 CPython 3.11 clients with nobody attacking (attack 31); never
 * closing one let 64 silent connections hold every client off for the handshake timeout.
 * With up to about 100 silent connections renewed as soon as they are closed, a client now
 * waits at most 5 seconds for its place; more than the places and the socket's backlog
 * together (64 + 16 for a manager), renewed at once, win every race for a place against the
 * clients, as a flood does any server that serves all comers (attack 32: 120 such
 * connections kept every client of a manager out): such a server belongs behind a firewall.
 */
public final class HandshakeSlots {
    /** Handshakes under way at once at most. */
    public static final int MAX = 64;
    /** How long the oldest handshake is left to run before a newcomer may close it. */
    public static final long MIN_AGE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private record Entry(Watchdog watchdog, long since) {}

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private boolean closed;

    /**
     * {@return nanoseconds until one more handshake may begin: 0 now, when a place is free or
     * the oldest has had its time}
     */
    public synchronized long admitIn() {
        if (entries.size() < MAX) {
            return 0;
        }
        long age = System.nanoTime() - entries.peekFirst().since();
        return Math.max(0, MIN_AGE_NANOS - age);
    }

    /**
     * Counts a handshake in. With every place taken, the oldest is closed (its watchdog fired
     * with {@link Watchdog#PUSHED_OUT}) if it has had its time; otherwise this one is counted
     * beyond {@link #MAX} (a caller that asked {@link #admitIn} first only does so when another
     * thread took the place meanwhile).
     *
     * @param watchdog the new handshake's
     * @return whether the oldest was closed for it
     */
    public synchronized boolean admit(Watchdog watchdog) {
        boolean pushedOut = false;
        if (entries.size() >= MAX
                && System.nanoTime() - entries.peekFirst().since() >= MIN_AGE_NANOS) {
            entries.pollFirst().watchdog().fire(Watchdog.PUSHED_OUT);
            pushedOut = true;
        }
        entries.addLast(new Entry(watchdog, System.nanoTime()));
        if (closed) {
            watchdog.fire(Watchdog.CLOSED);
        }
        return pushedOut;
    }

    /** Counts a handshake out, when it has ended either way. */
    public synchronized void remove(Watchdog watchdog) {
        for (Iterator<Entry> i = entries.iterator(); i.hasNext(); ) {
            if (i.next().watchdog() == watchdog) {
                i.remove();
                notifyAll();
                return;
            }
        }
    }

    /**
     * Waits until one more handshake may begin ({@link #admitIn} is 0), or until
     * {@link #close}.
     *
     * @throws InterruptedException if interrupted while waiting
     */
    public synchronized void awaitPlace() throws InterruptedException {
        long left;
        while (!closed && (left = admitIn()) > 0) {
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    /**
     * Ends every handshake under way (their watchdogs fired with {@link Watchdog#CLOSED}) and
     * any wait for a place: the server is closing. A handshake counted in later is ended at
     * once.
     */
    public synchronized void close() {
        closed = true;
        for (Entry e : entries) {
            e.watchdog().fire(Watchdog.CLOSED);
        }
        notifyAll();
    }
}
