package multiprocessing.internal.managers;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import multiprocessing.connection.Connection;
import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Futex;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.queue.Ring;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.shm.ShmObject;
import multiprocessing.internal.util.LibraryThreads;

/**
 * Envelopes over two rings in shared memory, one each way, the queue's ({@link Ring}, with its
 * records and its way of waiting), beside the connection the handshake ran on.
 *
 * <h2>Implementation note</h2>
 * A round trip over a socket costs system calls and wake-ups at both ends: on this project's
 * 2-CPU virtual machines as much as 0.4x CPython's whole manager call, however lean the rest
 * (bench/RESULTS.md). Over a ring a call is a copy into shared memory and a word that a waiter,
 * spinning before it sleeps ({@link multiprocessing.internal.wait.Parker}), sees change: no
 * system call at all while calls come back to back.
 *
 * <p>The client creates the rings' memory with no name ({@link ShmObject#createUnnamed}) and
 * sends its descriptor with its {@link Messages.Hello} over the Unix socket; a server that
 * cannot map it says so, and the link stays on the socket. It never has a name (O_TMPFILE), so
 * nothing is left in /dev/shm whichever process dies when: the memory goes with the last
 * mapping. Only
 * connections over a Unix socket offer rings (a descriptor cannot cross TCP, whose peer may
 * be another machine).
 *
 * <p>After the handshake nothing more travels on the connection, so its end is the other
 * side's: a process that dies (SIGKILL included) closes its end in the kernel. A wait on a ring
 * is sliced to look at the connection, so a waiter learns of the other side's death within a
 * slice: 50 ms for a caller (the slice its reader waits in) and for a sender facing a full
 * ring ({@value #CHECK_MILLIS}), {@value #IDLE_CHECK_MILLIS} ms for a server waiting for the
 * next request. A close at either end (the server's shutdown, a
 * client's broken channel) also puts a {@link Messages.Bye} into both rings, which ends the
 * waits of both sides at once. The memory is unmapped when the link is closed and no thread
 * is inside it any more ({@link #users}), never under a thread that reads or writes a ring; a
 * futex watcher of virtual threads that still holds it in a native call keeps it mapped.
 */
final class RingLink implements Link {
    /** The queue's way of putting objects into a ring and taking them out. */
    private static final class Records {
        static final Object NONE = multiprocessing.internal.queue.Messages.NONE;

        static boolean put(Ring ring, Object envelope, long timeoutNanos) {
            // Pooled buffers: a manager's envelopes are small, and its callers any threads.
            return multiprocessing.internal.queue.Messages.put(ring, envelope, timeoutNanos, true);
        }

        /** Serialized once, however many slices the sender waits for room. */
        static multiprocessing.internal.queue.Messages.Outgoing outgoing(Ring ring,
                Object envelope) {
            return multiprocessing.internal.queue.Messages.outgoing(ring, envelope, true);
        }

        static Object get(Ring ring, long timeoutNanos) {
            return multiprocessing.internal.queue.Messages.get(ring, timeoutNanos);
        }
    }

