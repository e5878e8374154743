package multiprocessing.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;

import multiprocessing.AuthenticationError;

import org.junit.jupiter.api.Test;

class SealTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void sealedBytesOpenOnlyWithTheKeyInTheirContextAndPlace() {
        Seal seal = new Seal(b("key"));
        byte[] sealed = seal.seal("queue", b("payload"), b("q1"));
        assertArrayEquals(b("payload"), seal.open("queue", sealed, "it", b("q1")));
        assertArrayEquals(sealed, seal.seal("queue", b("payload"), b("q1")), "the same bytes seal alike");

        assertThrows(AuthenticationError.class, () -> new Seal(b("other")).open("queue", sealed, "it", b("q1")));
        assertThrows(AuthenticationError.class, () -> seal.open("dict-key", sealed, "it", b("q1")), "another kind");
        assertThrows(AuthenticationError.class, () -> seal.open("queue", sealed, "it", b("q2")), "another queue");
        byte[] altered = sealed.clone();
        altered[altered.length - 1] ^= 1;
        assertThrows(AuthenticationError.class, () -> seal.open("queue", altered, "it", b("q1")));
        assertThrows(AuthenticationError.class, () -> seal.open("queue", new byte[5], "it", b("q1")), "too short");
        assertThrows(AuthenticationError.class, () -> seal.open("queue", null, "it", b("q1")));
        // Parts are length-prefixed: moving a byte from one part to the next changes the seal.
        byte[] ab = seal.seal("x", b("c"), b("ab"));
        assertThrows(AuthenticationError.class, () -> seal.open("x", ab, "it", b("a"), b("b")));
    }
}
