package multiprocessing.connection;

import java.io.UncheckedIOException;

import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.Sockets;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * The two ends of a new channel (Python's {@code multiprocessing.Pipe()}).
 *
 * @param left  for a duplex pipe one end; for a one-way pipe the read-only end
 * @param right for a duplex pipe the other end; for a one-way pipe the write-only end
 */
public record Pipe(Connection left, Connection right) implements AutoCloseable {

    static {
        // Its ends, each by its own reducer: a lambda that captures the pipe (rather than an
        // end) is then a payload PlainStream writes, and its child starts without building
        // Fory, whose struct serializer of this record it would otherwise also build.
        Serialization.register(Pipe.class, new Reducer<Pipe>() {
            @Override
            public void reduce(Pipe pipe, Out out) {
                out.writeObject(pipe.left);
                out.writeObject(pipe.right);
            }

            @Override
            public Pipe rebuild(In in) {
                return new Pipe((Connection) in.readObject(), (Connection) in.readObject());
            }
        });
    }

    /** {@return a duplex pipe: both ends send and receive (a Unix socket pair)} */
    public static Pipe open() {
        return open(true);
    }

    /**
     * A duplex pipe over a Unix socket pair, or, when {@code duplex} is false, a one-way pipe
     * whose {@link #left()} only receives and {@link #right()} only sends (Python's
     * {@code (reader, writer)}).
     *
     * @param duplex true for two-way ends, false for a one-way pipe
     * @return the pipe's two ends
     */
    public static Pipe open(boolean duplex) {
        try {
            if (duplex) {
                int[] fds = Sockets.socketpair();
                return new Pipe(Connection.ofSocket(fds[0]), Connection.ofSocket(fds[1]));
            }
            int[] fds = Posix.pipe(Posix.O_CLOEXEC);
            return new Pipe(new Connection(fds[0], true, false, false),
                    new Connection(fds[1], false, true, false));
        } catch (ErrnoException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Closes both ends. */
    @Override
    public void close() {
        left.close();
        right.close();
    }

}
