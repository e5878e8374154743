package multiprocessing.connection;

/**
 * The kind of socket a {@link Listener} binds and a {@link Client} connects (Python's
 * {@code 'AF_INET'} and {@code 'AF_UNIX'} family strings). Windows named pipes
 * ({@code 'AF_PIPE'}) have no counterpart.
 */
public enum Family {
    /** A TCP socket over IPv4: an {@link Address#inet(String, int)} address. */
    AF_INET,
    /** A Unix domain stream socket: an {@link Address#unix(String)} address. */
    AF_UNIX
}