    /**
     * Whether a client on this machine offers rings;
     * {@code -Dmultiprocessing.managers.transport=socket} keeps its calls on the socket.
     */
    static final boolean RINGS_OFFERED =
            !"socket".equals(System.getProperty("multiprocessing.managers.transport"));
    /** 2,048 slots of 64 bytes: envelopes up to 16 KiB travel inline, larger ones by reference. */
    private static final int SLOTS = 2048;
    private static final int SLOT_BYTES = 64;
    private static final long RING_BYTES = (Ring.bytes(SLOTS, SLOT_BYTES) + 4095) & ~4095L;
    /** A link's memory: the requests' ring, then the replies', each on pages of its own. */
    private static final MemoryLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(RING_BYTES, ValueLayout.JAVA_BYTE).withName("requests"),
            MemoryLayout.sequenceLayout(RING_BYTES, ValueLayout.JAVA_BYTE).withName("replies"));
    private static final long REQUESTS = LAYOUT.byteOffset(PathElement.groupElement("requests"));
    private static final long REPLIES = LAYOUT.byteOffset(PathElement.groupElement("replies"));
    static final long BYTES = LAYOUT.byteSize();
    static final long CHECK_MILLIS = 50;
    private static final long CHECK_NANOS = CHECK_MILLIS * 1_000_000;
    /**
     * How often a wait with no deadline (a server's for the next request) looks at the
     * connection: each look spins first, and a server has a waiting thread per connection.
     */
    static final long IDLE_CHECK_MILLIS = 500;
    private static final long IDLE_CHECK_NANOS = IDLE_CHECK_MILLIS * 1_000_000;
    /** In {@link #users}: the link is closed; the rest counts the threads inside it. */
    private static final long CLOSED = 1L << 62;

    private static final AtomicBoolean WARMING = new AtomicBoolean();

    private final Connection connection;
    private final ShmObject memory;
    private final Ring in;
    private final Ring out;
    private final AtomicLong users = new AtomicLong();
    /** The other side has gone, or said bye. */
    private volatile boolean ended;

    private RingLink(Connection connection, ShmObject memory, boolean client) {
        this.connection = connection;
        this.memory = memory;
        Ring requests;
        Ring replies;
        if (client) {
            requests = Ring.create(memory.segment().asSlice(REQUESTS, RING_BYTES), memory.name(),
                    REQUESTS, SLOTS, SLOT_BYTES);
            replies = Ring.create(memory.segment().asSlice(REPLIES, RING_BYTES), memory.name(),
                    REPLIES, SLOTS, SLOT_BYTES);
        } else {
            requests = Ring.attach(memory.segment().asSlice(REQUESTS, RING_BYTES), memory.name(),
                    REQUESTS);
            replies = Ring.attach(memory.segment().asSlice(REPLIES, RING_BYTES), memory.name(),
                    REPLIES);
        }
        this.in = client ? replies : requests;
        this.out = client ? requests : replies;
    }

    /**
     * Runs the rings' code once in the background, on a throwaway ring in this process's own
     * memory, if nothing has yet: a connection's first call over rings otherwise loads and
     * links the queue's code first, 15-60 ms at each end measured, on the path of the call.
     * The manager's creator runs it while the server boots, the server while its first client
     * connects and authenticates.
     */
    static void warmUpInBackground() {
        if (RINGS_OFFERED && WARMING.compareAndSet(false, true)) {
            // A class, not a method reference: one the channels cache's trainer loads
            // (Workout), not one spun in every server and creator.
            LibraryThreads.platform().daemon().name("multiprocessing-manager-warm-up")
                    .start(new WarmUp());
        }
    }

    static final class WarmUp implements Runnable {
        @Override
        public void run() {
            warmUp();
        }
    }

    private static void warmUp() {
        try (Arena arena = Arena.ofConfined()) {
            Ring ring = Ring.create(arena.allocate(Ring.bytes(16, 64), 4096), "a warm-up", 0,
                    16, 64);
            byte[] noArgs = Serialization.serialize(new Object[0]);
            try (multiprocessing.internal.queue.Messages.Outgoing request = Records.outgoing(
                    ring, new Messages.Request(0, 0, Messages.PING, null, null, null, noArgs))) {
                request.put(ring, 0);
            }
            Records.get(ring, 0);
            try (multiprocessing.internal.queue.Messages.Outgoing response = Records.outgoing(
                    ring, new Messages.Response(0, true, noArgs, null))) {
                response.put(ring, 0);
            }
            Records.get(ring, 0);
            // The wake of a sleeping peer and the sleep itself.
            MemorySegment word = arena.allocate(ValueLayout.JAVA_INT);
            Futex.wake(word, 1);
            Futex.await(word, 1, 0); // the word holds 0: returns at once
        } catch (RuntimeException | LinkageError e) {
            // Only a warm-up: the first call pays instead.
        }
    }

    /** A client's offer: the rings' memory, and its descriptor to send (then close). */
    record Offer(RingLink link, int fd) {
        /** The offer was refused, or never made: the memory goes. */
        void withdraw() {
            link.memory.close();
        }
    }

    /** Makes a client's rings, to be offered in its hello. */
    static Offer offer(Connection connection) throws ErrnoException {
        ShmObject.Unnamed memory = ShmObject.createUnnamed("/mpl_", BYTES);
        try {
            return new Offer(new RingLink(connection, memory.object(), true), memory.fd());
        } catch (RuntimeException e) {
            memory.object().close();
            Posix.closeQuietly(memory.fd());
            throw e;
        }
    }

    /**
     * The server's end of a client's offer: maps {@code fd}, which it then closes.
     *
     * @throws RuntimeException or ErrnoException when the rings cannot be mapped here
     */
    static RingLink accept(Connection connection, int fd, long bytes) throws ErrnoException {
        try {
            if (bytes != BYTES) {
                throw new IllegalArgumentException("a manager's client offered rings of " + bytes
                        + " bytes, not " + BYTES + " (another build of the library?)");
            }
            ShmObject memory = ShmObject.map(fd, BYTES, "a manager client's rings");
            try {
                return new RingLink(connection, memory, false);
            } catch (RuntimeException e) {
                memory.close();
                throw e;
            }
        } finally {
            Posix.closeQuietly(fd);
        }
    }

    @Override
    public void send(Object envelope) throws IOException {
        enter();
        try {
            if (ended) {
                throw new EOFException("the other end of the manager's connection is gone");
            }
            try (multiprocessing.internal.queue.Messages.Outgoing outgoing =
                    Records.outgoing(out, envelope)) {
                while (!outgoing.put(out, CHECK_NANOS)) {
                    checkOtherSide(); // the ring is full: is anybody still reading it?
                }
            }
            if ((users.get() & CLOSED) != 0 && otherSideGone()) {
                discardQuietly(out); // put into the room a close's drain made: nobody reads it
            }
        } finally {
            leave();
        }
    }

    @Override
    public Object receive(long timeoutNanos) throws IOException {
        enter();
        try {
            long deadline = System.nanoTime() + timeoutNanos;
            while (true) {
                if (ended) {
                    throw new EOFException("the manager's connection was closed");
                }
                long left = timeoutNanos < 0 ? IDLE_CHECK_NANOS : deadline - System.nanoTime();
                Object envelope = Records.get(in, Math.max(0, Math.min(left, IDLE_CHECK_NANOS)));
                if (envelope instanceof Messages.Bye) {
                    ended = true;
                    throw new EOFException("the manager's connection was closed");
                }
                if (envelope != Records.NONE) {
                    return envelope;
                }
                if (otherSideGone()) {
                    // What it sent before it went is still to be read.
                    Object last = Records.get(in, 0);
                    if (last != Records.NONE && !(last instanceof Messages.Bye)) {
                        return last;
                    }
                    ended = true;
                    throw new EOFException("the other end of the manager's connection is gone");
                }
                if (timeoutNanos >= 0 && deadline - System.nanoTime() <= 0) {
                    return null;
                }
            }
        } finally {
            leave();
        }
    }

    @Override
    public boolean peerGone() {
        return otherSideGone();
    }

    /** Nothing comes on the connection after the handshake: anything readable is its end. */
    private boolean otherSideGone() {
        try {
            return ended || connection.poll();
        } catch (IOException | IllegalStateException e) {
            return true; // closed at this end
        }
    }

    private void checkOtherSide() throws EOFException {
        if (otherSideGone()) {
            ended = true;
            throw new EOFException("the other end of the manager's connection is gone");
        }
    }

    private void enter() throws EOFException {
        long s;
        do {
            s = users.get();
            if ((s & CLOSED) != 0) {
                throw new EOFException("the manager's connection was closed");
            }
        } while (!users.compareAndSet(s, s + 1));
    }

    private void leave() {
        if (users.decrementAndGet() == CLOSED) {
            unmap(); // the last one out of a closed link
        }
    }

    private void unmap() {
        try {
            memory.close();
        } catch (IllegalStateException inUse) {
            // A thread outside the count still holds it in a native call (a futex watcher of
            // virtual threads, without futex_waitv): the mapping stays, as small as it is.
        }
    }

    private static void discardQuietly(Ring ring) {
        try {
            multiprocessing.internal.queue.Messages.discard(ring);
        } catch (RuntimeException | InternalError e) {
            // A corrupted ring, or memory the other side shrank: the tracker unlinks at the end.
        }
    }

    /** Never throws: the server's shutdown closes every link in one loop. */
    @Override
    public void close() {
        try {
            enter();
        } catch (EOFException closedAlready) {
            connection.close();
            return;
        }
        // Closed before the drain: a sender that puts into the room it makes sees it (send).
        users.getAndUpdate(s -> s | CLOSED);
        try {
            // What nobody will read: the records sent to this end, and, once the other side
            // has gone, those sent from it. Their large messages' objects would otherwise stay
            // in /dev/shm until the program's end (attack of the sixteenth session: a server
            // shut down with requests queued, a server killed under a client's sends).
            discardQuietly(in);
            if (otherSideGone()) {
                discardQuietly(out);
            }
            // Ends a wait for a record at either end at once. A sender waiting for room in a
            // full ring learns of the close at its next look at the connection instead.
            for (Ring r : new Ring[] {in, out}) {
                try {
                    Records.put(r, Messages.Bye.BYE, 0);
                } catch (RuntimeException | InternalError e) {
                    // Its wait ends at its next look at the connection. (InternalError: the
                    // other side shrank the memory, and a page of it is gone.)
                }
            }
        } finally {
            leave();
            connection.close();
        }
    }
}
