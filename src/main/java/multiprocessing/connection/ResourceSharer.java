package multiprocessing.connection;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.Multiprocessing;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.internal.util.TempDir;
import multiprocessing.internal.util.Urandom;
import multiprocessing.internal.util.Watchdog;

/**
 * Hands a connection's descriptor to another process when the channel the connection travels
 * through cannot carry descriptors (a one-way pipe, and later queues): Python's
 * {@code multiprocessing.resource_sharer}.
 *
 * <p>Implementation note: the sender duplicates the descriptor (close-on-exec) and keeps the
 * duplicate under a random key; the message carries only this process's sharer address (a
 * socket in its private 0700 directory, {@link TempDir}) and the key. The receiver connects,
 * proves it holds the process tree's auth key (the HMAC challenge of {@link Listener}), sends the
 * key and gets the descriptor back as SCM_RIGHTS, once; the sender then closes its duplicate. So
 * a connection sent this way can be received only while the sending process runs, by a process
 * of the same user with the same auth key, and once: the same limits as Python's. A receiver
 * waits for the sharer at most {@value #FETCH_TIMEOUT_PROPERTY} milliseconds (default 60 s):
 * a sharer that does not answer (stalled, or busy with a peer that stalls it) fails the
 * {@code recv()} instead of hanging it.
 */
final class ResourceSharer {
    private ResourceSharer() {}

    static final String FETCH_TIMEOUT_PROPERTY = "multiprocessing.connection.sharerTimeoutMillis";
    private static final long DEFAULT_FETCH_TIMEOUT_MILLIS = 60_000;

    private static final Map<Long, Connection> SHARED = new ConcurrentHashMap<>();
    private static Listener listener;
    private static String address;

    /** Keeps a duplicate of {@code fd} for one receiver; returns where and how to ask for it. */
    static synchronized Ticket share(int fd, boolean readable, boolean writable, boolean socket)
            throws IOException {
        if (listener == null) {
            Address where = Address.unix(TempDir.newSocketPath("sharer-").toString());
            listener = new Listener(where, Family.AF_UNIX, 16,
                    Multiprocessing.currentProcess().authKey());
            address = listener.address().path();
            Listener serving = listener;
            LibraryThreads.platform().daemon().name("multiprocessing-resource-sharer")
                    .start(() -> serve(serving));
        }
        long key = Urandom.nextLong();
        SHARED.put(key, new Connection(Posix.dup(fd), readable, writable, socket));
        return new Ticket(address, key);
    }

    /**
     * Closes the duplicate kept for {@code key}, whose message will never be read (a full
     * queue's putNowait, a write that failed): kept, it stayed open as long as this process
     * lived, and a pipe's peer never saw end of file (review 46).
     */
    static void withdraw(long key) {
        Connection shared = SHARED.remove(key);
        if (shared != null) {
            shared.close();
        }
    }

    /** What a message carries instead of the descriptor: the sharer's socket path and a key. */
    record Ticket(String address, long key) {}

    /** Fetches the descriptor a {@link Ticket} names, from the process that shared it. */
    static int fetch(Ticket ticket) {
        return fetch(ticket, fetchTimeout());
    }

    private static Duration fetchTimeout() {
        long millis = Long.getLong(FETCH_TIMEOUT_PROPERTY, DEFAULT_FETCH_TIMEOUT_MILLIS);
        return millis <= 0 ? null : Duration.ofMillis(millis);
    }

    /**
     * {@link #fetch(Ticket)} waiting at most {@code timeout} (null: forever) for the sharer.
     * Plain bytes both ways, no serializer: this runs inside the read of the message that
     * carried the ticket, which holds one of this JVM's pooled serializers, and as many
     * threads doing so at once as the pool has serializers would otherwise wait for ever.
     */
    static int fetch(Ticket ticket, Duration timeout) {
        Address from = Address.unix(ticket.address());
        byte[] authKey = Multiprocessing.currentProcess().authKey();
        try (Connection c = Client.connect(from, Family.AF_UNIX, null)) {
            Watchdog watchdog = new Watchdog(c::close, "the process that sent a connection did "
                    + "not hand it over", () -> new IllegalStateException("not closed"));
            Connection.Frame answer = watchdog.run(timeout, () -> {
                Connections.answerChallenge(c, authKey);
                Connections.deliverChallenge(c, authKey);
                c.sendBytes(ByteBuffer.allocate(Long.BYTES).putLong(ticket.key()).array());
                return c.recvBytesWithFds();
            });
            if (answer.fds().length == 1) {
                return answer.fds()[0];
            }
            for (int fd : answer.fds()) {
                Posix.closeQuietly(fd);
            }
            throw new IllegalStateException("cannot receive the connection: "
                    + new String(answer.bytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot receive a connection from the process that "
                    + "sent it (it must still be running, be of this user and share this "
                    + "process's auth key): " + e.getMessage(), e);
        }
    }

    /**
     * Accepts requests; each is answered on a thread of its own, within the handshake's time
     * limit: a peer that passed the challenge and then stalls before its key (stopped, in a long
     * pause) held this one thread, and every other receiver of this process's connections then
     * failed after its own wait (review 47).
     */
    private static void serve(Listener l) {
        while (true) {
            Connection c;
            try {
                c = l.accept();
            } catch (IOException | RuntimeException e) {
                if (l.isClosed()) {
                    return;
                }
                // One bad peer must not stop the sharer; the receiver sees its own error.
                multiprocessing.internal.util.LibraryLog.get().log(System.Logger.Level.DEBUG,
                        "resource sharer: a request failed: " + e);
                continue;
            }
            try {
                LibraryThreads.platform().daemon().name("multiprocessing-resource-sharer-request")
                        .start(new Answer(c));
            } catch (RuntimeException | OutOfMemoryError noThread) {
                c.close(); // the receiver sees end of file and fails; the sharer goes on
            }
        }
    }

    /** One request's answer: a class, not a lambda, as the serving thread's body above. */
    private static final class Answer implements Runnable {
        private final Connection c;

        Answer(Connection c) {
            this.c = c;
        }

        @Override
        public void run() {
            try (c) {
                Watchdog watchdog = new Watchdog(c::close, "a receiver did not ask for its "
                        + "connection", () -> new IllegalStateException("closed"));
                watchdog.run(Watchdog.handshakeTimeout(), () -> {
                    answer(c);
                    return null;
                });
            } catch (IOException | RuntimeException e) {
                multiprocessing.internal.util.LibraryLog.get().log(System.Logger.Level.DEBUG,
                        "resource sharer: a request failed: " + e);
            }
        }
    }

    private static void answer(Connection c) throws IOException {
        byte[] key = c.recvBytes(Long.BYTES);
        Connection shared = key.length == Long.BYTES
                ? SHARED.remove(ByteBuffer.wrap(key).getLong()) : null;
        if (shared == null) {
            c.sendBytes(("no connection is shared under that key (it was already"
                    + " received?)").getBytes(StandardCharsets.UTF_8));
        } else {
            try {
                c.sendBytesWithFd(new byte[] {1}, shared.fileno());
            } finally {
                shared.close();
            }
        }
    }
}
