package multiprocessing.internal.util;

import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;

import javax.crypto.Mac;
import javax.crypto.SecretKey;

/**
 * The library's one way to compute an HMAC of its authentication key: the connection handshake
 * (CPython's challenge) and the seals on what crosses a cluster both use it. A handshake's
 * HMAC-SHA256 is computed without the JDK's security providers ({@link #sha256}), whose first
 * use costs a fresh process more than the handshake itself (see {@link Sha256}).
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
     * HMAC-SHA256 (RFC 2104) of {@code message} keyed with {@code key}, of any length: what
     * {@code init("HmacSHA256", key).doFinal(message)} gives, without the JDK's providers.
     */
    public static byte[] sha256(byte[] key, byte[] message) {
        byte[] k = key.length > Sha256.BLOCK_BYTES ? Sha256.digest(key) : key;
        byte[] inner = new byte[Sha256.BLOCK_BYTES];
        byte[] outer = new byte[Sha256.BLOCK_BYTES];
        for (int i = 0; i < Sha256.BLOCK_BYTES; i++) {
            byte b = i < k.length ? k[i] : 0;
            inner[i] = (byte) (b ^ 0x36);
            outer[i] = (byte) (b ^ 0x5c);
        }
        return Sha256.digest(outer, Sha256.digest(inner, message));
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
