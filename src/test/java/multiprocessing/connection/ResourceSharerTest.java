package multiprocessing.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import multiprocessing.NoLeftoverProcesses;

/** The resource sharer seen from inside: what it keeps and where it listens. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@ExtendWith(NoLeftoverProcesses.class)
class ResourceSharerTest {
    private static final int O_CLOEXEC = 02000000;

    /** This JVM's descriptors other than {@code fd} open on what {@code fd} refers to. */
    private static Set<Integer> othersOnTheSameFile(int fd) throws IOException {
        Path self = Path.of("/proc/self/fd");
        String target = Files.readSymbolicLink(self.resolve(String.valueOf(fd))).toString();
        Set<Integer> same = new HashSet<>();
        try (Stream<Path> fds = Files.list(self)) {
            for (Path p : (Iterable<Path>) fds::iterator) {
                int n = Integer.parseInt(p.getFileName().toString());
                try {
                    if (n != fd && Files.readSymbolicLink(p).toString().equals(target)) {
                        same.add(n);
                    }
                } catch (IOException closedMeanwhile) {
                    // the listing's own descriptor
                }
            }
        }
        return same;
    }

    private static int flagsOf(int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring(6).strip(), 8);
            }
        }
        throw new AssertionError("no flags for descriptor " + fd);
    }

    /**
     * A connection in an item a full queue refused keeps no duplicate here: the sharer's kept
     * one stayed open as long as this process lived, and the pipe's reader never saw end of
     * file once the writer was closed (review 46).
     */
    @Test
    void aConnectionInAnItemNeverSentKeepsNoDuplicate() throws Exception {
        try (Pipe pipe = Pipe.open(false); multiprocessing.Queue<Object> q =
                new multiprocessing.Queue<>(1)) {
            q.put("filler");
            int writer = pipe.right().fileno();
            Set<Integer> before = othersOnTheSameFile(writer);
            assertThrows(multiprocessing.FullException.class, () -> q.putNowait(pipe.right()));
            assertEquals(before, othersOnTheSameFile(writer), "a duplicate was kept");
            pipe.right().close();
            assertTrue(pipe.left().poll(java.time.Duration.ofSeconds(5)), "no end of file");
            assertThrows(java.io.EOFException.class, pipe.left()::recv);
        }
    }

    @Test
    void itListensInThePrivateDirectoryNotOnAnAbstractName() throws Exception {
        try (Pipe pipe = Pipe.open(false)) {
            ResourceSharer.Ticket ticket =
                    ResourceSharer.share(pipe.right().fileno(), false, true, false);
            Path socket = Path.of(ticket.address());
            assertTrue(socket.getFileName().toString().startsWith("sharer-"), ticket.address());
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                    socket.getParent(), LinkOption.NOFOLLOW_LINKS)));
            multiprocessing.internal.posix.Posix.closeQuietly(ResourceSharer.fetch(ticket));
        }
    }

    @Test
    void anotherUserCannotReachIt() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        Assumptions.assumeTrue(System.getProperty("user.name").equals("root")
                && Files.isExecutable(python), "needs root and /usr/bin/python3 to run as nobody");
        try (Pipe pipe = Pipe.open(false)) {
            ResourceSharer.Ticket ticket =
                    ResourceSharer.share(pipe.right().fileno(), false, true, false);
            try {
                java.lang.Process nobody = new ProcessBuilder("setpriv", "--reuid=65534",
                        "--regid=65534", "--clear-groups", python.toString(), "-c",
                        "import socket, sys\n"
                        + "try:\n"
                        + "    socket.socket(socket.AF_UNIX).connect(sys.argv[1])\n"
                        + "    print('connected')\n"
                        + "except PermissionError:\n"
                        + "    print('refused')\n", ticket.address())
                        .redirectErrorStream(true).start();
                String out = new String(nobody.getInputStream().readAllBytes()).strip();
                nobody.waitFor();
                assertEquals("refused", out);
            } finally {
                multiprocessing.internal.posix.Posix.closeQuietly(ResourceSharer.fetch(ticket));
            }
        }
    }

    /**
     * A peer that passed the challenge and then stalls before it sends its key holds only its
     * own request: the sharer answered on one thread, which waited for that key for good, and
     * every other receiver of this process's connections failed after its own wait (review 47).
     */
    @Test
    void aPeerThatStallsAfterTheChallengeDelaysNoOtherReceiver() throws Exception {
        try (Pipe pipe = Pipe.open(false)) {
            ResourceSharer.Ticket first = ResourceSharer.share(pipe.left().fileno(), true, false,
                    false);
            byte[] key = multiprocessing.Multiprocessing.currentProcess().authKey();
            try (Connection stalled = Client.connect(Address.unix(first.address()), key)) {
                ResourceSharer.Ticket second = ResourceSharer.share(pipe.right().fileno(), false,
                        true, false);
                int fd = ResourceSharer.fetch(second, Duration.ofSeconds(10));
                try {
                    assertTrue(othersOnTheSameFile(fd).contains(pipe.right().fileno()));
                } finally {
                    multiprocessing.internal.posix.Posix.closeQuietly(fd);
                }
                // The stalled one's own request is still served once it asks.
                stalled.sendBytes(java.nio.ByteBuffer.allocate(Long.BYTES).putLong(first.key())
                        .array());
                Connection.Frame answer = stalled.recvBytesWithFds();
                assertEquals(1, answer.fds().length);
                multiprocessing.internal.posix.Posix.closeQuietly(answer.fds()[0]);
            }
        }
    }

    @Test
    void aFetchFromASharerThatDoesNotAnswerFailsInsteadOfHanging(@TempDir Path dir)
            throws Exception {
        // A "sharer" that never accepts: the connection waits in its backlog, unanswered.
        try (Listener silent = new Listener(Address.unix(dir.resolve("s").toString()),
                Family.AF_UNIX, 4, null)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ResourceSharer.fetch(new ResourceSharer.Ticket(
                            silent.address().path(), 1), Duration.ofMillis(200)));
            assertInstanceOf(SocketTimeoutException.class, e.getCause(), e.toString());
        }
    }

    /**
     * A connection that travels by ticket is fetched inside the read of the message that carried
     * the ticket, which holds one of this JVM's pooled serializers: many threads doing so at once
     * must not wait for one another's.
     */
    @Test
    void manyThreadsReceivingSharedConnectionsAtOnceAllGetThem() throws Exception {
        int threads = 32;
        java.util.List<Pipe> pipes = new java.util.ArrayList<>();
        java.util.concurrent.ExecutorService pool =
                java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            java.util.List<byte[]> messages = new java.util.ArrayList<>();
            for (int i = 0; i < threads; i++) {
                Pipe p = Pipe.open(true);
                pipes.add(p);
                // No descriptors in this message: the connection goes as a ticket.
                messages.add(multiprocessing.internal.reduction.Serialization.serialize(p.right()));
            }
            java.util.concurrent.CyclicBarrier start =
                    new java.util.concurrent.CyclicBarrier(threads);
            java.util.List<java.util.concurrent.Future<Object>> got = new java.util.ArrayList<>();
            for (int i = 0; i < threads; i++) {
                byte[] message = messages.get(i);
                Pipe p = pipes.get(i);
                String greeting = "to " + i;
                got.add(pool.submit(() -> {
                    start.await();
                    try (Connection c = (Connection)
                            multiprocessing.internal.reduction.Serialization.deserialize(message)) {
                        p.left().send(greeting);
                        return c.recv();
                    }
                }));
            }
            for (int i = 0; i < threads; i++) {
                assertEquals("to " + i, got.get(i).get(30, java.util.concurrent.TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
            for (Pipe p : pipes) {
                p.close();
            }
        }
    }

    @Test
    void theDuplicateItKeepsIsCloseOnExec() throws Exception {
        try (Pipe pipe = Pipe.open(false)) {
            int fd = pipe.right().fileno();
            // The pipe's read end is on the same pipe: only what appears is the sharer's.
            Set<Integer> before = othersOnTheSameFile(fd);
            ResourceSharer.Ticket ticket = ResourceSharer.share(fd, false, true, false);
            Set<Integer> kept = othersOnTheSameFile(fd);
            kept.removeAll(before);
            assertEquals(1, kept.size(), "duplicates kept by the sharer: " + kept);
            int dup = kept.iterator().next();
            assertTrue((flagsOf(dup) & O_CLOEXEC) != 0,
                    "the kept duplicate would leak into an exec'd program");
            multiprocessing.internal.posix.Posix.closeQuietly(ResourceSharer.fetch(ticket));
        }
    }
}
