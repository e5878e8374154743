package multiprocessing.connection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import multiprocessing.AuthenticationError;
import multiprocessing.NoLeftoverProcesses;

/**
 * Our Listener and Client against CPython's, run as python3 subprocesses: the local
 * python3's own multiprocessing.connection (3.11 here: the legacy HMAC-MD5 handshake), and
 * CPython 3.12's handshake functions copied into a script (the {sha256} protocol), so both
 * protocols are exercised whatever python3 is installed.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@ExtendWith(NoLeftoverProcesses.class)
class PythonInteropTest {
    private static final String KEY = "secret";
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<PythonPeer> peers = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void needsPython() throws InterruptedException {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import multiprocessing.connection")
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            Assumptions.assumeTrue(p.waitFor() == 0,
                    "python3 cannot import multiprocessing.connection: interop not tested");
        } catch (IOException e) {
            Assumptions.abort("python3 is not installed: interop with CPython not tested");
        }
    }

    @AfterEach
    void cleanUp() throws InterruptedException {
        for (PythonPeer p : peers) {
            p.destroy();
        }
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "test threads still running");
    }

    /** A python3 process whose stdout lines arrive through a queue, so reads can time out. */
    private final class PythonPeer {
        final Process process;
        final Path stderr;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        PythonPeer(String script, String... args) throws IOException {
            stderr = Files.createTempFile(dir, "python", ".err");
            List<String> command = new ArrayList<>(List.of("python3", "-c", script));
            command.addAll(List.of(args));
            process = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.to(stderr.toFile())).start();
            peers.add(this);
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(
                        process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // the process was destroyed
                }
                lines.add("<EOF>");
            }, "python-stdout");
            reader.setDaemon(true);
            reader.start();
        }

        String line() throws Exception {
            String line = lines.poll(30, TimeUnit.SECONDS);
            if (line == null || line.equals("<EOF>")) {
                fail("python3 printed " + (line == null ? "nothing for 30 s" : "no more lines")
                        + "; its stderr:\n" + Files.readString(stderr));
            }
            return line;
        }

        void assertExitsCleanly() throws Exception {
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "python3 did not exit");
            assertEquals(0, process.exitValue(), () -> "python3 failed: " + readStderr());
        }

        private String readStderr() {
            try {
                return Files.readString(stderr);
            } catch (IOException e) {
                return e.toString();
            }
        }

        void destroy() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static <T> T get(Future<T> f) throws Exception {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception c ? c : e;
        }
    }

    /** CPython's own Listener: echoes one message back, prefixed. */
    private static final String PYTHON_LISTENER = """
            import sys
            from multiprocessing import AuthenticationError
            from multiprocessing.connection import Listener
            with Listener(('127.0.0.1', 0), authkey=sys.argv[1].encode()) as listener:
                print(listener.address[1], flush=True)
                try:
                    with listener.accept() as conn:
                        data = conn.recv_bytes()
                        conn.send_bytes(b'python got ' + data)
                        print('OK', flush=True)
                except AuthenticationError as e:
                    print('AUTH', e, flush=True)
            """;

    /** CPython's own Client: address "inet:PORT", "unix:PATH" or "abstract:NAME". */
    private static final String PYTHON_CLIENT = """
            import sys
            from multiprocessing import AuthenticationError
            from multiprocessing.connection import Client
            kind, _, where = sys.argv[1].partition(':')
            address = {'inet': lambda: ('127.0.0.1', int(where)), 'unix': lambda: where,
                       'abstract': lambda: '\\0' + where}[kind]()
            try:
                with Client(address, authkey=sys.argv[2].encode()) as conn:
                    conn.send_bytes(b'hello from python')
                    print(conn.recv_bytes().decode(), flush=True)
            except AuthenticationError as e:
                print('AUTH', e, flush=True)
            """;

    @Test
    void ourClientToPythonListener() throws Exception {
        PythonPeer python = new PythonPeer(PYTHON_LISTENER, KEY);
        int port = Integer.parseInt(python.line());
        try (Connection conn = Client.connect(Address.inet("127.0.0.1", port), null,
                KEY.getBytes())) {
            conn.sendBytes("hello from java".getBytes());
            assertEquals("python got hello from java", new String(conn.recvBytes()));
        }
        assertEquals("OK", python.line());
        python.assertExitsCleanly();
    }

    @Test
    void ourClientWithWrongKeyToPythonListener() throws Exception {
        PythonPeer python = new PythonPeer(PYTHON_LISTENER, KEY);
        int port = Integer.parseInt(python.line());
        AuthenticationError e = assertThrows(AuthenticationError.class,
                () -> Client.connect(Address.inet("127.0.0.1", port), "wrong".getBytes()));
        assertTrue(e.getMessage().contains("rejected"), e.getMessage());
        assertTrue(python.line().startsWith("AUTH"));
        python.assertExitsCleanly();
    }

    private void pythonClientToOurListener(Address address, String pythonAddress)
            throws Exception {
        try (Listener listener = new Listener(address, KEY.getBytes())) {
            Future<Connection> accepted = pool.submit(listener::accept);
            String where = pythonAddress != null ? pythonAddress
                    : "inet:" + listener.address().port();
            PythonPeer python = new PythonPeer(PYTHON_CLIENT, where, KEY);
            try (Connection conn = get(accepted)) {
                assertArrayEquals("hello from python".getBytes(), conn.recvBytes());
                conn.sendBytes("java says hi".getBytes());
            }
            assertEquals("java says hi", python.line());
            python.assertExitsCleanly();
        }
    }

    @Test
    void pythonClientToOurListenerOverTcp() throws Exception {
        pythonClientToOurListener(Address.inet("127.0.0.1", 0), null);
    }

    @Test
    void pythonClientToOurListenerOverUnixSockets() throws Exception {
        Path path = dir.resolve("interop.sock");
        pythonClientToOurListener(Address.unix(path.toString()), "unix:" + path);
        assertFalse(Files.exists(path));
        String name = "mp-interop-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        pythonClientToOurListener(Address.unix("\0" + name), "abstract:" + name);
    }

    @Test
    void pythonClientWithEmptyKeyToOurListener() throws Exception {
        // CPython's Client(authkey=b'') answers a challenge: a listener that sent none hung it.
        try (Listener listener = new Listener(Address.inet("127.0.0.1", 0), new byte[0])) {
            Future<Connection> accepted = pool.submit(listener::accept);
            PythonPeer python = new PythonPeer(PYTHON_CLIENT,
                    "inet:" + listener.address().port(), "");
            try (Connection conn = get(accepted)) {
                assertArrayEquals("hello from python".getBytes(), conn.recvBytes());
                conn.sendBytes("empty key".getBytes());
            }
            assertEquals("empty key", python.line());
            python.assertExitsCleanly();
        }
    }

    @Test
    void pythonClientWithWrongKeyToOurListener() throws Exception {
        try (Listener listener = new Listener(Address.inet("127.0.0.1", 0), KEY.getBytes())) {
            Future<Connection> accepted = pool.submit(listener::accept);
            PythonPeer python = new PythonPeer(PYTHON_CLIENT,
                    "inet:" + listener.address().port(), "wrong");
            AuthenticationError e = assertThrows(AuthenticationError.class, () -> get(accepted));
            assertTrue(e.getMessage().contains("wrong"), e.getMessage());
            assertTrue(python.line().startsWith("AUTH"));
            python.assertExitsCleanly();
            // The listener serves the next (right) Python client.
            pythonClientToOurListenerOn(listener);
        }
    }

    private void pythonClientToOurListenerOn(Listener listener) throws Exception {
        Future<Connection> accepted = pool.submit(listener::accept);
        PythonPeer python = new PythonPeer(PYTHON_CLIENT, "inet:" + listener.address().port(),
                KEY);
        try (Connection conn = get(accepted)) {
            assertArrayEquals("hello from python".getBytes(), conn.recvBytes());
            conn.sendBytes("again".getBytes());
        }
        assertEquals("again", python.line());
        python.assertExitsCleanly();
    }

    /**
     * CPython 3.12's handshake (Lib/multiprocessing/connection.py: _get_digest_name_and_payload,
     * _create_response, _verify_challenge, deliver_challenge, answer_challenge) copied as it
     * is, run over connections made without authkey so python3 3.11 speaks 3.12's protocol.
     * A spy records what arrives, to check which form each side used.
     */
    private static final String PYTHON_312 = """
            import hmac, os, sys
            from multiprocessing import AuthenticationError
            from multiprocessing.connection import Client, Listener

            MESSAGE_LENGTH = 40
            _CHALLENGE = b'#CHALLENGE#'
            _WELCOME = b'#WELCOME#'
            _FAILURE = b'#FAILURE#'
            _ALLOWED_DIGESTS = frozenset(
                    {b'md5', b'sha256', b'sha384', b'sha3_256', b'sha3_384'})
            _MAX_DIGEST_LEN = max(len(_) for _ in _ALLOWED_DIGESTS)
            _MD5ONLY_MESSAGE_LENGTH = 20
            _MD5_DIGEST_LEN = 16
            _LEGACY_LENGTHS = (_MD5ONLY_MESSAGE_LENGTH, _MD5_DIGEST_LEN)

            def _get_digest_name_and_payload(message):
                if len(message) in _LEGACY_LENGTHS:
                    return '', message
                if (message.startswith(b'{') and
                    (curly := message.find(b'}', 1, _MAX_DIGEST_LEN+2)) > 0):
                    digest = message[1:curly]
                    if digest in _ALLOWED_DIGESTS:
                        payload = message[curly+1:]
                        return digest.decode('ascii'), payload
                raise AuthenticationError(
                        'unsupported message length, missing digest prefix, '
                        f'or unsupported digest: {message=}')

            def _create_response(authkey, message):
                digest_name = _get_digest_name_and_payload(message)[0]
                if not digest_name:
                    try:
                        return hmac.new(authkey, message, 'md5').digest()
                    except ValueError:
                        digest_name = 'sha256'
                response = hmac.new(authkey, message, digest_name).digest()
                return b'{%s}%s' % (digest_name.encode('ascii'), response)

            def _verify_challenge(authkey, message, response):
                response_digest, response_mac = _get_digest_name_and_payload(response)
                response_digest = response_digest or 'md5'
                try:
                    expected = hmac.new(authkey, message, response_digest).digest()
                except ValueError:
                    raise AuthenticationError(f'{response_digest=} unsupported')
                if len(expected) != len(response_mac):
                    raise AuthenticationError(
                            f'expected {response_digest!r} of length {len(expected)} '
                            f'got {len(response_mac)}')
                if not hmac.compare_digest(expected, response_mac):
                    raise AuthenticationError('digest received was wrong')

            def deliver_challenge(connection, authkey: bytes, digest_name='sha256'):
                if not isinstance(authkey, bytes):
                    raise ValueError(
                        "Authkey must be bytes, not {0!s}".format(type(authkey)))
                assert MESSAGE_LENGTH > _MD5ONLY_MESSAGE_LENGTH, "protocol constraint"
                message = os.urandom(MESSAGE_LENGTH)
                message = b'{%s}%s' % (digest_name.encode('ascii'), message)
                connection.send_bytes(_CHALLENGE + message)
                response = connection.recv_bytes(256)
                try:
                    _verify_challenge(authkey, message, response)
                except AuthenticationError:
                    connection.send_bytes(_FAILURE)
                    raise
                else:
                    connection.send_bytes(_WELCOME)

            def answer_challenge(connection, authkey: bytes):
                if not isinstance(authkey, bytes):
                    raise ValueError(
                        "Authkey must be bytes, not {0!s}".format(type(authkey)))
                message = connection.recv_bytes(256)
                if not message.startswith(_CHALLENGE):
                    raise AuthenticationError(
                            f'Protocol error, expected challenge: {message=}')
                message = message[len(_CHALLENGE):]
                if len(message) < _MD5ONLY_MESSAGE_LENGTH:
                    raise AuthenticationError(f'challenge too short: {len(message)} bytes')
                digest = _create_response(authkey, message)
                connection.send_bytes(digest)
                response = connection.recv_bytes(256)
                if response != _WELCOME:
                    raise AuthenticationError('digest sent was rejected')

            class Spy:
                def __init__(self, conn):
                    self.conn, self.received = conn, []
                def send_bytes(self, b):
                    self.conn.send_bytes(b)
                def recv_bytes(self, maxlength=None):
                    m = self.conn.recv_bytes(maxlength)
                    self.received.append(m)
                    return m

            role, key = sys.argv[1], sys.argv[2].encode()
            def handshake(conn, steps):
                spy = Spy(conn)
                try:
                    for step in steps:
                        step(spy, key)
                except AuthenticationError as e:
                    print('AUTH', e, flush=True)
                    sys.exit(0)
                # Printable prefixes only: a MAC byte could be a newline.
                print('GOT', ' '.join(''.join(chr(b) if 32 < b < 127 else '.' for b in m[:19])
                                      for m in spy.received), flush=True)

            if role == 'server':
                with Listener(('127.0.0.1', 0)) as listener:
                    print(listener.address[1], flush=True)
                    with listener.accept() as conn:
                        handshake(conn, [deliver_challenge, answer_challenge])
                        conn.send_bytes(b'modern ' + conn.recv_bytes())
            else:
                with Client(('127.0.0.1', int(sys.argv[3]))) as conn:
                    handshake(conn, [answer_challenge, deliver_challenge])
                    conn.send_bytes(b'hello modern')
                    print(conn.recv_bytes().decode(), flush=True)
            """;

    @Test
    void ourClientToA312Server() throws Exception {
        PythonPeer python = new PythonPeer(PYTHON_312, "server", KEY);
        int port = Integer.parseInt(python.line());
        try (Connection conn = Client.connect(Address.inet("127.0.0.1", port), KEY.getBytes())) {
            // The server received our {sha256} answer, then our {sha256} challenge's welcome.
            String got = python.line();
            assertTrue(got.startsWith("GOT {sha256}"), got);
            assertTrue(got.endsWith("#WELCOME#"), got);
            conn.sendBytes("from java".getBytes());
            assertEquals("modern from java", new String(conn.recvBytes()));
        }
        python.assertExitsCleanly();
    }

    @Test
    void a312ClientToOurListener() throws Exception {
        try (Listener listener = new Listener(Address.inet("127.0.0.1", 0), KEY.getBytes())) {
            Future<Connection> accepted = pool.submit(listener::accept);
            PythonPeer python = new PythonPeer(PYTHON_312, "client", KEY,
                    String.valueOf(listener.address().port()));
            try (Connection conn = get(accepted)) {
                String got = python.line();
                // Our challenge came in the {sha256} form; our answer was welcome.
                assertTrue(got.startsWith("GOT #CHALLENGE#{sha256}"), got);
                assertTrue(got.contains(" #WELCOME# {sha256}"), got);
                assertArrayEquals("hello modern".getBytes(), conn.recvBytes());
                conn.sendBytes("welcome to java".getBytes());
            }
            assertEquals("welcome to java", python.line());
            python.assertExitsCleanly();
        }
    }

    @Test
    void wrongKeyWithA312Peer() throws Exception {
        PythonPeer server = new PythonPeer(PYTHON_312, "server", KEY);
        int port = Integer.parseInt(server.line());
        assertThrows(AuthenticationError.class,
                () -> Client.connect(Address.inet("127.0.0.1", port), "wrong".getBytes()));
        assertTrue(server.line().startsWith("AUTH digest received was wrong"));
        server.assertExitsCleanly();

        try (Listener listener = new Listener(Address.inet("127.0.0.1", 0), KEY.getBytes())) {
            Future<Connection> accepted = pool.submit(listener::accept);
            PythonPeer client = new PythonPeer(PYTHON_312, "client", "wrong",
                    String.valueOf(listener.address().port()));
            assertThrows(AuthenticationError.class, () -> get(accepted));
            assertTrue(client.line().startsWith("AUTH digest sent was rejected"));
            client.assertExitsCleanly();
        }
    }
    /**
     * A client may bind its socket before it connects, to a name {@link Address#unix} would
     * refuse: here an abstract name whose bytes are not UTF-8 (each decodes to a three-byte
     * replacement, past the 108 bytes a name may have). Our accept took the name through those
     * checks and threw IllegalArgumentException, which a server's {@code catch (IOException)}
     * loop does not expect (review 47 #6).
     */
    @Test
    void aClientBoundToANameAddressUnixRefusesIsAccepted() throws Exception {
        String script = """
                import socket, sys
                s = socket.socket(socket.AF_UNIX)
                s.bind(b'\\0' + b'\\xff' * 40)
                s.connect(sys.argv[1])
                print('connected', flush=True)
                s.recv(1)
                """;
        Path where = dir.resolve("bound.sock");
        try (Listener listener = new Listener(Address.unix(where.toString()), null)) {
            Future<Connection> accepted = pool.submit(listener::accept);
            PythonPeer client = new PythonPeer(script, where.toString());
            assertEquals("connected", client.line());
            try (Connection c = get(accepted)) {
                Address from = listener.lastAccepted();
                assertEquals(Family.AF_UNIX, from.family());
                assertEquals("\0" + "\ufffd".repeat(40), from.path());
            }
            client.assertExitsCleanly();
        }
    }
}
