package multiprocessing;

/**
 * Thrown by a {@link Queue} put that finds no room: a non-blocking put, or a timed put whose
 * time ran out (Python's {@code queue.Full}). Unchecked, like the other {@link ProcessError}s.
 */
public class FullException extends ProcessError {
    private static final long serialVersionUID = 1L;

    /** A full queue, with the message "the queue is full". */
    public FullException() {
        super("the queue is full");
    }

    /**
     * A full queue, said in {@code message}.
     *
     * @param message why the item found no room, for the exception's message
     */
    public FullException(String message) {
        super(message);
    }
}
