/**
 * Python's {@code multiprocessing.connection}: {@link multiprocessing.connection.Pipe}s of
 * {@link multiprocessing.connection.Connection}s, {@link multiprocessing.connection.Listener}s
 * and {@link multiprocessing.connection.Client}s with CPython's framing and HMAC handshake (a
 * Java end talks to a Python end), and {@link multiprocessing.connection.Connections#await}
 * (Python's {@code wait}) over connections, listeners and process sentinels.
 */
package multiprocessing.connection;
