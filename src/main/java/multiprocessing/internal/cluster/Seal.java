package multiprocessing.internal.cluster;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

import javax.crypto.Mac;

import multiprocessing.AuthenticationError;
import multiprocessing.internal.util.Hmac;

/**
 * Everything this library puts into a cluster carries an HMAC-SHA256 of the authentication key
 * ahead of its bytes, checked before the bytes are read: Hazelcast's open-source edition lets
 * any peer that reaches a member connect, store and submit, so the key is what tells a peer of
 * the application's from anyone else.
 *
 * <p>A seal covers a context (what the bytes are: a task, a reply, an element of queue
 * {@code q}, a value of key {@code k} in dict {@code d}), so sealed bytes cannot be passed off
 * as something else: moved to another queue, under another key, or given as the reply to
 * another task. The seal of given bytes in a given context is always the same, as Hazelcast
 * compares keys and values by their bytes ({@code IMap.replace(k, old, new)}, a key found
 * again). Parts are length-prefixed before they are hashed, so no two different lists of parts
 * hash alike.
 */
public final class Seal {
    /** Bytes of an HMAC-SHA256. */
    public static final int MAC_BYTES = 32;
    private static final String ALGORITHM = "HmacSHA256";

    private final ThreadLocal<Mac> macs;

    public Seal(byte[] key) {
        byte[] k = key.clone();
        // Mac objects are not thread-safe, and making one costs more than an HMAC of a few KiB.
        this.macs = ThreadLocal.withInitial(() -> {
            try {
                return Hmac.init(ALGORITHM, k);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("this JDK has no " + ALGORITHM, e);
            }
        });
    }

    /** The HMAC of {@code context} and {@code parts}. */
    public byte[] mac(String context, byte[]... parts) {
        Mac mac = macs.get();
        update(mac, context.getBytes(StandardCharsets.UTF_8));
        for (byte[] p : parts) {
            update(mac, p);
        }
        return mac.doFinal();
    }

    private static void update(Mac mac, byte[] part) {
        mac.update(ByteBuffer.allocate(4).putInt(part.length).array());
        mac.update(part);
    }

    /** {@code payload} with its seal in front: the HMAC of the context, the bound parts and it. */
    public byte[] seal(String context, byte[] payload, byte[]... bound) {
        byte[] m = mac(context, with(bound, payload));
        byte[] out = Arrays.copyOf(m, MAC_BYTES + payload.length);
        System.arraycopy(payload, 0, out, MAC_BYTES, payload.length);
        return out;
    }

    /**
     * The payload of sealed bytes, once their seal is checked.
     *
     * @param what names the bytes in the error ("an element of queue 'q'")
     * @param read what was read where sealed bytes should be: anything a peer without the key
     *     put there (another type included) is refused
     * @throws AuthenticationError if the seal is not this key's for these bytes in this context
     */
    public byte[] open(String context, Object read, String what, byte[]... bound) {
        if (!(read instanceof byte[] sealed) || sealed.length < MAC_BYTES) {
            throw refused(what);
        }
        byte[] payload = Arrays.copyOfRange(sealed, MAC_BYTES, sealed.length);
        byte[] expected = mac(context, with(bound, payload));
        if (!MessageDigest.isEqual(expected, Arrays.copyOf(sealed, MAC_BYTES))) {
            throw refused(what);
        }
        return payload;
    }

    /** The seal at the front of sealed bytes. */
    public static byte[] sealOf(byte[] sealed) {
        return Arrays.copyOf(sealed, MAC_BYTES);
    }

    /**
     * What Hazelcast could not read at all: an entry a peer without the key put there, of a
     * format or naming a class that a cluster never builds ({@link NamedClasses}).
     */
    static AuthenticationError unreadable(String what, RuntimeException cause) {
        AuthenticationError e = new AuthenticationError(what + " is not sealed bytes and names"
                + " what this cluster does not build: a peer without this process's"
                + " authentication key wrote it; it is not read");
        e.initCause(cause);
        return e;
    }

    static AuthenticationError refused(String what) {
        return new AuthenticationError(what + " does not carry this process's authentication key: "
                + "it was written by a peer with another key, or altered on the way; it is not read");
    }

    private static byte[][] with(byte[][] bound, byte[] last) {
        byte[][] all = Arrays.copyOf(bound, bound.length + 1);
        all[bound.length] = last;
        return all;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
