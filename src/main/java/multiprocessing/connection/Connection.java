package multiprocessing.connection;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.nio.channels.AsynchronousCloseException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

import multiprocessing.BufferTooShort;
import multiprocessing.internal.framing.Framing;
import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Linkage;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.Sockets;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.util.Cleaning;
import multiprocessing.internal.wait.Parker;
import multiprocessing.internal.wait.PipeStream;
import multiprocessing.internal.util.Durations;

/**
 * One end of a message channel between processes (Python's
 * {@code multiprocessing.connection.Connection}): objects go through {@link #send}/{@link #recv},
 * raw messages through {@link #sendBytes}/{@link #recvBytes}. Messages are framed as CPython
 * frames them, so a Java end can talk to a Python end ({@code send_bytes}/{@code recv_bytes}).
 *
 * <p>A connection can be handed to another process: as part of what a child {@code Process}
 * receives (its descriptor is inherited), or inside a message sent through a duplex
 * connection (its descriptor travels as SCM_RIGHTS). The sender's end stays open.
 *
 * <p>One thread may send while another receives; two threads sending (or receiving) at once
 * are serialized, so messages never interleave. Blocking calls are not interruptible by
 * {@link Thread#interrupt()}: use {@link #poll(Duration)} to wait with a timeout, or
 * {@link #close()} the connection from another thread, which makes a call blocked on it throw
 * {@link java.nio.channels.AsynchronousCloseException}, as a JDK channel's does (Python's
 * connection leaves it blocked). A virtual thread that blocks in a call parks, leaving its
 * carrier free for other virtual threads.
 *
 * <p>A one-way pipe's end is read and written with the JDK's own file I/O, by platform threads,
 * in a process that has not linked the libc layer when the end is first used (a pool's worker,
 * a child that only sends its result): linking it would cost a fresh JVM more than its own
 * start. The calls behave as above (a close ends a blocked one, an interrupt does not, and the
 * JVM's exit leaves it waiting without holding the exit up); {@link #poll(Duration)}, a timed
 * wait in {@link Connections#await}, and every call on a socket use the libc layer.
 *
 * <p>Misuse (sending on a read-only end, receiving on a write-only end, any use after
 * {@link #close()}) throws {@link IllegalStateException}; operating-system errors and a peer
 * that breaks the protocol throw {@link IOException}; the peer's end being closed with nothing
 * left to read throws {@link EOFException}. A send or receive that fails part-way through a
 * message, for whatever reason (a segment's memory unmapped by another thread meanwhile, no
 * heap left for a received message), ends that direction, whose framing is lost: the peer
 * then meets the end of file inside that message, never a message nobody sent, and later
 * calls in that direction throw {@link IOException} saying why. A duplex connection goes on
 * in the other direction, but a TCP one whose receiving was cut short, which is closed (TCP
 * cannot tell the peer that this end reads no more: closed, the connection is reset); a
 * pipe's end is closed.
 */
public final class Connection implements AutoCloseable {
    /**
     * Messages up to this size, header included, go out in one write with their header, as
     * CPython's do up to 16 KiB (bpo-20540); the bytes on the wire are the same either way.
     */
    private static final int BUFFER_SIZE = 64 * 1024;
    /** The first allocation for a message whose size the peer claims; grown as bytes arrive. */
    private static final int INITIAL_RECEIVE_ALLOCATION = 1 << 20;
    /**
     * How long a receiver checks for a message before it sleeps in the kernel
     * ({@code -Dmultiprocessing.connection.spinMicros}, 0 to never spin). A process woken from
     * a blocking read on another CPU costs tens of microseconds; a reply that comes within
     * this budget costs a few. With one CPU, spinning only delays the peer, so it is off.
     */
    private static final long SPIN_NANOS = Runtime.getRuntime().availableProcessors() < 2 ? 0
            : Long.getLong("multiprocessing.connection.spinMicros", 50) * 1000;

    static {
        Serialization.register(Connection.class, new ConnectionReducer());
    }

    private final FdHolder holder;
    private final boolean readable;
    private final boolean writable;
    private final boolean socket;
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ReentrantLock recvLock = new ReentrantLock();
    private MemorySegment sendBuffer;
    private MemorySegment recvBuffer;

    /**
     * Owns the descriptor, so that a connection nobody closed is closed when collected, and
     * counts the calls using it. A close while a call uses it (another thread's, or the Cleaner
     * on a connection dropped while a call waits on it) only marks it closed: the last such
     * call closes it as it leaves. Closing it under a call would let the next descriptor the
     * process opens take its number, and the call would read or write that file instead.
     */
    private static final class FdHolder implements Runnable {
        private final int fd;
        /** Calls inside, and whether it is closed; guarded by this. */
        private int users;
        private boolean closed;
        /**
         * An eventfd a waiting call polls beside the descriptor, made when a call first has
         * to wait (-1 until then), signalled by the close that finds calls inside; guarded by
         * this, closed with the descriptor.
         */
        private int wakeFd = -1;
        /**
         * A one-way pipe end's JDK stream (see {@link #stream}); null until a call first uses
         * one. Guarded by this, closed with the descriptor.
         */
        private PipeStream stream;
        /** Whether this end may no longer open one (the exit began, or opening it failed). */
        private boolean noStream;

