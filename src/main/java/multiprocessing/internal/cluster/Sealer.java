package multiprocessing.internal.cluster;

import com.hazelcast.nio.serialization.HazelcastSerializationException;

import multiprocessing.internal.reduction.Serialization;

/**
 * An object to sealed bytes and back, for the cluster's structures: the library's one
 * serialization, then the {@link Seal}; a value is only deserialized once its seal is checked.
 */
final class Sealer {
    private final Seal seal;

    Sealer(Seal seal) {
        this.seal = seal;
    }

    /**
     * @throws NullPointerException for null, which no concurrent collection holds
     * @throws IllegalArgumentException naming the class when {@code value} cannot be serialized
     */
    byte[] seal(String context, Object value, byte[]... bound) {
        if (value == null) {
            throw new NullPointerException("a cluster's queues and dicts hold no null");
        }
        return seal.seal(context, Serialization.serialize(value), bound);
    }

    /** The serialized bytes under a seal, checked. */
    byte[] payload(String context, Object sealed, String what, byte[]... bound) {
        return seal.open(context, sealed, what, bound);
    }

    @SuppressWarnings("unchecked")
    <T> T open(String context, Object sealed, String what, byte[]... bound) {
        return (T) Serialization.deserialize(seal.open(context, sealed, what, bound));
    }

    /** A read of a Hazelcast structure, which may throw what its caller's method throws. */
    interface Read<T, X extends Exception> {
        T run() throws X;
    }

    /**
     * Runs {@code read}; what Hazelcast could not read at all (an entry a peer without the key
     * put there, of a format or naming a class a cluster never builds: {@link NamedClasses})
     * is refused with {@link multiprocessing.AuthenticationError}, as any entry without the key.
     */
    static <T, X extends Exception> T reading(String what, Read<T, X> read) throws X {
        try {
            return read.run();
        } catch (HazelcastSerializationException e) {
            throw Seal.unreadable(what, e);
        }
    }
}
