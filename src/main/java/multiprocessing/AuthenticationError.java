package multiprocessing;

/**
 * The HMAC challenge between a {@code Listener} and a {@code Client} failed: the peers do not
 * share the same authentication key, or the peer does not speak the protocol
 * (Python's {@code multiprocessing.AuthenticationError}).
 */
public class AuthenticationError extends ProcessError {
    private static final long serialVersionUID = 1L;

    /**
     * An authentication failure.
     *
     * @param message what failed, for the exception's message
     */
    public AuthenticationError(String message) {
        super(message);
    }
}
