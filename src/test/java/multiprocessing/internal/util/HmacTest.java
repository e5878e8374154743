package multiprocessing.internal.util;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The handshake's HMAC-SHA256, computed without the JDK's providers, against the JDK's. */
class HmacTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void sha256GivesTheNistDigests() {
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                HEX.formatHex(Sha256.digest(new byte[0])));
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                HEX.formatHex(Sha256.digest(ascii("abc"))));
        assertEquals("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                HEX.formatHex(Sha256.digest(
                        ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))));
        byte[] million = new byte[1_000_000];
        java.util.Arrays.fill(million, (byte) 'a');
        assertEquals("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                HEX.formatHex(Sha256.digest(million)));
    }

    @Test
    void sha256GivesTheJdksDigestForEveryLengthAroundItsBlocks() throws Exception {
        Random random = new Random(42);
        for (int n = 0; n <= 200; n++) {
            byte[] m = new byte[n];
            random.nextBytes(m);
            // Split in two parts: the digest is of their concatenation.
            int cut = n == 0 ? 0 : random.nextInt(n);
            byte[] head = java.util.Arrays.copyOf(m, cut);
            byte[] tail = java.util.Arrays.copyOfRange(m, cut, n);
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(m),
                    Sha256.digest(head, tail), "length " + n);
        }
    }

    @Test
    void hmacGivesTheRfc4231Values() {
        // Test case 1: a 20-byte key of 0x0b.
        byte[] key = new byte[20];
        java.util.Arrays.fill(key, (byte) 0x0b);
        assertEquals("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                HEX.formatHex(Hmac.sha256(key, ascii("Hi There"))));
        // Test case 2: a key shorter than the block.
        assertEquals("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                HEX.formatHex(Hmac.sha256(ascii("Jefe"),
                        ascii("what do ya want for nothing?"))));
        // Test case 6: a 131-byte key, longer than the block, hashed first.
        byte[] longKey = new byte[131];
        java.util.Arrays.fill(longKey, (byte) 0xaa);
        assertEquals("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                HEX.formatHex(Hmac.sha256(longKey,
                        ascii("Test Using Larger Than Block-Size Key - Hash Key First"))));
    }

    @Test
    void hmacGivesTheJdksForKeysOfEveryLengthTheEmptyOneIncluded() throws Exception {
        Random random = new Random(7);
        for (int k = 0; k <= 130; k++) {
            byte[] key = new byte[k];
            random.nextBytes(key);
            byte[] message = new byte[random.nextInt(300)];
            random.nextBytes(message);
            assertArrayEquals(Hmac.init("HmacSHA256", key).doFinal(message),
                    Hmac.sha256(key, message), "key length " + k);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
