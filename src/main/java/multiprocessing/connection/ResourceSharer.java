package multiprocessing.connection;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.Multiprocessing;
import multiprocessing.internal.posix.Posix;

/**
 * Hands a connection's descriptor to another process when the channel the connection travels
 * through cannot carry descriptors (a one-way pipe, and later queues): Python's
 * {@code multiprocessing.resource_sharer}.
 *
 * <p>Implementation note: the sender duplicates the descriptor and keeps the duplicate under a
 * random key; the message carries only this process's sharer address (an abstract Unix socket)
 * and the key. The receiver connects, proves it holds the process tree's auth key (the
 * HMAC challenge of {@link Listener}), sends the key and gets the descriptor back as SCM_RIGHTS,
 * once; the sender then closes its duplicate. So a connection sent this way can be received
 * only while the sending process runs, by a process with the same auth key, and once: the same
 * limits as Python's.
 */
final class ResourceSharer {
    private ResourceSharer() {}

    private static final Map<Long, Connection> SHARED = new ConcurrentHashMap<>();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static Listener listener;
    private static String name;

    /** Keeps a duplicate of {@code fd} for one receiver; returns where and how to ask for it. */
    static synchronized Ticket share(int fd, boolean readable, boolean writable, boolean socket)
            throws IOException {
        if (listener == null) {
            name = "mp-sharer-" + ProcessHandle.current().pid() + "-"
                    + Long.toHexString(RANDOM.nextLong());
            listener = new Listener(Address.unix("\0" + name), Family.AF_UNIX, 16,
                    Multiprocessing.currentProcess().authKey());
            Listener serving = listener;
            Thread.ofPlatform().daemon().name("multiprocessing-resource-sharer")
                    .start(() -> serve(serving));
        }
        long key = RANDOM.nextLong();
        SHARED.put(key, new Connection(Posix.dup(fd), readable, writable, socket));
        return new Ticket(name, key);
    }

    /** What a message carries instead of the descriptor. */
    record Ticket(String abstractName, long key) {}

    /** Fetches the descriptor a {@link Ticket} names, from the process that shared it. */
    static Connection fetch(Ticket ticket) {
        Address from = Address.unix("\0" + ticket.abstractName());
        try (Connection c = Client.connect(from, Family.AF_UNIX,
                Multiprocessing.currentProcess().authKey())) {
            c.send(ticket.key());
            Object answer = c.recv();
            if (answer instanceof Connection received) {
                return received;
            }
            throw new IllegalStateException("cannot receive the connection: " + answer);
        } catch (IOException e) {
            throw new IllegalStateException("cannot receive a connection from the process that "
                    + "sent it (it must still be running, and share this process's auth key): "
                    + e.getMessage(), e);
        }
    }

    private static void serve(Listener l) {
        while (true) {
            try (Connection c = l.accept()) {
                Object key = c.recv();
                Connection shared = key instanceof Long k ? SHARED.remove(k) : null;
                if (shared == null) {
                    c.send("no connection is shared under that key (it was already received?)");
                } else {
                    try {
                        c.send(shared);
                    } finally {
                        shared.close();
                    }
                }
            } catch (IllegalStateException closed) {
                return;
            } catch (IOException | RuntimeException e) {
                // One bad peer must not stop the sharer; the receiver sees its own error.
                System.getLogger("multiprocessing").log(System.Logger.Level.DEBUG,
                        "resource sharer: a request failed: " + e);
            }
        }
    }

}
