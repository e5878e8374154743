package multiprocessing.connection;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;

import multiprocessing.AuthenticationError;
import multiprocessing.internal.util.Hmac;
import multiprocessing.internal.util.Urandom;

/**
 * CPython's HMAC challenge between a Listener and a Client, in both its forms, so a Java end
 * authenticates with Python 3.11 and 3.12+ ends alike.
 *
 * <p>Legacy (Python 3.11 and before): the server sends {@code #CHALLENGE#} and 20 random
 * bytes, the client answers the raw 16-byte HMAC-MD5 of what follows {@code #CHALLENGE#}.
 * Modern (3.12+): the server sends {@code #CHALLENGE#{sha256}} and 40 random bytes, the client
 * answers {@code {sha256}} and the HMAC-SHA256 of everything after {@code #CHALLENGE#},
 * prefix included, so a client cannot downgrade the digest. Either way the server ends with
 * {@code #WELCOME#} or {@code #FAILURE#}.
 *
 * <p>Which form a message has is told by its length, as CPython does: the legacy challenge is
 * 20 bytes and a legacy answer 16, lengths no prefixed message can have. That is how a 3.11
 * client that answers a modern challenge with a raw MD5 of the whole prefixed message is
 * accepted, and how our answer to a 3.11 server is a raw MD5.
 */
final class Challenge {
    private Challenge() {}

    static final byte[] CHALLENGE = ascii("#CHALLENGE#");
    static final byte[] WELCOME = ascii("#WELCOME#");
    static final byte[] FAILURE = ascii("#FAILURE#");
    /** Random bytes in a modern challenge (CPython 3.12's MESSAGE_LENGTH). */
    static final int MESSAGE_LENGTH = 40;
    /** The whole legacy challenge after {@code #CHALLENGE#}. */
    static final int MD5ONLY_MESSAGE_LENGTH = 20;
    static final int MD5_DIGEST_LENGTH = 16;
    /** CPython rejects any handshake message longer than this without reading it. */
    static final int MAX_MESSAGE = 256;
    /** CPython's digest names and the JDK's names for their HMACs. */
    private static final Map<String, String> ALLOWED_DIGESTS = Map.of(
            "md5", "HmacMD5",
            "sha256", "HmacSHA256",
            "sha384", "HmacSHA384",
            "sha3_256", "HmacSHA3-256",
            "sha3_384", "HmacSHA3-384");
    private static final int MAX_DIGEST_NAME = 8;

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** A digest name ("" for the legacy unprefixed form) and the bytes after its prefix. */
    record Parsed(String digestName, byte[] payload) {}

    /** CPython's {@code _get_digest_name_and_payload}. */
    static Parsed digestNameAndPayload(byte[] message) {
        if (message.length == MD5ONLY_MESSAGE_LENGTH || message.length == MD5_DIGEST_LENGTH) {
            return new Parsed("", message);
        }
        if (message.length > 0 && message[0] == '{') {
            // CPython searches '}' in message[1 : MAX_DIGEST_NAME + 2].
            int end = Math.min(message.length, MAX_DIGEST_NAME + 2);
            for (int i = 1; i < end; i++) {
                if (message[i] == '}') {
                    String name = new String(message, 1, i - 1, StandardCharsets.US_ASCII);
                    if (ALLOWED_DIGESTS.containsKey(name) && isAscii(message, 1, i)) {
                        return new Parsed(name, Arrays.copyOfRange(message, i + 1,
                                message.length));
                    }
                    break;
                }
            }
        }
        throw new AuthenticationError("unsupported message length, missing digest prefix, "
                + "or unsupported digest: " + preview(message));
    }

