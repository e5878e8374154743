package multiprocessing.internal.managers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import multiprocessing.internal.managers.Messages.Hello;
import multiprocessing.internal.managers.Messages.Request;
import multiprocessing.internal.managers.Messages.Response;
import multiprocessing.internal.reduction.Serialization;

import org.junit.jupiter.api.Test;

/**
 * A manager's requests, replies and hellos are written without Fory ('V', a plain value's mark,
 * first) and arrive whole, empty fields and non-Latin-1 text included, a hello's descriptor
 * too; cut or altered bytes are refused, never misread.
 */
class EnvelopeTest {
    private static final byte PLAIN = 'V';

    private static Object travel(Object envelope) {
        byte[] bytes = Serialization.serialize(envelope);
        assertEquals(PLAIN, bytes[0], "written without Fory: " + envelope.getClass());
        return Serialization.deserialize(bytes);
    }

    @Test
    void requestsAndRepliesRoundTripWithoutFory() {
        byte[] args = Serialization.serialize(new Object[] {"k", 1});
        Request sent = new Request(42, -7, Messages.CALL, "a1b2", "put",
                new String[] {"java.lang.Object", null, "caf\u00e9 \u2603"}, args);
        Request back = (Request) travel(sent);
        assertEquals(sent.id(), back.id());
        assertEquals(sent.thread(), back.thread());
        assertEquals(sent.op(), back.op());
        assertEquals(sent.target(), back.target());
        assertEquals(sent.method(), back.method());
        assertArrayEquals(sent.paramTypes(), back.paramTypes());
        assertArrayEquals(args, back.args());
        Request bare = (Request) travel(new Request(1, 2, Messages.CANCEL, null, null, null,
                new byte[0]));
        assertEquals(null, bare.target());
        assertEquals(null, bare.paramTypes());

        Response ok = (Response) travel(new Response(42, true, args, null));
        assertEquals(42, ok.id());
        assertEquals(true, ok.ok());
        assertArrayEquals(args, ok.payload());
        assertEquals(null, ok.traceback());
        Response failed = (Response) travel(new Response(43, false, new byte[] {1},
                "Traceback\n  at \u00fcber"));
        assertEquals(false, failed.ok());
        assertEquals("Traceback\n  at \u00fcber", failed.traceback());

        assertSame(Messages.Bye.BYE, travel(new Messages.Bye()));
    }

    /**
     * A hello is plain too, and the descriptor of the rings it offers crosses a socket with it
     * (the receiver gets a descriptor of its own); a channel that cannot carry one refuses it.
     */
    @Test
    void aHelloCarriesItsDescriptorAcrossASocket() throws Exception {
        assertEquals("client", ((Hello) travel(new Hello("client", -1, 0))).clientId());
        try (multiprocessing.connection.Pipe socket = multiprocessing.connection.Pipe.open();
                multiprocessing.connection.Pipe offered =
                        multiprocessing.connection.Pipe.open(false)) {
            int fd = offered.left().fileno();
            socket.right().send(new Hello("client", fd, 4096));
            Hello back = (Hello) socket.left().recv();
            assertEquals("client", back.clientId());
            assertEquals(4096, back.ringsBytes());
            assertTrue(back.ringsFd() >= 0 && back.ringsFd() != fd, "a descriptor of its own");
            multiprocessing.internal.posix.Posix.close(back.ringsFd());
        }
        assertThrows(IllegalArgumentException.class,
                () -> Serialization.serialize(new Hello("client", 0, 4096)));
    }

    @Test
    void cutOrAlteredBytesAreRefused() {
        byte[] bytes = Serialization.serialize(new Request(1, 2, Messages.CALL, "t", "m",
                new String[] {"x"}, new byte[] {1, 2, 3}));
        for (int cut = 1; cut < bytes.length; cut++) {
            byte[] shorter = Arrays.copyOf(bytes, cut);
            assertThrows(IllegalStateException.class, () -> Serialization.deserialize(shorter),
                    "cut at " + cut);
        }
        byte[] unknown = bytes.clone();
        unknown[2] = 9; // no such message
        assertThrows(IllegalStateException.class, () -> Serialization.deserialize(unknown));
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
        assertThrows(IllegalStateException.class, () -> Serialization.deserialize(longer));
        // A reply's bytes read as a request (index 1 -> 0): its fields are of other kinds.
        byte[] reply = Serialization.serialize(new Response(1, true, new byte[] {1}, "t"));
        reply[2] = 0;
        assertThrows(IllegalStateException.class, () -> Serialization.deserialize(reply));
        // A proxy (tag 17) of one interface whose handler is another message (a Bye, index 2):
        // refused, no proxy made.
        byte[] name = "java.util.Map".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        java.nio.ByteBuffer forged = java.nio.ByteBuffer.allocate(2 + 4 + 1 + 4 + name.length + 1)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        forged.put(PLAIN).put((byte) 17).putInt(1).put((byte) 10).putInt(name.length).put(name)
                .put((byte) 2);
        IllegalStateException notAProxy = assertThrows(IllegalStateException.class,
                () -> Serialization.deserialize(forged.array()));
        assertTrue(String.valueOf(notAProxy.getMessage()).contains("handler"),
                notAProxy.getMessage());
    }
}
