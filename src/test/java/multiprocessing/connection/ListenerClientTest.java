package multiprocessing.connection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import multiprocessing.AuthenticationError;
import multiprocessing.NoLeftoverProcesses;

/** Listener and Client in one process, over TCP, Unix paths and abstract names, no key. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@ExtendWith(NoLeftoverProcesses.class)
class ListenerClientTest {

    /**
     * A listener on a path of the program's, never closed, has its socket file removed as its
     * process exits, as CPython's: left, the program's next run could not bind the path
     * (review 47). A path holding a NUL is refused (the kernel would bind the path up to it).
     */
    @Test
    void aListenerNeverClosedLeavesNoSocketFile(@TempDir Path dir) throws Exception {
        String path = dir.resolve("app.sock").toString();
        multiprocessing.Process child = new multiprocessing.Process(() -> {
            new Listener(Address.unix(path), null); // and exits without closing it
        });
        child.start();
        child.join();
        assertEquals(0, child.exitCode());
        assertFalse(Files.exists(Path.of(path)), "the socket file was left");
        try (Listener again = new Listener(Address.unix(path), null)) {
            assertEquals(path, again.address().path());
        }
        assertThrows(IllegalArgumentException.class, () -> Address.unix(path + "\0x"));
    }

    /** poll(null) waits without a limit, as Python's poll(None). */
    @Test
    void pollWithNoTimeoutWaitsForAMessage() throws Exception {
        try (Pipe p = Pipe.open()) {
            Thread sender = SendLater.send(p.left(), "late", 300);
            assertTrue(p.right().poll(null));
            assertEquals("late", p.right().recv());
            sender.join();
        }
    }
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @TempDir
    Path dir;

    @AfterEach
    void shutdownPool() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "test threads still running");
    }

    /** Accepts one client on a test thread. */
    private Future<Connection> acceptAsync(Listener listener) {
        return pool.submit(listener::accept);
    }

    static <T> T get(Future<T> f) throws Exception {
        try {
            return f.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** Objects and bytes both ways over a fresh pair. */
    static void exchange(Connection server, Connection client) throws Exception {
        client.send(Map.of("hello", List.of(1, 2, 3)));
        assertEquals(Map.of("hello", List.of(1, 2, 3)), server.recv());
        server.send("answer");
        assertEquals("answer", client.recv());
        server.send(null);
        assertNull(client.recv());
        client.sendBytes(new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, server.recvBytes());
        byte[] big = new byte[300_000];
        big[299_999] = 42;
        // More than a socket buffer holds: the sender needs a reader on another thread.
        Thread sender = Thread.ofPlatform().start(() -> {
            try {
                server.sendBytes(big);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertArrayEquals(big, client.recvBytes());
        sender.join();
    }

    private void roundTrip(Listener listener) throws Exception {
        Future<Connection> accepted = acceptAsync(listener);
        try (Connection client = Client.connect(listener.address());
                Connection server = get(accepted)) {
            exchange(server, client);
            client.close();
            assertThrows(java.io.EOFException.class, server::recvBytes);
        }
    }

    @Test
    void inetWithAnyPort() throws Exception {
        try (Listener listener = new Listener(Address.inet("127.0.0.1", 0))) {
            Address a = listener.address();
            assertEquals(Family.AF_INET, a.family());
            assertEquals(Family.AF_INET, listener.family());
            assertEquals("127.0.0.1", a.host());
            assertNotEquals(0, a.port());
            assertEquals("('127.0.0.1', " + a.port() + ")", a.toString());
            assertNull(listener.lastAccepted());
            roundTrip(listener);
            Address peer = listener.lastAccepted();
            assertEquals("127.0.0.1", peer.host());
            assertNotEquals(a.port(), peer.port());
        }
    }

    @Test
    void unixPathIsRemovedAtClose() throws Exception {
        Path path = dir.resolve("listener.sock");
        Listener listener = new Listener(Address.unix(path.toString()), Family.AF_UNIX, 5, null);
        try {
            assertEquals(Address.unix(path.toString()), listener.address());
            assertEquals(path.toString(), listener.address().toString());
            assertTrue(Files.exists(path), "the socket file exists while listening");
            roundTrip(listener);
            assertNull(listener.lastAccepted(), "a Unix client is unnamed");
        } finally {
            listener.close();
        }
        assertFalse(Files.exists(path), "close() removes the socket file");
        listener.close();
    }

    @Test
    void theDefaultAddressIsAPathInAPrivateDirectory() throws Exception {
        Path socket;
        try (Listener listener = new Listener(null)) {
            Address a = listener.address();
            assertEquals(Family.AF_UNIX, a.family());
            // Not abstract: Linux checks no permission on an abstract name, any user connects.
            assertFalse(a.isAbstract(), a.toString());
            socket = Path.of(a.path());
            assertTrue(socket.getFileName().toString().startsWith("listener-"), a.toString());
            Path dir = socket.getParent();
            assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)));
            assertEquals(System.getProperty("user.name"),
                    Files.getOwner(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS).getName());
            roundTrip(listener);
        }
        assertFalse(Files.exists(socket), "close() removes the socket file");
    }

    /**
     * A child killed (SIGKILL, or terminated: children run no exit hook then) cannot remove
     * its private directory: its parent does when it reaps it. Every killed child left one in
     * the temporary directory for good.
     */
    @Test
    void aKilledChildsPrivateDirectoryIsRemovedWhenItIsReaped() throws Exception {
        for (boolean kill : new boolean[] {true, false}) {
            try (Pipe pipe = Pipe.open()) {
                Connection there = pipe.right();
                multiprocessing.Process child = new multiprocessing.Process(() -> {
                    Listener listener = new Listener();
                    there.send(listener.address().path());
                    Thread.sleep(600_000);
                });
                child.start();
                Path dir = Path.of((String) pipe.left().recv()).getParent();
                assertTrue(Files.isDirectory(dir), dir.toString());
                if (kill) {
                    child.kill();
                } else {
                    child.terminate();
                }
                child.join();
                assertFalse(Files.exists(dir), "the killed child's private directory " + dir
                        + " is still there");
            }
        }
    }

    @Test
    void aProcessOfAnotherUserIsRefusedAndTheListenerGoesOn() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        Assumptions.assumeTrue(System.getProperty("user.name").equals("root")
                && Files.isExecutable(python), "needs root and /usr/bin/python3 to run as nobody");
        // An abstract name: any local user can connect to it, only SO_PEERCRED tells who did.
        String name = "mp-test-peer-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (Listener listener = new Listener(Address.unix("\0" + name))) {
            Future<Connection> accepted = pool.submit(listener::accept);
            java.lang.Process nobody = new ProcessBuilder("setpriv", "--reuid=65534",
                    "--regid=65534", "--clear-groups", python.toString(), "-c",
                    "import socket, sys\n"
                    + "s = socket.socket(socket.AF_UNIX)\n"
                    + "s.connect('\\0' + sys.argv[1])\n"
                    + "s.recv(1)\n", name).inheritIO().start();
            try {
                AuthenticationError e = assertThrows(AuthenticationError.class,
                        () -> get(accepted));
                assertTrue(e.getMessage().contains("uid 65534"), e.getMessage());
                // Refused means closed: the other user's process sees end of file and ends.
                assertTrue(nobody.waitFor(30, TimeUnit.SECONDS), "the peer was not hung up on");
                assertEquals(0, nobody.exitValue());
                roundTrip(listener);
            } finally {
                nobody.destroyForcibly();
                nobody.waitFor();
            }
        }
    }

    @Test
    void abstractNames() throws Exception {
        String name = "\0mp-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (Listener listener = new Listener(Address.unix(name))) {
            assertEquals(Address.unix(name), listener.address());
            roundTrip(listener);
        }
        try (Listener listener = new Listener(null, Family.AF_INET, 1, null)) {
            assertEquals(Family.AF_INET, listener.address().family());
            roundTrip(listener);
        }
    }

    @Test
    void addresses() {
        assertEquals(Address.inet("127.0.0.1", 5000), Address.inet("127.0.0.1", 5000));
        assertEquals(Address.inet("127.0.0.1", 5000).hashCode(),
                Address.inet("127.0.0.1", 5000).hashCode());
        assertNotEquals(Address.inet("127.0.0.1", 5000), Address.inet("127.0.0.1", 5001));
        assertNotEquals(Address.unix("/tmp/a"), Address.unix("\0/tmp/a"));
        assertEquals("('localhost', 80)", Address.inet("localhost", 80).toString());
        assertEquals("/tmp/x.sock", Address.unix("/tmp/x.sock").toString());
        assertThrows(IllegalArgumentException.class, () -> Address.inet("127.0.0.1", 65536));
        assertThrows(IllegalArgumentException.class, () -> Address.inet("127.0.0.1", -1));
        assertThrows(IllegalArgumentException.class, () -> Address.inet("::1", 80));
        assertThrows(IllegalArgumentException.class,
                () -> Address.inet("no-such-host.invalid", 80));
        assertThrows(IllegalArgumentException.class, () -> Address.unix(""));
        assertThrows(IllegalArgumentException.class, () -> Address.unix("/" + "x".repeat(200)));
        assertThrows(IllegalStateException.class, () -> Address.unix("/tmp/a").port());
        assertThrows(IllegalStateException.class, () -> Address.inet("127.0.0.1", 1).path());
        assertThrows(IllegalArgumentException.class,
                () -> new Listener(Address.inet("127.0.0.1", 0), Family.AF_UNIX, 1, null));
        assertThrows(IllegalArgumentException.class,
                () -> Client.connect(Address.unix("/tmp/a"), Family.AF_INET, null));
    }

    @Test
    void secondListenerOnAnAddressInUse() throws Exception {
        try (Listener first = new Listener(Address.inet("127.0.0.1", 0))) {
            BindException e = assertThrows(BindException.class,
                    () -> new Listener(first.address()));
            assertTrue(e.getMessage().contains(first.address().toString()), e.getMessage());
            assertTrue(e.getMessage().contains("EADDRINUSE"), e.getMessage());
            roundTrip(first);
        }
        Path path = dir.resolve("taken.sock");
        try (Listener first = new Listener(Address.unix(path.toString()))) {
            assertThrows(BindException.class, () -> new Listener(first.address()));
            assertTrue(Files.exists(path), "the failed listener leaves the other's file alone");
            roundTrip(first);
        }
        try (Listener first = new Listener(null)) {
            assertThrows(BindException.class, () -> new Listener(first.address()));
            roundTrip(first);
        }
    }

    @Test
    void acceptIsInterruptedByClose() throws Exception {
        Listener listener = new Listener(Address.inet("127.0.0.1", 0));
        Thread[] acceptor = new Thread[1];
        Future<Connection> accepted = pool.submit(() -> {
            acceptor[0] = Thread.currentThread();
            return listener.accept();
        });
        awaitBlockedInPoll(accepted, acceptor);
        listener.close();
        Exception e = assertThrows(IllegalStateException.class, () -> get(accepted));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, listener::accept);
        assertThrows(IllegalStateException.class, listener::fileno);
        listener.close();
    }

    /** Waits (without sleeping for a fixed time) until the thread is inside poll(2). */
    static void awaitBlockedInPoll(Future<?> f, Thread[] thread) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline && !f.isDone()) {
            Thread t = thread[0];
            if (t != null) {
                for (StackTraceElement frame : t.getStackTrace()) {
                    if (frame.getMethodName().equals("poll")
                            && frame.getClassName().endsWith("Posix")) {
                        return;
                    }
                }
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    @Test
    void manyThreadsAcceptAndCloseWakesThemAll() throws Exception {
        Listener listener = new Listener(Address.inet("127.0.0.1", 0), null, 8, null);
        List<Future<Connection>> futures = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            futures.add(acceptAsync(listener));
        }
        try (Connection a = Client.connect(listener.address());
                Connection b = Client.connect(listener.address())) {
            int accepted = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (accepted < 2 && System.nanoTime() < deadline) {
                accepted = (int) futures.stream().filter(Future::isDone).count();
                Thread.yield();
            }
            assertEquals(2, accepted);
            listener.close();
            int closed = 0;
            for (Future<Connection> f : futures) {
                try {
                    get(f).close();
                } catch (IllegalStateException e) {
                    closed++;
                }
            }
            assertEquals(2, closed);
        }
    }

    @Test
    void connectingToNobody() throws Exception {
        Address gone;
        try (Listener l = new Listener(Address.inet("127.0.0.1", 0))) {
            gone = l.address();
        }
        ConnectException e = assertThrows(ConnectException.class, () -> Client.connect(gone));
        assertTrue(e.getMessage().contains(gone.toString()), e.getMessage());
        Address nowhere = Address.unix(dir.resolve("nobody.sock").toString());
        e = assertThrows(ConnectException.class, () -> Client.connect(nowhere));
        assertTrue(e.getMessage().contains(nowhere.toString()), e.getMessage());
    }

    /**
     * A client of a Unix listener that never accepts, once its queue is full, fails within the
     * connection time limit: connect(2) waited for room with no limit (attack 30).
     */
    @Test
    void connectingToAUnixListenerWhoseQueueIsFullFailsInTime() throws Exception {
        String property = multiprocessing.internal.util.Watchdog.HANDSHAKE_TIMEOUT_PROPERTY;
        String before = System.getProperty(property);
        List<Connection> queued = new java.util.ArrayList<>();
        try (Listener l = new Listener(Address.unix(dir.resolve("full.sock").toString()), null,
                0, null)) {
            System.setProperty(property, "300");
            Future<?> filling = pool.submit(() -> {
                while (true) {
                    queued.add(Client.connect(l.address())); // until the queue is full
                }
            });
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> filling.get(20, TimeUnit.SECONDS));
            assertInstanceOf(java.net.SocketTimeoutException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("does not accept"),
                    e.getCause().getMessage());
            assertFalse(queued.isEmpty(), "a client got into the queue before it was full");
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
            for (Connection c : queued) {
                c.close();
            }
        }
    }

    @Test
    void acceptedConnectionsOutliveTheListener() throws Exception {
        Connection server;
        Connection client;
        try (Listener listener = new Listener(null)) {
            Future<Connection> f = acceptAsync(listener);
            client = Client.connect(listener.address());
            server = get(f);
        }
        try (server; client) {
            exchange(server, client);
        }
    }
}
