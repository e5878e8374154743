package multiprocessing.internal.util;

import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;

import javax.crypto.Mac;
import javax.crypto.SecretKey;

/**
 * The library's one way to compute an HMAC of its authentication key: the connection handshake
 * (CPython's challenge) and the seals on what crosses a cluster both use it.
 */
public final class Hmac {
    private Hmac() {}

    /**
     * A {@link Mac} of {@code algorithm} (a JDK name such as {@code "HmacSHA256"}) keyed with
     * {@code key}, which may have any length, the empty key included.
     *
     * @throws NoSuchAlgorithmException if the JDK has no such HMAC
     */
    public static Mac init(String algorithm, byte[] key) throws NoSuchAlgorithmException {
        Mac mac = Mac.getInstance(algorithm);
        try {
            mac.init(new RawKey(key.clone(), algorithm));
        } catch (InvalidKeyException e) {
            throw new IllegalStateException("the JDK refused an HMAC key", e);
        }
        return mac;
    }

    /**
     * A key of any length, the empty one included, which SecretKeySpec refuses but HMAC (and
     * Python's hmac) accepts.
     */
    private record RawKey(byte[] key, String getAlgorithm) implements SecretKey {
        @Override
        public String getFormat() {
            return "RAW";
        }

        @Override
        public byte[] getEncoded() {
            return key.clone();
        }
    }
}
