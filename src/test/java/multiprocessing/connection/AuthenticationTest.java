package multiprocessing.connection;

import static multiprocessing.connection.ListenerClientTest.exchange;
import static multiprocessing.connection.ListenerClientTest.get;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import multiprocessing.AuthenticationError;
import multiprocessing.internal.util.HandshakeSlots;

/** The HMAC handshake between our Listener and Client, and listeners facing bad clients. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AuthenticationTest {
    private static final byte[] KEY = "secret".getBytes(StandardCharsets.US_ASCII);
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void shutdownPool() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "test threads still running");
    }

    private static Listener listener(byte[] key) throws IOException {
        return new Listener(Address.inet("127.0.0.1", 0), null, 4, key);
    }

    /** The listener still serves a well-behaved client after whatever happened before. */
    private void stillAcceptsGoodClient(Listener listener, byte[] key) throws Exception {
        Future<Connection> accepted = pool.submit(listener::accept);
        try (Connection client = Client.connect(listener.address(), key);
                Connection server = get(accepted)) {
            exchange(server, client);
        }
    }

    /**
     * A listener that accepts and then says nothing fails a client's handshake within the
     * handshake timeout instead of holding it forever (a received proxy naming such an address
     * made a reader connect to it; attack 18c).
     */
    @Test
    void aListenerThatNeverSpeaksFailsTheClientsHandshakeInTime() throws Exception {
        String property = multiprocessing.internal.util.Watchdog.HANDSHAKE_TIMEOUT_PROPERTY;
        String before = System.getProperty(property);
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 1,
                java.net.InetAddress.getLoopbackAddress())) {
            System.setProperty(property, "500");
            long t0 = System.nanoTime();
            SocketTimeoutException e = assertThrows(SocketTimeoutException.class,
                    () -> Client.connect(Address.inet("127.0.0.1", silent.getLocalPort()),
                            "key".getBytes(StandardCharsets.UTF_8)));
            assertTrue((System.nanoTime() - t0) / 1_000_000 < 10_000, "within the timeout");
            assertTrue(e.getMessage().contains("did not complete the authentication handshake"),
                    e.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }
    }

    @Test
    void rightKey() throws Exception {
        for (Address address : new Address[] {Address.inet("127.0.0.1", 0), null}) {
            try (Listener listener = new Listener(address, KEY)) {
                Future<Connection> accepted = pool.submit(listener::accept);
                try (Connection client = Client.connect(listener.address(), null, KEY);
                        Connection server = get(accepted)) {
                    exchange(server, client);
                }
            }
        }
    }

    @Test
    void wrongKeyFailsOnBothSides() throws Exception {
        try (Listener listener = listener(KEY)) {
            Future<Connection> accepted = pool.submit(listener::accept);
            AuthenticationError client = assertThrows(AuthenticationError.class,
                    () -> Client.connect(listener.address(), "wrong".getBytes()));
            assertTrue(client.getMessage().contains("rejected"), client.getMessage());
            AuthenticationError server = assertThrows(AuthenticationError.class,
                    () -> get(accepted));
            assertTrue(server.getMessage().contains("wrong"), server.getMessage());
            assertTrue(Arrays.stream(server.getSuppressed())
                            .flatMap(s -> Arrays.stream(s.getStackTrace()))
                            .anyMatch(f -> f.getClassName().equals(Listener.class.getName())
                                    && f.getMethodName().equals("accept")),
                    "the trace shows the accept() it was thrown to");
            stillAcceptsGoodClient(listener, KEY);
        }
    }

    @Test
    void clientWithoutKeyIsRejected() throws Exception {
        try (Listener listener = listener(KEY)) {
            Future<Connection> accepted = pool.submit(listener::accept);
            try (Connection client = Client.connect(listener.address())) {
                byte[] challenge = client.recvBytes();
                assertTrue(new String(challenge, StandardCharsets.ISO_8859_1)
                        .startsWith("#CHALLENGE#{sha256}"));
                assertEquals(11 + 8 + 40, challenge.length);
                client.send("not an answer");
                assertThrows(AuthenticationError.class, () -> get(accepted));
                assertArrayEquals("#FAILURE#".getBytes(), client.recvBytes());
            }
            // A client without a key whose first call is recv() is told the listener asks for
            // one (it was told the bytes were not an object this library serialized).
            Future<Connection> asked = pool.submit(listener::accept);
            try (Connection client = Client.connect(listener.address())) {
                AuthenticationError told = assertThrows(AuthenticationError.class, client::recv);
                assertTrue(told.getMessage().contains("its listener has an authentication key"),
                        told.getMessage());
            }
            assertInstanceOf(IOException.class, assertThrows(Exception.class, () -> get(asked)));
            // A client that hangs up instead of answering: end of file, not a hang.
            Future<Connection> next = pool.submit(listener::accept);
            Client.connect(listener.address()).close();
            assertInstanceOf(IOException.class, assertThrows(Exception.class, () -> get(next)));
            stillAcceptsGoodClient(listener, KEY);
        }
    }

    @Test
    void listenerWithoutKeyFailsTheClient() throws Exception {
        try (Listener listener = listener(null)) {
            Future<Connection> accepted = pool.submit(() -> {
                Connection c = listener.accept();
                c.sendBytes("hello".getBytes());
                return c;
            });
            AuthenticationError e = assertThrows(AuthenticationError.class,
                    () -> Client.connect(listener.address(), KEY));
            assertTrue(e.getMessage().contains("expected challenge"), e.getMessage());
            get(accepted).close();
        }
    }

    @Test
    void emptyKeyRunsTheHandshake() throws Exception {
        try (Listener listener = listener(new byte[0])) {
            // An empty key is a key, as CPython's b'': the other key is refused on both sides.
            Future<Connection> accepted = pool.submit(listener::accept);
            assertThrows(AuthenticationError.class,
                    () -> Client.connect(listener.address(), KEY));
            assertThrows(AuthenticationError.class, () -> get(accepted));
            stillAcceptsGoodClient(listener, new byte[0]);
        }
    }

    @Test
    void garbageClientsDoNotBreakTheListener() throws Exception {
        try (Listener listener = listener(KEY)) {
            int port = listener.address().port();
            byte[][] garbage = {
                "junk that is not a frame at all".getBytes(),         // header = huge length
                {(byte) 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}, // 2 GiB claimed
                {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,  // long header, huge
                    0x10, 0, 0, 0, 0, 0, 0, 0},
                {(byte) 0x80, 0, 0, 0},                               // negative length
                {0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'},                // a frame, not an answer
                {0, 0, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, // bad MD5
                {0, 0, 0, 30, '{', 's', 'h', 'a', '1', '}'},          // truncated frame
            };
            for (byte[] junk : garbage) {
                Future<Connection> accepted = pool.submit(listener::accept);
                try (Socket raw = new Socket("127.0.0.1", port)) {
                    OutputStream out = raw.getOutputStream();
                    out.write(junk);
                    out.flush();
                    raw.shutdownOutput();
                    Exception e = assertThrows(Exception.class, () -> get(accepted));
                    if (!(e instanceof AuthenticationError) && !(e instanceof IOException)) {
                        fail("garbage " + HexFormat.of().formatHex(junk) + " gave " + e, e);
                    }
                }
                stillAcceptsGoodClient(listener, KEY);
            }
        }
    }

    @Test
    void silentClientTimesOut() throws Exception {
        try (Listener listener = listener(KEY)) {
            listener.handshakeTimeout(Duration.ofMillis(200));
            Future<Connection> accepted = pool.submit(listener::accept);
            try (Socket silent = new Socket("127.0.0.1", listener.address().port())) {
                SocketTimeoutException e = assertThrows(SocketTimeoutException.class,
                        () -> get(accepted));
                assertTrue(e.getMessage().contains("handshake"), e.getMessage());
                // The listener let the client go: its challenge, then end of file.
                byte[] all = silent.getInputStream().readAllBytes();
                assertEquals("#CHALLENGE#", new String(all, 4, 11, StandardCharsets.US_ASCII));
            }
            stillAcceptsGoodClient(listener, KEY);
        }
    }

    @Test
    void closeAbortsAHandshakeInProgress() throws Exception {
        Listener listener = listener(KEY);
        listener.handshakeTimeout(null);
        Future<Connection> accepted = pool.submit(listener::accept);
        try (Socket silent = new Socket("127.0.0.1", listener.address().port())) {
            readChallenge(silent); // the handshake is under way
            listener.close();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> get(accepted));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }

    /** Reads the challenge a listener sends a new client: its handshake has begun. */
    private static void readChallenge(Socket client) throws IOException {
        byte[] header = client.getInputStream().readNBytes(4 + 11);
        assertEquals("#CHALLENGE#", new String(header, 4, 11, StandardCharsets.US_ASCII));
        int length = java.nio.ByteBuffer.wrap(header, 0, 4).getInt();
        assertEquals(length - 11, client.getInputStream().readNBytes(length - 11).length);
    }

    /**
     * Clients that connect and say nothing hold no other client back: a good client that
     * comes after three of them is accepted while their handshakes wait, with no time limit
     * (CPython's accept, as this one did, shook hands with the first one and nobody else;
     * attack 30: two such peers, reopened every 20 s, made every client of a listener fail).
     * Their handshakes' ends come out of the next accepts.
     */
    @Test
    void silentClientsHoldNoOtherClientBack() throws Exception {
        try (Listener listener = listener(KEY)) {
            listener.handshakeTimeout(null);
            Future<Connection> accepted = pool.submit(listener::accept);
            Socket[] silent = new Socket[3];
            try {
                for (int i = 0; i < silent.length; i++) {
                    silent[i] = new Socket("127.0.0.1", listener.address().port());
                }
                Future<Connection> client = pool.submit(
                        () -> Client.connect(listener.address(), KEY));
                try (Connection c = client.get(10, TimeUnit.SECONDS);
                        Connection server = accepted.get(10, TimeUnit.SECONDS)) {
                    exchange(server, c);
                }
                for (Socket s : silent) {
                    readChallenge(s); // each was challenged, none is done
                }
            } finally {
                for (Socket s : silent) {
                    if (s != null) {
                        s.close();
                    }
                }
            }
            for (int i = 0; i < silent.length; i++) {
                Future<Connection> next = pool.submit(listener::accept);
                assertInstanceOf(IOException.class, assertThrows(Exception.class,
                        () -> get(next)), "a client that hung up in its handshake");
            }
            stillAcceptsGoodClient(listener, KEY);
        }
    }

    /**
     * A flood of silent clients costs at most {@value HandshakeSlots#MAX} handshakes at once:
     * each one more closes the oldest, whose end an accept throws, once that one has had
     * {@link HandshakeSlots#MIN_AGE_NANOS} to answer (a slow client is not cut off by those
     * after it: closing it at once lost a third of a burst of CPython clients, attack 31), and
     * a good client still gets through.
     */
    @Test
    void aFloodOfSilentClientsPushesOutTheOldest() throws Exception {
        int extra = 3;
        try (Listener listener = listener(KEY)) {
            listener.handshakeTimeout(null);
            java.util.concurrent.ConcurrentLinkedQueue<Exception> failures =
                    new java.util.concurrent.ConcurrentLinkedQueue<>();
            java.util.concurrent.BlockingQueue<Connection> connections =
                    new java.util.concurrent.LinkedBlockingQueue<>();
            Future<?> accepting = pool.submit(() -> {
                while (true) {
                    try {
                        connections.add(listener.accept());
                    } catch (IllegalStateException closed) {
                        return null;
                    } catch (IOException e) {
                        failures.add(e);
                    }
                }
            });
            Socket[] silent = new Socket[HandshakeSlots.MAX + extra];
            try {
                long challenged = 0;
                for (int i = 0; i < silent.length; i++) {
                    silent[i] = new Socket("127.0.0.1", listener.address().port());
                    readChallenge(silent[i]); // in this order: the oldest first
                    if (i == 0) {
                        challenged = System.nanoTime();
                    }
                }
                for (int i = 0; i < extra; i++) {
                    assertEquals(-1, silent[i].getInputStream().read(), "pushed out: closed");
                }
                long age = System.nanoTime() - challenged;
                assertTrue(age >= HandshakeSlots.MIN_AGE_NANOS * 9 / 10,
                        "the oldest was closed " + age / 1_000_000 + " ms after its challenge");
                silent[extra].setSoTimeout(200);
                assertThrows(SocketTimeoutException.class,
                        () -> silent[extra].getInputStream().read(), "not pushed out");
                try (Connection c = Client.connect(listener.address(), KEY);
                        Connection server = connections.poll(10, TimeUnit.SECONDS)) {
                    assertTrue(server != null, "the good client was not accepted");
                    exchange(server, c);
                }
            } finally {
                for (Socket s : silent) {
                    if (s != null) {
                        s.close();
                    }
                }
            }
            listener.close();
            get(accepting);
            long pushedOut = failures.stream()
                    .filter(e -> e.getMessage().contains("pushed it out")).count();
            assertTrue(pushedOut >= extra, failures.toString());
        }
    }

    @Test
    void handshakeFunctionsOverAPipe() throws Exception {
        // Every digest CPython 3.12 allows, and the legacy unprefixed form of 3.11.
        for (String digest : new String[] {"sha256", "md5", "sha384", "sha3_256", "sha3_384",
            null}) {
            try (Pipe pipe = Pipe.open()) {
                Future<?> server = pool.submit(() -> {
                    if (digest == null) {
                        Challenge.deliver(pipe.left(), KEY, null);
                    } else {
                        Connections.deliverChallenge(pipe.left(), KEY, digest);
                    }
                    return null;
                });
                Connections.answerChallenge(pipe.right(), KEY);
                get(server);
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> Connections.deliverChallenge(Pipe.open().left(), KEY, "sha1"));
        assertThrows(IllegalArgumentException.class,
                () -> Connections.answerChallenge(Pipe.open().left(), null));
    }

    @Test
    void responsesAsCPythonComputesThem() {
        byte[] message = Challenge.concat("{sha256}".getBytes(), new byte[40]);
        byte[] response = Challenge.createResponse(KEY, message);
        // hmac.new(b'secret', b'{sha256}' + bytes(40), 'sha256').digest(), from CPython.
        assertEquals("7b7368613235367d", HexFormat.of().formatHex(response, 0, 8));
        assertEquals("d0fb99539f09a6c25a9c79a4ca1bb663bbec18ef7bc13404114bc7afe1ea91ab",
                HexFormat.of().formatHex(Arrays.copyOfRange(response, 8, response.length)));
        Challenge.verify(KEY, message, response);
        // A 3.11 client answers the same challenge with a raw 16-byte HMAC-MD5.
        byte[] legacy = Challenge.hmac("md5", KEY, message);
        assertEquals(16, legacy.length);
        Challenge.verify(KEY, message, legacy);
        // The legacy 20-byte challenge is answered with raw MD5.
        assertEquals(16, Challenge.createResponse(KEY, new byte[20]).length);
        assertThrows(AuthenticationError.class,
                () -> Challenge.createResponse(KEY, "{sha1}aaaaaaaaaaaaaaaaaaaaaaaa".getBytes()));
        assertThrows(AuthenticationError.class,
                () -> Challenge.verify(KEY, message, Arrays.copyOf(response, 30)));
        // Empty keys work as in Python's hmac.
        assertEquals(16, Challenge.hmac("md5", new byte[0], message).length);
    }

    /**
     * A fresh process's handshake, both ways (a Listener and a Client in one JVM), sets up
     * none of the JDK's security providers: their first use cost a manager's server and each
     * of its clients 60-110 ms (SecureRandom for the challenge, the JCE for its HMAC).
     */
    @Test
    void aFreshJvmShakesHandsWithoutTheJdksSecurityProviders(@TempDir java.nio.file.Path tmp)
            throws Exception {
        // A file the JVM creates: one that exists already it would keep as "<name>.0".
        java.nio.file.Path log = tmp.resolve("handshake-classes.log");
        java.lang.Process jvm = new ProcessBuilder(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xshare:auto",
                "-Xlog:class+load=info:file=" + log,
                "-cp", System.getProperty("java.class.path"), Handshake.class.getName())
                .redirectErrorStream(true).start();
        try {
            assertTrue(jvm.waitFor(60, TimeUnit.SECONDS), "the handshake's JVM hangs");
            String out = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, jvm.exitValue(), out);
            assertEquals("ok", out.strip());
            String loaded = java.nio.file.Files.readString(log);
            assertTrue(loaded.contains("multiprocessing.connection.Challenge "), "ran the handshake");
            for (String provider : new String[] {"javax.crypto.Mac ", "java.security.SecureRandom ",
                    "sun.security.provider.Sun "}) {
                assertFalse(loaded.contains(provider), provider.strip() + " was loaded");
            }
        } finally {
            jvm.destroyForcibly().waitFor();
        }
    }

    /** {@link #aFreshJvmShakesHandsWithoutTheJdksSecurityProviders}'s JVM. */
    static final class Handshake {
        public static void main(String[] args) throws Exception {
            try (Listener listener = new Listener(null, KEY)) {
                ExecutorService accepting = Executors.newSingleThreadExecutor();
                Future<Connection> accepted = accepting.submit(listener::accept);
                try (Connection client = Client.connect(listener.address(), null, KEY);
                        Connection server = accepted.get(30, TimeUnit.SECONDS)) {
                    client.send("hello");
                    if (!"hello".equals(server.recv())) {
                        throw new AssertionError("not received");
                    }
                }
                accepting.shutdown();
            }
            System.out.println("ok");
        }
    }
}
