package multiprocessing.internal.managers;

import java.io.IOException;
import java.time.Duration;

import multiprocessing.connection.Connection;
import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;

/** Envelopes over the connection itself: a manager on another machine, or rings refused. */
record SocketLink(Connection connection) implements Link {
    @Override
    public void send(Object envelope) throws IOException {
        connection.send(envelope);
    }

    @Override
    public Object receive(long timeoutNanos) throws IOException {
        if (timeoutNanos >= 0 && !connection.poll(Duration.ofNanos(timeoutNanos))) {
            return null;
        }
        return connection.recv();
    }

    /** Requests travel on the connection, so readable says nothing: its hang-up bits do. */
    @Override
    public boolean peerGone() {
        try {
            return (Posix.pollOne(connection.fileno(), Posix.POLLRDHUP, 0)
                    & (Posix.POLLRDHUP | Posix.POLLHUP | Posix.POLLERR | Posix.POLLNVAL)) != 0;
        } catch (ErrnoException | IllegalStateException e) {
            return true; // closed at this end
        }
    }

    @Override
    public void close() {
        connection.close();
    }
}
