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

import multiprocessing.internal.util.ClosedAtExit;

/**
 * One end of a one-way pipe read or written with the JDK's own file I/O, through a descriptor
 * of its own opened on {@code /proc/self/fd/N} (the same pipe; closing it leaves {@code N}
 * open), so that a process that has not linked the libc layer need not link it to receive and
 * send, nor a daemon child to watch its parent (see {@code Connection}'s use of it, {@code
 * ChildMain}'s, and {@link multiprocessing.internal.posix.Linkage}).
 *
 * <p>A call blocks in the kernel (a platform thread's {@code read(2)} or {@code write(2)}); a
 * {@link #close} from another thread signals it out ({@link FileChannel}'s asynchronous close:
 * it throws {@link AsynchronousCloseException}), and so does the exit's last stage
 * ({@link ClosedAtExit}), which HotSpot's exit would otherwise wait 300 ms for. A receive spins
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
        FileChannel opened;
        if (read) {
            in = new FileInputStream(path);
            opened = in.getChannel();
        } else {
            opened = new FileOutputStream(path).getChannel();
        }
        if (!ClosedAtExit.add(opened)) {
            opened.close();
            shut = true;
            return false;
        }
        channel = opened;
        return true;
    }

    /**
     * Reads until {@code count} bytes have arrived into {@code into} or end of file; returns how
     * many arrived. Before the first read that would block, spins for up to {@code spinNanos}.
     */
    public long readFully(MemorySegment into, long count, long spinNanos) throws IOException {
        if (spinNanos > 0 && available() == 0) {
            long start = System.nanoTime();
            long spun = 0;
            do {
                Parker.pause(spun); // pauses, then yields: the sender may be on this very CPU
            } while (available() == 0 && (spun = System.nanoTime() - start) < spinNanos);
        }
        return transfer(into.asSlice(0, count).asByteBuffer());
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

    /** Writes {@code count} bytes of {@code from}, blocking while the pipe is full. */
    public void writeFully(MemorySegment from, long count) throws IOException {
        transfer(from.asSlice(0, count).asByteBuffer());
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
                        throw closed(e);
                    }
                } catch (ClosedChannelException e) {
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

    /** A close by another thread (the connection's, or the exit's), as a libc call meets it. */
    private static AsynchronousCloseException closed(ClosedChannelException e) {
        if (e instanceof AsynchronousCloseException a && !(e instanceof ClosedByInterruptException)) {
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
        if (open != null) {
            ClosedAtExit.remove(open);
            try {
                open.close(); // closes the stream under it as well
            } catch (IOException e) {
                // its own descriptor: nothing written through it waits in a buffer
            }
        }
    }
}
