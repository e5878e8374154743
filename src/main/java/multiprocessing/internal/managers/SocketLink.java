package multiprocessing.internal.managers;

import java.io.IOException;
import java.time.Duration;

import multiprocessing.connection.Connection;

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

    @Override
    public void close() {
        connection.close();
    }
}