        /** The eventfd to poll beside the descriptor; throws if closed meanwhile. */
        synchronized int wakeFd() throws AsynchronousCloseException, ErrnoException {
            if (closed) {
                throw new AsynchronousCloseException();
            }
            if (wakeFd < 0) {
                wakeFd = Posix.eventFd();
            }
            return wakeFd;
        }

        FdHolder(int fd) {
            this.fd = fd;
        }

        /**
         * The JDK stream of this pipe end, opened if {@code mayOpen}; null where the call is to
         * use the libc layer.
         */
        synchronized PipeStream stream(boolean read, boolean mayOpen)
                throws AsynchronousCloseException {
            if (closed) {
                throw new AsynchronousCloseException();
            }
            if (stream != null && stream.exited()) {
                stream = null; // the exit closed it: the libc layer serves from now on
                noStream = true;
            }
            if (stream == null && mayOpen && !noStream) {
                try {
                    stream = PipeStream.open(fd, read);
                } catch (IOException e) {
                    stream = null; // no /proc here: the libc layer serves
                }
                noStream = stream == null;
            }
            return stream;
        }

        /** Counts a call in: the descriptor, which stays open until {@link #release}. */
        synchronized int acquire() {
            if (closed) {
                throw new IllegalStateException("the connection is closed");
            }
            users++;
            return fd;
        }

        void release() {
            int wake;
            synchronized (this) {
                if (--users > 0 || !closed) {
                    return;
                }
                wake = wakeFd;
            }
            Posix.closeQuietly(fd);
            Posix.closeQuietly(wake);
        }

        synchronized boolean closed() {
            return closed;
        }

        /** The descriptor while open, else -1 (no call is counted in). */
        synchronized int peek() {
            return closed ? -1 : fd;
        }

