package multiprocessing.internal.managers;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The manager's locks a client process holds, so that they are given up when it is gone.
 *
 * <p>CPython's manager keeps a lock a dead client held locked for good, and every other client
 * waits for it. Here the server ends a client's session when the last of its connections ends
 * (its process died, or exited with the lock held), and then hands each lock it held to the
 * next acquirer with {@link multiprocessing.synchronize.OwnerDeadException}, as the library's
 * own locks do when their holder dies. A lock taken for a caller after its session ended (its
 * call still ran, its client gone) is given up at once the same way ({@link #add} says so).
 */
final class Holdings {
    /** A lock that can be given up for a holder that is gone. */
    interface Held {
        /** Its holder's session ended: gives it up if {@code holdings} still hold it. */
        void holderGone(Holdings holdings);
    }

    private final long pid;
    private final Set<Held> held = ConcurrentHashMap.newKeySet();
    private boolean closed;

    /**
     * The holdings of the client named {@code clientId}, whose pid ({@link ClientId}) its
     * locks' next acquirers are told.
     */
    Holdings(String clientId) {
        long p = -1;
        try {
            p = Long.parseLong(clientId.substring(0, Math.max(0, clientId.indexOf('-'))));
        } catch (NumberFormatException notOurs) {
            // A client that named itself otherwise: its pid is unknown.
        }
        this.pid = p;
    }

    /** The pid of the client process, or -1 if its name does not say. */
    long pid() {
        return pid;
    }

    /** Records that a caller of this client took {@code lock}; false once the client is gone. */
    synchronized boolean add(Held lock) {
        if (closed) {
            return false;
        }
        held.add(lock);
        return true;
    }

    /** {@code lock} was released. */
    void remove(Held lock) {
        held.remove(lock);
    }

    /** The client is gone: gives up every lock it holds. */
    void close() {
        List<Held> left;
        synchronized (this) {
            closed = true;
            left = new ArrayList<>(held);
        }
        for (Held lock : left) {
            lock.holderGone(this);
        }
    }
}
