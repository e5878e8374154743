package multiprocessing.internal.wait;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.internal.util.AtExit;

/**
 * One end of a one-way pipe read or written with the JDK's own file I/O, through a descriptor
 * of its own opened on {@code /proc/self/fd/N} (the same pipe; closing it leaves {@code N}
 * open), so that a process that has not linked the libc layer need not link it to receive and
 * send, nor a daemon child to watch its parent (see {@code Connection}'s use of it, {@code
 * ChildMain}'s, and {@link multiprocessing.internal.posix.Linkage}).
 *
 * <p>A call blocks in the kernel (a platform thread's {@code read(2)} or {@code write(2)}); a
 * {@link #close} from another thread signals it out ({@link FileChannel}'s asynchronous close:
 * it throws {@link AsynchronousCloseException}). The exit's last stage
 * ({@link AtExit.Stage#WAITS}) closes every open stream too, since HotSpot's exit would wait
 * 300 ms for a thread inside a native call: a call it ends returns what it moved so far with
 * {@link #exited()} true, and its caller goes on through the libc layer, whose waits from then
 * on look again from Java (Parker's "Exit"), so that the program's code sees no error from the
 * exit and a shutdown hook's receive still gets its message. A receive spins
 * on {@link FileInputStream#available()} (FIONREAD) before it blocks, as the libc path polls:
 * a message that comes within the budget costs no wake-up.
 */
public final class PipeStream implements AutoCloseable {
    private final String path;
    private final boolean read;
    /** The stream under {@link #channel} (a reader's, for {@code available()}); reopened. */
    private FileInputStream in;
    private volatile FileChannel channel;
    /** Set by {@link #close}: no reopening after it. Guarded by this. */
    private boolean shut;
    /** Set by the exit's stage before it closes this stream (see the class comment). */
    private volatile boolean exited;

    /** The streams the exit closes: one entry per open stream, its current channel's owner. */
    private static final Set<PipeStream> OPEN = ConcurrentHashMap.newKeySet();
    /** Whether the exit's stage is registered; guarded by the class. */
    private static boolean registered;

    private PipeStream(String path, boolean read) {
        this.path = path;
        this.read = read;
    }

    /**
     * Opens descriptor {@code fd}'s pipe for reading or writing; null if the exit has begun (the
     * caller then uses the libc layer, whose waits the exit ends).
     *
     * @throws IOException if {@code /proc/self/fd/fd} cannot be opened
     */
    public static PipeStream open(int fd, boolean read) throws IOException {
        PipeStream stream = new PipeStream("/proc/self/fd/" + fd, read);
        return stream.reopen() ? stream : null;
    }

    /**
     * Opens this stream's own descriptor (again, after an interrupt closed it); false if it is
     * shut or the exit has begun.
     */
    private synchronized boolean reopen() throws IOException {
        if (shut) {
            return false;
        }
        if (!register(this)) {
            shut = true;
            return false;
        }
        try {
            if (read) {
                in = new FileInputStream(path);
                channel = in.getChannel();
            } else {
                channel = new FileOutputStream(path).getChannel();
            }
        } catch (IOException | RuntimeException e) {
            shut = true;
            OPEN.remove(this);
            throw e;
        }
        return true;
    }

    /**
     * Counts {@code stream} among those the exit closes; false if the exit has begun (its stage
     * may have run: the stream must not be blocked in).
     */
    private static boolean register(PipeStream stream) {
        synchronized (PipeStream.class) {
            if (!registered) {
                if (!AtExit.register(AtExit.Stage.WAITS, new CloseAll())) {
                    return false;
                }
                registered = true;
            }
        }
        OPEN.add(stream);
        if (AtExit.exiting()) {
            OPEN.remove(stream);
            return false;
        }
        return true;
    }

    /** {@return how many streams the exit would close now} For tests. */
    static int openStreams() {
        return OPEN.size();
    }

    /** The exit's stage: a class, so that a cache's trainer loads it (no lambda is spun). */
    private static final class CloseAll implements Runnable {
        @Override
        public void run() {
            for (PipeStream stream : OPEN) {
                stream.exited = true;
                stream.close();
            }
        }
    }

