package multiprocessing.internal.reduction;

/**
 * How an object that stands for an operating-system resource (a connection's descriptor, a
 * shared-memory segment) crosses a process line: it is reduced to what identifies the resource
 * there, and rebuilt on the other side (Python's {@code copyreg} reducers in
 * {@code multiprocessing.reduction}); also a small message of the library's own that crosses
 * often, written field by field without the field names. Registered with
 * {@link Serialization#register}.
 *
 * @param <T> the type reduced
 */
public interface Reducer<T> {
    void reduce(T value, Out out);

    T rebuild(In in);

    /**
     * The program's objects {@code value}'s reduction writes (for a reducer of one of the
     * library's objects that carries them, as a pool's worker carries its initializer), so that
     * a writer that must look at every object before it writes any ({@link PlainStream}) can;
     * null when not told, and such an object is then written by Fory.
     *
     * @param value the object to be reduced
     * @return the objects it carries, or null
     */
    default java.util.List<Object> carried(T value) {
        return null;
    }

    /**
     * Whether a process that receives {@code value} uses the libc layer as soon as it runs (a
     * socket, a queue's ring), so that a child whose payload holds it links the layer while it
     * reads the rest; false for a channel it reads and writes with the JDK's own I/O until
     * something else links the layer (a one-way pipe's end: see {@code Connection}).
     *
     * @param value the channel to be reduced
     * @return whether its receiver links the libc layer for it at once
     */
    default boolean linksAtOnce(T value) {
        return true;
    }

    /** What a reducer writes. */
    interface Out {
        void writeInt(int value);

        void writeLong(long value);

        void writeBoolean(boolean value);

        void writeString(String value);

        /** Writes any object the serialization can write, with its own reducers. */
        void writeObject(Object value);

        /**
         * Makes {@code fd} travel with the message: duplicated into the receiving process by
         * inheritance at spawn or SCM_RIGHTS later. Throws if the channel cannot carry one.
         */
        void writeFd(int fd);

        /** Whether {@link #writeFd} works on this channel (a socket, or a spawn). */
        boolean carriesFds();

        /**
         * Has {@code action} run once the message has been sent, or its sending has failed:
         * for a descriptor given to {@link #writeFd}, which must stay open until then.
         */
        void afterSend(Runnable action);

        /**
         * Has {@code action} run if the message is never sent (its write fails, or its channel
         * drops it unsent): for a reducer that counted the message as a holder of what it
         * writes, which no reader will then give back.
         */
        void ifUnsent(Runnable action);

        /**
         * Says that the message can be read by one receiver only (what this reducer wrote is
         * redeemed once, as a connection's resource-sharer ticket): its bytes must not be sent
         * to several processes, as a pool's function bytes are.
         */
        void readOnce();

        /** Whether this message starts a child of this process (its target and arguments). */
        default boolean spawning() {
            return false;
        }
    }

    /** What a reducer reads, in the order it was written. */
    interface In {
        int readInt();

        long readLong();

        boolean readBoolean();

        String readString();

        Object readObject();

        /** The receiving process's descriptor for the next {@link Out#writeFd}; it owns it. */
        int readFd();

        /**
         * Makes {@code rebuilt} what references back to the object being read resolve to (a
         * cycle through it, as pickle keeps): call it with the new object before reading any
         * object nested in it, or such a reference reads as null.
         */
        void reference(Object rebuilt);

        /**
         * Runs {@code action} once the whole message is read, before its value is returned,
         * and after the serializer this read holds is given back to the JVM's pool: for work
         * that is itself a message (a proxy asking its server to count it), which would
         * otherwise need a second serializer while holding one, and wait forever once as many
         * threads as the pool has serializers read such objects at once.
         */
        void afterRead(Runnable action);
    }
}
