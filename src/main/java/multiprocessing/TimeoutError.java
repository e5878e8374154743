package multiprocessing;

/** A blocking call ran out of time (Python's {@code multiprocessing.TimeoutError}). */
public class TimeoutError extends ProcessError {
    private static final long serialVersionUID = 1L;

    /**
     * A call that ran out of time.
     *
     * @param message which call, after how long
     */
    public TimeoutError(String message) {
        super(message);
    }
}