    private static boolean isAscii(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] < 0) {
                return false;
            }
        }
        return true;
    }

    /** CPython's {@code _create_response}: raw HMAC-MD5 to a legacy challenge, else prefixed. */
    static byte[] createResponse(byte[] authKey, byte[] message) {
        String digestName = digestNameAndPayload(message).digestName();
        if (digestName.isEmpty()) {
            return hmac("md5", authKey, message);
        }
        byte[] prefix = ascii("{" + digestName + "}");
        byte[] mac = hmac(digestName, authKey, message);
        byte[] response = Arrays.copyOf(prefix, prefix.length + mac.length);
        System.arraycopy(mac, 0, response, prefix.length, mac.length);
        return response;
    }

    /** CPython's {@code _verify_challenge}: an unprefixed answer is taken as HMAC-MD5. */
    static void verify(byte[] authKey, byte[] message, byte[] response) {
        Parsed parsed = digestNameAndPayload(response);
        String digestName = parsed.digestName().isEmpty() ? "md5" : parsed.digestName();
        byte[] expected = hmac(digestName, authKey, message);
        if (expected.length != parsed.payload().length) {
            throw new AuthenticationError("expected '" + digestName + "' of length "
                    + expected.length + " got " + parsed.payload().length);
        }
        if (!MessageDigest.isEqual(expected, parsed.payload())) {
            throw new AuthenticationError("digest received was wrong");
        }
    }

    /** Sends a challenge; {@code digestName} null sends the legacy unprefixed form. */
    static void deliver(Connection connection, byte[] authKey, String digestName)
            throws IOException {
        requireKey(authKey);
        byte[] message;
        if (digestName == null) {
            message = Urandom.bytes(MD5ONLY_MESSAGE_LENGTH);
        } else {
            if (!ALLOWED_DIGESTS.containsKey(digestName)) {
                throw new IllegalArgumentException("unsupported digest '" + digestName
                        + "'; one of " + ALLOWED_DIGESTS.keySet());
            }
            byte[] prefix = ascii("{" + digestName + "}");
            message = Arrays.copyOf(prefix, prefix.length + MESSAGE_LENGTH);
            System.arraycopy(Urandom.bytes(MESSAGE_LENGTH), 0, message, prefix.length,
                    MESSAGE_LENGTH);
        }
        connection.sendBytes(concat(CHALLENGE, message));
        byte[] response = connection.recvBytes(MAX_MESSAGE);
        try {
            verify(authKey, message, response);
        } catch (AuthenticationError e) {
            try {
                connection.sendBytes(FAILURE);
            } catch (IOException | RuntimeException notSent) {
                // The peer may already be gone; the failure to report is the digest.
                e.addSuppressed(notSent);
            }
            throw e;
        }
        connection.sendBytes(WELCOME);
    }

    static void answer(Connection connection, byte[] authKey) throws IOException {
        requireKey(authKey);
        byte[] message = connection.recvBytes(MAX_MESSAGE);
        if (!startsWith(message, CHALLENGE)) {
            throw new AuthenticationError("Protocol error, expected challenge: "
                    + preview(message));
        }
        message = Arrays.copyOfRange(message, CHALLENGE.length, message.length);
        if (message.length < MD5ONLY_MESSAGE_LENGTH) {
            throw new AuthenticationError("challenge too short: " + message.length + " bytes");
        }
        connection.sendBytes(createResponse(authKey, message));
        byte[] response = connection.recvBytes(MAX_MESSAGE);
        if (!Arrays.equals(response, WELCOME)) {
            throw new AuthenticationError("digest sent was rejected");
        }
    }

    private static void requireKey(byte[] authKey) {
        if (authKey == null) {
            throw new IllegalArgumentException("the authentication key must be bytes, not null");
        }
    }

    static byte[] hmac(String digestName, byte[] key, byte[] message) {
        if (digestName.equals("sha256")) {
            return Hmac.sha256(key, message); // every handshake of ours: no JCE set-up for it
        }
        String algorithm = ALLOWED_DIGESTS.get(digestName);
        try {
            return Hmac.init(algorithm, key).doFinal(message);
        } catch (NoSuchAlgorithmException e) {
            throw new AuthenticationError("digest '" + digestName + "' unsupported: " + e);
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static boolean startsWith(byte[] message, byte[] prefix) {
        return message.length >= prefix.length
                && Arrays.equals(message, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** A bounded rendering of a peer's bytes for an error message. */
    private static String preview(byte[] message) {
        int n = Math.min(message.length, 32);
        return message.length + " bytes " + HexFormat.of().formatHex(message, 0, n)
                + (n < message.length ? "..." : "");
    }
}
