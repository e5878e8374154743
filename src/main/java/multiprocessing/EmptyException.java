package multiprocessing;

/**
 * Thrown by a {@link Queue} or {@link SimpleQueue} get that finds no item: a non-blocking get,
 * or a timed get whose time ran out (Python's {@code queue.Empty}). Unchecked, like the other
 * {@link ProcessError}s.
 */
public class EmptyException extends ProcessError {
    private static final long serialVersionUID = 1L;

    /** An empty queue, with the message "the queue is empty". */
    public EmptyException() {
        super("the queue is empty");
    }

    /**
     * An empty queue, said in {@code message}.
     *
     * @param message why no item was had, for the exception's message
     */
    public EmptyException(String message) {
        super(message);
    }
}
