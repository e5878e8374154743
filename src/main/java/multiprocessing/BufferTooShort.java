package multiprocessing;

/**
 * The buffer given to {@code Connection.recvBytesInto} is too small for the message
 * (Python's {@code multiprocessing.BufferTooShort}). The whole message is kept in
 * {@link #data()}, so nothing is lost.
 */
public class BufferTooShort extends ProcessError {
    private static final long serialVersionUID = 1L;
    private final byte[] data;

    public BufferTooShort(byte[] data, long room) {
        super("the message has " + data.length + " bytes but the buffer has room for " + room
                + "; the whole message is in data()");
        this.data = data;
    }

    /** The whole message that did not fit. */
    public byte[] data() {
        return data;
    }
}