        @Override
        public void run() {
            int wake;
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                wake = wakeFd;
                if (stream != null) {
                    stream.close(); // a call blocked in it throws AsynchronousCloseException
                }
                if (users > 0) {
                    if (wake >= 0) {
                        try {
                            Posix.signalEventFd(wake); // the calls waiting wake and leave
                        } catch (ErrnoException e) {
                            // cannot happen on a counter of 1; they look again at their next wake
                        }
                    }
                    return;
                }
            }
            Posix.closeQuietly(fd);
            Posix.closeQuietly(wake);
        }
    }

    private final Cleaner.Cleanable cleanable;

    Connection(int fd, boolean readable, boolean writable, boolean socket) {
        this.holder = new FdHolder(fd);
        this.readable = readable;
        this.writable = writable;
        this.socket = socket;
        this.cleanable = Cleaning.register(this, holder);
    }

    /** Wraps an open descriptor (a pipe end or a connected stream socket) this object now owns. */
    static Connection ofSocket(int fd) {
        return new Connection(fd, true, true, true);
    }

    // ---------------------------------------------------------------- state

    /** {@return the descriptor (Python's {@code fileno()})} */
    public int fileno() {
        return checkOpen();
    }

    /** {@return whether this end is closed (Python's {@code closed})} */
    public boolean closed() {
        return holder.closed();
    }

    /**
     * {@return whether this end was opened to receive (Python's {@code readable}, which a
     * close does not change either: see {@link #closed()}); false also once a receive was cut
     * short on a duplex end, which goes on sending}
     */
    public boolean readable() {
        return readable && recvCutShort == null;
    }

    /**
     * {@return whether this end was opened to send (Python's {@code writable}; see
     * {@link #closed()})}
     */
    public boolean writable() {
        return writable;
    }

    /**
     * Closes this end; a second call does nothing. A call another thread has blocked on it
     * (a receive, a poll, a send waiting for room) throws
     * {@link java.nio.channels.AsynchronousCloseException} at once (it polls an eventfd the
     * close signals), a {@link Connections#await} watching it returns it as ready, and the
     * descriptor is released when those calls have left.
     */
    @Override
    public void close() {
        cleanable.clean();
    }

    private int checkOpen() {
        int fd = holder.peek();
        if (fd < 0) {
            throw new IllegalStateException("the connection is closed");
        }
        return fd;
    }

    private int checkWritable() {
        int fd = checkOpen();
        if (!writable) {
            throw new IllegalStateException("the connection is read-only");
        }
        return fd;
    }

    private int checkReadable() {
        int fd = checkOpen();
        if (!readable) {
            throw new IllegalStateException("the connection is write-only");
        }
        return fd;
    }

    /**
     * Counts a call in (see {@link FdHolder}): the descriptor, open until the call's
     * {@code holder.release()}.
     */
    private int acquire(boolean write) {
        int fd = holder.acquire();
        if (write ? !writable : !readable) {
            holder.release();
            throw new IllegalStateException(write ? "the connection is read-only"
                    : "the connection is write-only");
        }
        return fd;
    }

    /**
     * Counts a call in as a send or receive does, until the returned action runs: for tests,
     * which cannot otherwise hold a call inside while they look.
     */
    Runnable callInside() {
        holder.acquire();
        return holder::release;
    }

    /**
     * Counts a {@link Connections#await} in, as a receive is counted: the descriptor and the
     * eventfd a close signals (-1 if this end was closed meanwhile: then it is ready at once),
     * polled side by side until {@link #leaveWait}. Without it a close by another thread
     * during the wait would free the descriptor's number for the next file opened, and the
     * wait would poll that file.
     *
     * @throws IllegalStateException if this end is closed
     * @throws ErrnoException if no eventfd could be made (the call is not counted in)
     */
    int[] enterWait() throws ErrnoException {
        int fd = holder.acquire();
        try {
            return new int[] {fd, holder.wakeFd()};
        } catch (AsynchronousCloseException e) {
            return new int[] {fd, -1};
        } catch (ErrnoException | RuntimeException | Error e) {
            holder.release();
            throw e;
        }
    }

    /** Ends what {@link #enterWait} began. */
    void leaveWait() {
        holder.release();
    }

    /**
     * Takes {@code lock} (the send or the receive lock) and counts the call in; the caller's
     * finally gives both back (release, then unlock). A call that waited for the lock behind
     * another was open when it began (the public methods check first), so a close found now
     * came from another thread meanwhile, and ends this call as it ends the one that held the
     * lock.
     */
    private int enter(ReentrantLock lock, boolean write) throws AsynchronousCloseException {
        lock.lock();
        try {
            return acquire(write);
        } catch (IllegalStateException e) {
            lock.unlock();
            if (holder.closed()) {
                throw new AsynchronousCloseException();
            }
            throw e;
        } catch (RuntimeException | Error e) {
            lock.unlock();
            throw e;
        }
    }

    /** How long a wait with no eventfd beside it goes before it looks for a close. */
    private static final long NO_WAKE_SLICE_NANOS = 50_000_000L;

    /**
     * Waits up to {@code timeoutNanos} (negative: no limit) until {@code fd} is ready for
     * {@code events}, or until another thread closes this connection, which signals the
     * eventfd polled beside it: {@code fd}'s revents, 0 if the time ran out (or a signal came).
     * An error or hang-up counts as ready; the next read or write reports it.
     *
     * @throws AsynchronousCloseException if the connection was closed
     */
    private int await(int fd, int events, long timeoutNanos) throws IOException {
        int wake;
        try {
            wake = holder.wakeFd();
        } catch (ErrnoException noDescriptor) {
            // No eventfd to be had (the descriptor table is full, for now): the descriptor alone,
            // a slice at a time, a close looked for between slices (callers loop on their own
            // deadline). Failing would cut a frame this call is in the middle of short, for good
            // (review 47).
            long slice = timeoutNanos < 0 ? NO_WAKE_SLICE_NANOS
                    : Math.min(timeoutNanos, NO_WAKE_SLICE_NANOS);
            int revents = Parker.awaitFd(fd, events, slice, false);
            if (holder.closed()) {
                throw new AsynchronousCloseException();
            }
            return revents;
        }
        int revents = Parker.awaitFds(new int[] {fd, wake},
                new short[] {(short) events, (short) Posix.POLLIN}, timeoutNanos, false)[0];
        if (holder.closed()) {
            throw new AsynchronousCloseException();
        }
        return revents;
    }

    /**
     * The JDK stream a blocking receive or send on a one-way pipe end goes through (see
     * {@link PipeStream}): once this end has one, and, until the libc layer is linked in this
     * JVM, for the first such call of a platform thread (a virtual thread's would hold its
     * carrier in the kernel). Null: the call uses the libc layer.
     */
    private PipeStream stream() throws AsynchronousCloseException {
        if (socket || Thread.currentThread().isVirtual()) {
            return null;
        }
        return holder.stream(readable, !Linkage.begun());
    }

    // ---------------------------------------------------------------- sending

    /**
     * Sends an object (Python's {@code send}); {@code null} is allowed. The object is
     * serialized before anything is written, so one that cannot be serialized throws
     * {@link IllegalArgumentException} and the peer sees nothing.
     *
     * @param obj the object, or null
     * @throws IOException if writing fails (the peer's end closed, among others)
     */
    public void send(Object obj) throws IOException {
        checkWritable();
        // Over a pipe, a connection travels through the resource sharer instead.
        Handles handles = socket ? Handles.collecting()
                : Handles.refusing("a one-way pipe cannot carry descriptors");
        boolean sent = false;
        try {
            byte[] data = Serialization.serialize(obj, handles);
            sendFrame(MemorySegment.ofArray(data), handles.fds());
            sent = true;
        } finally {
            if (!sent) {
                // Not written, or not whole (the peer gone): nobody reads it, so what it
                // counted as held for its reader is given back. A frame cut short by an
                // interrupt may have been read in part, and never whole.
                handles.unsent();
            }
            handles.runAfterSend(); // the connections it carried may be closed now
        }
    }

    /**
     * Sends a whole byte array as one message.
     *
     * @param buf the message
     * @throws IOException if writing fails
     */
    public void sendBytes(byte[] buf) throws IOException {
        sendBytes(buf, 0, buf.length);
    }

    /**
     * Sends {@code length} bytes of {@code buf} from {@code offset} as one message.
     *
     * @param buf    holds the message
     * @param offset where the message starts in {@code buf}
     * @param length the message's length
     * @throws IOException if writing fails
     */
    public void sendBytes(byte[] buf, int offset, int length) throws IOException {
        checkWritable();
        java.util.Objects.checkFromIndexSize(offset, length, buf.length);
        sendFrame(MemorySegment.ofArray(buf).asSlice(offset, length), new int[0]);
    }

    /**
     * Sends the bytes of {@code segment} as one message (no copy when it is native memory).
     *
     * @param segment the message
     * @throws IllegalStateException if the segment's arena is closed (also by another thread
     *         while the message is sent: a shared arena cannot be closed while the kernel reads
     *         from it)
     * @throws WrongThreadException if the segment is confined to another thread
     * @throws IOException if writing fails
     */
    public void sendBytes(MemorySegment segment) throws IOException {
        checkWritable();
        checkUsable(segment, false);
        sendFrame(segment, new int[0]);
    }

    /**
     * Refuses, with the JDK's own exceptions, a segment that the kernel would read or write
     * through its address while its memory may be gone or another thread's; the calls that
     * follow also pass it so that the linker holds its arena open.
     */
    private static void checkUsable(MemorySegment segment, boolean written) {
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException("the segment's arena is closed: " + segment);
        }
        if (!segment.isAccessibleBy(Thread.currentThread())) {
            throw new WrongThreadException("the segment is confined to another thread: "
                    + segment);
        }
        if (written && segment.isReadOnly()) {
            throw new IllegalArgumentException("the segment is read-only: " + segment);
        }
    }

    /**
     * Writes one frame. A failure once part of it has been written (the payload's memory
     * unmapped by another thread while the send waits for room, say) ends this end's sending
     * ({@link #cutShort}): the peer would otherwise read the frame's length, then the rest from
     * the next frames. A failure before any byte (the peer gone: EPIPE) changes nothing.
     */
    private void sendFrame(MemorySegment payload, int[] fds) throws IOException {
        long length = payload.byteSize();
        int fd = enter(sendLock, true);
        frameStarted = false;
        try {
            String broken = sendCutShort;
            if (broken != null) {
                throw new IOException(broken);
            }
            if (sendBuffer == null) {
                sendBuffer = Arena.ofAuto().allocate(BUFFER_SIZE);
            }
            int header = Framing.writeHeader(sendBuffer, length);
            if (header + length <= BUFFER_SIZE) {
                MemorySegment.copy(payload, 0, sendBuffer, header, length);
                writeFully(fd, sendBuffer, header + length, fds);
            } else {
                writeFully(fd, sendBuffer, header, fds);
                if (payload.isNative()) {
                    writeFully(fd, payload, length, new int[0]);
                } else {
                    for (long done = 0; done < length; ) {
                        long n = Math.min(BUFFER_SIZE, length - done);
                        MemorySegment.copy(payload, done, sendBuffer, 0, n);
                        writeFully(fd, sendBuffer, n, new int[0]);
                        done += n;
                    }
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            if (frameStarted) {
                cutShort(fd, true, e);
            }
            if (e instanceof ErrnoException x && x.errno() == Posix.EPIPE) {
                // A bare "sendmsg: EPIPE" named neither end (attack 54).
                throw new IOException("the other end receives no more: it was closed, or it"
                        + " refused a message and reads nothing after it (" + x.getMessage()
                        + ")", x);
            }
            throw e;
        } finally {
            holder.release();
            sendLock.unlock();
        }
    }

    /** Whether a byte of the frame being sent has been written (under the send lock). */
    private boolean frameStarted;
    /** Why this end can no longer send or receive: a frame cut short part-way; else null. */
    private volatile String sendCutShort;
    private volatile String recvCutShort;

    /**
     * Ends one direction of this end after a frame was cut short part-way in it, the stream's
     * framing lost: later calls in that direction throw, saying why. A socket shuts that
     * direction down (the peer reads the end of file inside the message, or its sends fail),
     * so a duplex connection still receives what was sent to it, or still sends; a pipe's end,
     * which goes one way only, is closed. So is a TCP connection whose receiving is cut short:
     * TCP tells the peer nothing of a shut-down reading side, and a peer still sending the
     * rest of that message blocked for good once this end's buffer was full (review 47);
     * closed with bytes unread, the connection is reset, and the peer's sends fail.
     */
    private void cutShort(int fd, boolean sending, Throwable why) {
        String message = "a message was cut short part-way (" + why + "): this connection can"
                + " no longer " + (sending ? "send" : "receive");
        if (sending) {
            sendCutShort = message;
        } else {
            recvCutShort = message;
        }
        if (socket && (sending || !Sockets.inet(fd))) {
            Sockets.shutdown(fd, sending);
        } else {
            close();
        }
    }

    /**
     * A message this end will not read (its header is bad, or it is longer than asked for):
     * the stream has lost its framing, so this end receives nothing more. As in Python, an end
     * that also sends goes on sending (a socket shuts its receiving side down); one that only
     * receives is closed. It closed a duplex connection whole, a send under way in another
     * thread torn mid-frame (review 47).
     */
    private IOException unreadable(int fd, String why) {
        if (writable && !(socket && Sockets.inet(fd))) {
            String message = why + ": this connection can no longer receive";
            recvCutShort = message;
            if (socket) {
                Sockets.shutdown(fd, false);
                // What the peer sent of the refused message is read and dropped: a sender
                // waiting for room to write the rest (a message larger than the socket's
                // buffers) was never woken, and hung with every send queued behind it (attack
                // 42); woken by the room, its write meets the shut-down side (EPIPE).
                drainQuietly(fd);
            }
            return new IOException(message);
        }
        // A TCP end is closed, reset with bytes unread: TCP tells the peer nothing of a
        // shut-down reading side (see cutShort).
        close();
        return new IOException(why + "; the connection is closed");
    }

    /** Reads and drops what is in the socket's receive queue now (a bounded amount). */
    private static void drainQuietly(int fd) {
        MemorySegment scratch = Arena.ofAuto().allocate(64 << 10);
        try {
            for (long dropped = 0; dropped < (64L << 20); ) {
                long n = Sockets.recvmsg(fd, scratch, scratch.byteSize(), Posix::closeQuietly,
                        true);
                if (n <= 0) {
                    return; // nothing more now (-1), or end of file (0)
                }
                dropped += n;
            }
        } catch (ErrnoException e) {
            // nothing more can be read: nothing more to drop
        }
    }

    private void writeFully(int fd, MemorySegment from, long count, int[] fds) throws IOException {
        long done = 0;
        PipeStream stream = stream();
        if (stream != null) {
            done = stream.writeFully(from, count);
            frameStarted |= done > 0;
            if (done == count) {
                return;
            }
            // The exit closed the stream under the call: it goes on through the libc layer.
        }
        // No thread blocks in the kernel: a virtual thread would hold its carrier, and a close
        // from another thread could not end the wait. Each writes what fits now and waits for
        // room in await, which a close ends.
        while (done < count) {
            MemorySegment rest = from.asSlice(done);
            long n = socket ? Sockets.sendmsg(fd, rest, count - done, done == 0 ? fds : new int[0],
                    true)
                    : Posix.writeNoWait(fd, rest, count - done);
            if (n < 0) {
                await(fd, Posix.POLLOUT, -1); // no room now
            } else {
                done += n;
                frameStarted |= n > 0;
            }
        }
    }

    // ---------------------------------------------------------------- receiving

    /**
     * Receives an object sent by {@link #send} (Python's {@code recv}).
     *
     * @return the object, or null if null was sent
     * @throws EOFException if the peer's end is closed with nothing left to read
     * @throws IOException if reading fails or the peer breaks the framing
     * @throws IllegalStateException if the message, whole and well framed, is not an object
     *         this library serialized (a Python peer's pickle, say) or holds a class the
     *         deserialization policy refuses (see the {@link multiprocessing package
     *         documentation}); that message is consumed and the connection stays usable
     */
    public Object recv() throws IOException {
        checkReadable();
        Frame frame = recvFrame(-1, null);
        Handles handles = Handles.received(frame.fds);
        try {
            return Serialization.deserialize(frame.bytes, handles);
        } catch (IllegalStateException notAnObject) {
            byte[] b = frame.bytes;
            int n = Challenge.CHALLENGE.length;
            if (b != null && b.length >= n && Arrays.equals(b, 0, n, Challenge.CHALLENGE, 0, n)) {
                // A client made without a key, to a listener that has one: the listener read
                // this end's first message as its answer (review 54: the message was lost and
                // the error named neither side's key).
                throw new multiprocessing.AuthenticationError("the peer sent an authentication"
                        + " challenge: its listener has an authentication key, and this"
                        + " connection was made without one (connect with the listener's key)");
            }
            throw notAnObject;
        } finally {
            for (int fd : handles.untaken()) {
                Posix.closeQuietly(fd);
            }
        }
    }

    /**
     * Receives a whole message as bytes (Python's {@code recv_bytes}).
     *
     * @return the message
     * @throws EOFException if the peer's end is closed with nothing left to read
     * @throws IOException if reading fails or the peer breaks the framing
     */
    public byte[] recvBytes() throws IOException {
        checkReadable();
        return recvFrame(-1, null).bytesWithoutFds();
    }

    /**
     * Receives a message of at most {@code maxLength} bytes. A longer one is an error, as in
     * Python: the message is not read and the connection can no longer be read from; a duplex
     * one still sends, a receiving-only pipe end is closed (so is any end whose peer sends a
     * header that cannot be right).
     *
     * @param maxLength the longest message accepted
     * @return the message
     * @throws EOFException if the peer's end is closed with nothing left to read
     * @throws IOException if reading fails, the message is longer than {@code maxLength}, or the
     *         peer breaks the framing
     */
    public byte[] recvBytes(int maxLength) throws IOException {
        checkReadable();
        if (maxLength < 0) {
            throw new IllegalArgumentException("negative maxLength " + maxLength);
        }
        return recvFrame(maxLength, null).bytesWithoutFds();
    }

    /**
     * Receives a message into {@code buf}; returns its length.
     *
     * @param buf where the message goes, from its start
     * @return the message's length
     * @throws EOFException if the peer's end is closed with nothing left to read
     * @throws IOException if reading fails or the peer breaks the framing
     */
    public int recvBytesInto(byte[] buf) throws IOException {
        return recvBytesInto(buf, 0);
    }

    /**
     * Receives a message into {@code buf} from {@code offset}; returns its length. If it does
     * not fit, throws {@link BufferTooShort} carrying the whole message.
     *
     * @param buf    where the message goes
     * @param offset where in {@code buf} the message starts
     * @return the message's length
     * @throws EOFException if the peer's end is closed with nothing left to read
     * @throws IOException if reading fails or the peer breaks the framing
     */
    public int recvBytesInto(byte[] buf, int offset) throws IOException {
        checkReadable();
        if (offset < 0 || offset > buf.length) {
            throw new IndexOutOfBoundsException("offset " + offset + " out of 0.." + buf.length);
        }
        return (int) recvBytesInto(MemorySegment.ofArray(buf), offset);
    }

    /**
     * Receives a message into {@code segment}; returns its length.
     *
     * @param segment where the message goes, from its start
     * @return the message's length
     * @throws IllegalStateException if the segment's arena is closed
     * @throws WrongThreadException if the segment is confined to another thread
     * @throws IllegalArgumentException if the segment is read-only
     * @throws EOFException if the peer's end is closed with nothing left to read
     * @throws IOException if reading fails or the peer breaks the framing
     */
    public long recvBytesInto(MemorySegment segment) throws IOException {
        return recvBytesInto(segment, 0);
    }

    /**
     * Receives a message into {@code segment} from {@code offset}, reading straight into it;
     * if it does not fit, throws {@link BufferTooShort} carrying the whole message.
     *
     * @param segment where the message goes
     * @param offset  where in {@code segment} the message starts
     * @return the message's length
     * @throws IllegalStateException if the segment's arena is closed (also by another thread
     *         while the message arrives: a shared arena cannot be closed while the kernel
     *         writes into it)
     * @throws WrongThreadException if the segment is confined to another thread
     * @throws IllegalArgumentException if the segment is read-only
     * @throws EOFException if the peer's end is closed with nothing left to read
     * @throws IOException if reading fails or the peer breaks the framing
     */
    public long recvBytesInto(MemorySegment segment, long offset) throws IOException {
        checkReadable();
        checkUsable(segment, true);
        if (offset < 0 || offset > segment.byteSize()) {
            throw new IndexOutOfBoundsException(
                    "offset " + offset + " out of 0.." + segment.byteSize());
        }
        Frame frame = recvFrame(-1, segment.asSlice(offset));
        closeAll(frame.fds);
        return frame.length;
    }

    /**
     * {@return whether a message (or end of file) can be read without blocking}
     *
     * @throws IOException if the descriptor cannot be polled
     */
    public boolean poll() throws IOException {
        return poll(Duration.ZERO);
    }

    /**
     * Waits up to {@code timeout} for a message (or end of file) to be readable.
     *
     * @param timeout how long to wait at most; null waits without a limit (Python's
     *        {@code poll(None)})
     * @return whether a message (or end of file) can be read without blocking
     * @throws IOException if the descriptor cannot be polled
     */
    public boolean poll(Duration timeout) throws IOException {
        if (timeout == null) {
            // Python's poll(None); refused, the message sent callers to poll(), which does not wait.
            timeout = java.time.temporal.ChronoUnit.FOREVER.getDuration();
        }
        String broken = recvCutShort;
        if (broken != null) {
            throw new IOException(broken); // as Python's poll on an end that reads no more
        }
        long nanos = Durations.nanos(timeout);
        long deadline = Durations.deadline(timeout);
        int fd = acquire(false);
        try {
            // A wait as recv's: a message that comes within the spin budget costs no wake-up.
            if (spinUntilReadable(fd, nanos)) {
                return true;
            }
            while (true) {
                long left = Math.max(0, deadline - System.nanoTime());
                int revents = await(fd, Posix.POLLIN, left);
                if ((revents & Posix.POLLNVAL) != 0) {
                    throw new IllegalStateException("the connection's descriptor was closed"
                            + " (by a close of its fileno())");
                }
                if (revents != 0) {
                    return true;
                }
                if (deadline - System.nanoTime() <= 0) {
                    return false;
                }
            }
        } finally {
            holder.release();
        }
    }

    /**
     * Sends {@code bytes} with descriptor {@code fd} beside them (a socket only), with no
     * serializer involved: the resource sharer's answer, which a receiver may be reading while
     * the read of the message that named the shared connection holds one of its JVM's pooled
     * serializers (see {@link ResourceSharer}).
     */
    void sendBytesWithFd(byte[] bytes, int fd) throws IOException {
        checkWritable();
        sendFrame(MemorySegment.ofArray(bytes), new int[] {fd});
    }

    /** Receives one message as bytes, with the descriptors that came with it (now the caller's). */
    Frame recvBytesWithFds() throws IOException {
        checkReadable();
        return recvFrame(-1, null);
    }

    /** A received message: its bytes (or its length when read into the caller's memory). */
    record Frame(byte[] bytes, long length, int[] fds) {
        byte[] bytesWithoutFds() {
            closeAll(fds);
            return bytes;
        }
    }

    private static void closeAll(int[] fds) {
        for (int fd : fds) {
            Posix.closeQuietly(fd);
        }
    }

    /**
     * Reads one frame. {@code maxLength} < 0 means no limit. With {@code into}, the payload is
     * read there (BufferTooShort if it does not fit); otherwise into a byte array that grows as
     * bytes arrive, so a peer that claims a huge length cannot make us allocate it up front.
     */
    private Frame recvFrame(long maxLength, MemorySegment into) throws IOException {
        int fd = enter(recvLock, false);
        try {
            if (recvBuffer == null) {
                recvBuffer = Arena.ofAuto().allocate(BUFFER_SIZE);
            }
            String broken = recvCutShort;
            if (broken != null) {
                throw new IOException(broken);
            }
            FdCollector fds = new FdCollector();
            try {
                return readFrame(fd, maxLength, into, fds);
            } catch (IOException | RuntimeException | Error e) {
                // Descriptors that came with a message that is not delivered are ours to close:
                // a peer that sends some and hangs up mid-message must not fill our table.
                closeAll(fds.toArray());
                if (fds.started && !(e instanceof BufferTooShort) && !(e instanceof Truncated)
                        && !closed() && recvCutShort == null) {
                    // The rest of the message is still in the stream (the memory it was read
                    // into unmapped meanwhile, no heap for it): the next receive would take
                    // its bytes for a length. (BufferTooShort read it whole; at the end of
                    // file inside it nothing more comes.)
                    cutShort(fd, false, e);
                }
                throw e;
            }
        } finally {
            holder.release();
            recvLock.unlock();
        }
    }

    private Frame readFrame(int fd, long maxLength, MemorySegment into, FdCollector fds)
            throws IOException {
        // The header read is itself the spin (see readFully): a message that is there, or comes
        // within the budget, costs one system call rather than a poll(2) and then the read.
        long got = readFully(fd, recvBuffer, Framing.SHORT_HEADER, fds, SPIN_NANOS);
        if (got == 0) {
            throw new EOFException("the peer closed the connection");
        }
        truncatedIf(got < Framing.SHORT_HEADER, got, Framing.SHORT_HEADER);
        long length = Framing.readShortHeader(recvBuffer);
        if (length == Framing.LONG_MARKER) {
            got = readFully(fd, recvBuffer, Framing.LONG_LENGTH, fds);
            truncatedIf(got < Framing.LONG_LENGTH, got, Framing.LONG_LENGTH);
            length = Framing.readLongLength(recvBuffer);
        }
        if (length < 0) {
            throw unreadable(fd, "corrupt message header: negative length " + length);
        }
        if (maxLength >= 0 && length > maxLength) {
            throw unreadable(fd, "bad message length: " + length + " bytes, more than "
                    + maxLength);
        }
        if (into != null) {
            return readInto(fd, into, length, fds);
        }
        if (length > Integer.MAX_VALUE - 8) {
            throw unreadable(fd, "a message of " + length + " bytes does not fit in a byte[];"
                    + " receive it with recvBytesInto(MemorySegment)");
        }
        byte[] bytes = readArray(fd, (int) length, fds);
        return new Frame(bytes, length, fds.toArray());
    }

    private Frame readInto(int fd, MemorySegment into, long length, FdCollector fds)
            throws IOException {
        if (length > into.byteSize()) {
            // Keep the whole message, as Python does, so nothing is lost.
            if (length > Integer.MAX_VALUE - 8) {
                // Not read, so the stream has lost its framing: as for any unreadable header.
                throw unreadable(fd, "a message of " + length + " bytes does not fit the "
                        + into.byteSize() + "-byte buffer");
            }
            byte[] whole = readArray(fd, (int) length, fds);
            throw new BufferTooShort(whole, into.byteSize()); // its descriptors are closed
        }
        if (into.isNative()) {
            long got = readFully(fd, into, length, fds);
            truncatedIf(got < length, got, length);
        } else {
            for (long done = 0; done < length; ) {
                long n = Math.min(BUFFER_SIZE, length - done);
                long got = readFully(fd, recvBuffer, n, fds);
                truncatedIf(got < n, done + got, length);
                MemorySegment.copy(recvBuffer, 0, into, done, n);
                done += n;
            }
        }
        return new Frame(null, length, fds.toArray());
    }

    private byte[] readArray(int fd, int length, FdCollector fds) throws IOException {
        byte[] bytes = new byte[Math.min(length, INITIAL_RECEIVE_ALLOCATION)];
        int done = 0;
        while (done < length) {
            if (done == bytes.length) {
                bytes = Arrays.copyOf(bytes, (int) Math.min(length, 2L * bytes.length));
            }
            int n = Math.min(BUFFER_SIZE, length - done);
            long got = readFully(fd, recvBuffer, n, fds);
            MemorySegment.copy(recvBuffer, ValueLayout.JAVA_BYTE, 0, bytes, done, (int) got);
            truncatedIf(got < n, done + got, length);
            done += n;
        }
        return bytes;
    }

    private static void truncatedIf(boolean truncated, long got, long expected) throws IOException {
        if (truncated) {
            throw new Truncated("got end of file during message: " + got + " of " + expected
                    + " bytes arrived");
        }
    }

    /** The end of file inside a message: nothing more comes, so nothing can be misread. */
    private static final class Truncated extends IOException {
        private static final long serialVersionUID = 1L;

        Truncated(String message) {
            super(message);
        }
    }

    /**
     * Checks for a message for up to the spin budget, or {@code maxNanos} (a poll's timeout) if
     * less, before a wait may block; true if it saw the descriptor readable. The budget is
     * fixed rather than adaptive: a budget that shrinks after misses settles, once both peers
     * of a ping-pong have missed, where each always blocks and each reply costs a wake-up
     * (measured: 54 us round trips instead of 8). A receiver that waits long pays the budget
     * once per message, which is bounded and small.
     */
    private static boolean spinUntilReadable(int fd, long maxNanos) throws ErrnoException {
        long budget = Math.min(SPIN_NANOS, maxNanos);
        if (budget <= 0) {
            return false; // the caller's own poll looks
        }
        if (Posix.pollOne(fd, Posix.POLLIN, 0) != 0) {
            return true;
        }
        long start = System.nanoTime();
        long spun = 0;
        do {
            // Pauses, then yields: the sender may be queued on this very CPU (as in Parker).
            Parker.pause(spun);
            if (Posix.pollOne(fd, Posix.POLLIN, 0) != 0) {
                return true;
            }
        } while ((spun = System.nanoTime() - start) < budget);
        return false;
    }

    /** Reads until {@code count} bytes or end of file; returns how many arrived. */
    private long readFully(int fd, MemorySegment into, long count, FdCollector fds)
            throws IOException {
        return readFully(fd, into, count, fds, 0);
    }

    /**
     * As {@link #readFully(int, MemorySegment, long, FdCollector)}, trying again for up to
     * {@code spinNanos} when nothing has arrived before it waits (as spinUntilReadable does
     * with poll(2)).
     */
    private long readFully(int fd, MemorySegment into, long count, FdCollector fds,
            long spinNanos) throws IOException {
        long done = 0;
        PipeStream stream = stream();
        if (stream != null) {
            done = stream.readFully(into, count, spinNanos);
            fds.started |= done > 0;
            if (done == count || !stream.exited()) {
                return done;
            }
            // The exit closed the stream under the call: it goes on through the libc layer.
        }
        // Never blocks in read(2), whatever the thread: a virtual thread would hold its carrier
        // (as in writeFully), and a platform thread inside read(2) would hold up this JVM's
        // exit by 300 ms; Parker.awaitFd waits for both (see Parker's "Exit").
        long spinStart = 0;
        while (done < count) {
            MemorySegment rest = into.asSlice(done);
            long n = socket ? Sockets.recvmsg(fd, rest, count - done, fds, true)
                    : Posix.readNoWait(fd, rest, count - done);
            if (n == 0) {
                return done;
            }
            if (n > 0) {
                fds.started = true;
            }
            if (n < 0) {
                if (spinNanos > 0) {
                    if (spinStart == 0) {
                        spinStart = System.nanoTime();
                    }
                    long spun = System.nanoTime() - spinStart;
                    if (spun < spinNanos) {
                        Parker.pause(spun); // pauses, then yields, as in Parker
                        continue;
                    }
                }
                await(fd, Posix.POLLIN, -1);
            } else {
                done += n;
            }
        }
        return done;
    }

    /**
     * Descriptors that arrive (SCM_RIGHTS) while one frame is read, and whether any of its
     * bytes has.
     */
    private static final class FdCollector implements java.util.function.IntConsumer {
        private int[] fds = new int[0];
        boolean started;

        @Override
        public void accept(int fd) {
            fds = Arrays.copyOf(fds, fds.length + 1);
            fds[fds.length - 1] = fd;
        }

        int[] toArray() {
            return fds;
        }
    }

    @Override
    public String toString() {
        int fd = holder.peek();
        return "<Connection " + (fd < 0 ? "closed" : "fd=" + fd)
                + (readable && writable ? " duplex" : readable ? " read-only" : " write-only") + ">";
    }

    /**
     * A connection travels as its descriptor and what it may do with it: the descriptor itself
     * where the channel carries descriptors (a spawn, a socket), else a ticket to fetch it from
     * this process's {@link ResourceSharer}.
     */
    private static final class ConnectionReducer implements Reducer<Connection> {
        @Override
        public boolean linksAtOnce(Connection c) {
            return c.socket;
        }

        @Override
        public void reduce(Connection c, Out out) {
            // Counted in as a call (see FdHolder), so that a close by another thread meanwhile
            // cannot free its number for another file before it has gone out.
            int fd = c.holder.acquire();
            if (out.carriesFds()) {
                try {
                    out.afterSend(c.holder::release); // once the message has gone
                } catch (RuntimeException | Error e) {
                    c.holder.release(); // not registered: released here
                    throw e;
                }
            }
            out.writeBoolean(c.readable);
            out.writeBoolean(c.writable);
            out.writeBoolean(c.socket);
            out.writeBoolean(out.carriesFds());
            if (out.carriesFds()) {
                out.writeFd(fd);
                return;
            }
            ResourceSharer.Ticket ticket;
            try {
                ticket = ResourceSharer.share(fd, c.readable, c.writable, c.socket); // a dup
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } finally {
                c.holder.release();
            }
            long key = ticket.key();
            out.ifUnsent(() -> ResourceSharer.withdraw(key));
            out.readOnce(); // the sharer hands the descriptor to the first that asks
            out.writeString(ticket.address());
            out.writeLong(key);
        }

        @Override
        public Connection rebuild(In in) {
            boolean readable = in.readBoolean();
            boolean writable = in.readBoolean();
            boolean socket = in.readBoolean();
            if (in.readBoolean()) {
                return new Connection(in.readFd(), readable, writable, socket);
            }
            String name = in.readString();
            long key = in.readLong();
            int fd = ResourceSharer.fetch(new ResourceSharer.Ticket(name, key));
            return new Connection(fd, readable, writable, socket);
        }
    }
}
