package multiprocessing;

/**
 * Base of the library's unchecked exceptions (Python's {@code multiprocessing.ProcessError}).
 */
public class ProcessError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * An error of the library.
     *
     * @param message what went wrong
     */
    public ProcessError(String message) {
        super(message);
    }

    /**
     * An error of the library, caused by another.
     *
     * @param message what went wrong
     * @param cause   the exception that caused it
     */
    public ProcessError(String message, Throwable cause) {
        super(message, cause);
    }
}
