package multiprocessing;

/**
 * The buffer given to {@code Connection.recvBytesInto} is too small for the message
 * (Python's {@code multiprocessing.BufferTooShort}). The whole message is kept in
 * {@link #data()}, so nothing is lost.
 */
public class BufferTooShort extends ProcessError {
    private static final long serialVersionUID = 1L;
    /** The whole message, which did not fit. */
    private final byte[] data;

    /**
     * A message that did not fit a buffer.
     *
     * @param data the whole message, kept for {@link #data()}
     * @param room the bytes the buffer had room for
     */
    public BufferTooShort(byte[] data, long room) {
        super("the message has " + data.length + " bytes but the buffer has room for " + room
                + "; the whole message is in data()");
        this.data = data;
    }

    /** {@return the whole message that did not fit} */
    public byte[] data() {
        return data;
    }
}