    /**
     * Reads until {@code count} bytes have arrived into {@code into} or end of file (or the exit
     * closed the stream: {@link #exited()}); returns how many arrived. Before the first read that
     * would block, spins for up to {@code spinNanos}.
     */
    public long readFully(MemorySegment into, long count, long spinNanos) throws IOException {
        if (spinNanos > 0 && available() == 0) {
            long start = System.nanoTime();
            long spun = 0;
            do {
                Parker.pause(spun); // pauses, then yields: the sender may be on this very CPU
            } while (available() == 0 && (spun = System.nanoTime() - start) < spinNanos);
        }
        return transferAll(into, count);
    }

    private synchronized int available() throws IOException {
        try {
            return in.available();
        } catch (IOException e) {
            if (!channel.isOpen()) {
                return 0; // closed by an interrupt or the owner: the read that follows tells
            }
            throw e;
        }
    }

    /**
     * Writes {@code count} bytes of {@code from}, blocking while the pipe is full; returns how
     * many were written (fewer only if the exit closed the stream: {@link #exited()}).
     */
    public long writeFully(MemorySegment from, long count) throws IOException {
        return transferAll(from, count);
    }

    /** The most bytes one {@link ByteBuffer} carries: a view of more is refused by the JDK. */
    static final long SLICE = 1L << 30;

    /**
     * Moves {@code count} bytes of {@code segment} one slice after another (a message of 2 GiB
     * or more is a valid frame, but no ByteBuffer views it whole); returns how many moved.
     */
    private long transferAll(MemorySegment segment, long count) throws IOException {
        long done = 0;
        while (done < count) {
            int want = (int) Math.min(count - done, SLICE);
            int moved = transfer(segment.asSlice(done, want).asByteBuffer());
            done += moved;
            if (moved < want) {
                break; // end of file, or the exit closed the stream
            }
        }
        return done;
    }

    /**
     * Reads into or writes from {@code buffer} until it is done (or, reading, end of file);
     * returns how many bytes moved. An interrupt does not end it, as it does not end a libc
     * call of a connection: a {@link FileChannel} closes itself when the thread in it is
     * interrupted (the bytes moved by then stay counted in the buffer's position), so the
     * interrupt is cleared, the stream reopened and the call goes on; the thread's interrupt
     * status is set again as it leaves.
     */
    private int transfer(ByteBuffer buffer) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            while (buffer.hasRemaining()) {
                try {
                    if (read ? channel.read(buffer) < 0 : channel.write(buffer) < 0) {
                        break;
                    }
                } catch (ClosedByInterruptException e) {
                    interrupted = true;
                    Thread.interrupted();
                    if (!reopen()) {
                        if (exited) {
                            break;
                        }
                        throw closed(e);
                    }
                } catch (ClosedChannelException e) {
                    if (exited) {
                        break; // the caller goes on through the libc layer
                    }
                    throw closed(e);
                }
            }
            return buffer.position();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * {@return whether the exit's stage closed this stream} A call it ended returned early, and
     * the stream is not to be used again.
     */
    public boolean exited() {
        return exited;
    }

    /** A close by another thread (the connection's), as a libc call meets it. */
    private static AsynchronousCloseException closed(ClosedChannelException e) {
        if (e instanceof AsynchronousCloseException a
                && !(e instanceof ClosedByInterruptException)) {
            return a;
        }
        AsynchronousCloseException closed = new AsynchronousCloseException();
        closed.initCause(e);
        return closed;
    }

    /** Closes this stream's own descriptor, signalling a call blocked in it out. */
    @Override
    public void close() {
        FileChannel open;
        synchronized (this) {
            shut = true;
            open = channel;
        }
        OPEN.remove(this);
        if (open != null) {
            try {
                open.close(); // closes the stream under it as well
            } catch (IOException e) {
                // its own descriptor: nothing written through it waits in a buffer
            }
        }
    }
}
