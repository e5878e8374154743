package multiprocessing.internal.managers;

import java.io.IOException;

/**
 * How a manager's client and server exchange their envelopes ({@link Messages}) once a
 * connection's handshake has passed: over the connection itself ({@link SocketLink}), or over
 * two rings in shared memory beside it ({@link RingLink}) when both ends are on one machine.
 * Either way the connection is what tells each side that the other has gone.
 */
sealed interface Link permits SocketLink, RingLink {
    /** Sends {@code envelope}; safe from several threads at once. */
    void send(Object envelope) throws IOException;

    /**
     * The next envelope, waiting up to {@code timeoutNanos} (negative: forever); null if none
     * came in time. One thread at a time.
     *
     * @throws java.io.EOFException when the other end closed the link or its process has gone
     *     (when this end closed it: EOFException, or IllegalStateException from a socket)
     */
    Object receive(long timeoutNanos) throws IOException;

    /**
     * Whether the other end has hung up (its process ended, or closed the link), looked at
     * without reading: safe beside a thread in {@link #receive}.
     */
    boolean peerGone();

    /** Ends the link at this end; a thread in {@link #receive} gets EOFException. */
    void close();
}
