package multiprocessing.connection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import multiprocessing.BufferTooShort;
import multiprocessing.internal.framing.Framing;
import multiprocessing.internal.posix.Posix;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Connections within one process: framing, objects, bytes, misuse and bad input. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionTest {

    record Point(int x, int y, String label) {}

    static final class Node implements java.io.Serializable {
        Node next;
        String name;
    }

    /** Writes raw bytes to a connection's descriptor, bypassing the framing. */
    private static void writeRaw(Connection c, byte[] bytes) throws IOException {
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, bytes.length));
        MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
        long done = 0;
        while (done < bytes.length) {
            done += Posix.write(c.fileno(), seg.asSlice(done), bytes.length - done);
        }
    }

    @Test
    void objectsRoundTripWithTheirShapeAndIdentity() throws Exception {
        try (Pipe p = Pipe.open()) {
            Node a = new Node();
            Node b = new Node();
            a.name = "a";
            b.name = "b";
            a.next = b;
            b.next = a; // a cycle
            Map<String, Object> map = new HashMap<>();
            map.put("k", List.of(1, 2, 3));
            map.put("n", null);
            IllegalStateException error = new IllegalStateException("outer",
                    new IOException("inner"));
            Object[] values = {null, "text", 42, new Point(1, 2, "p"), map, new int[] {1, 2, 3},
                    a, error};
            for (Object v : values) {
                p.left().send(v);
            }
            assertNull(p.right().recv());
            assertEquals("text", p.right().recv());
            assertEquals(42, p.right().recv());
            assertEquals(new Point(1, 2, "p"), p.right().recv());
            assertEquals(map, p.right().recv());
            assertArrayEquals(new int[] {1, 2, 3}, (int[]) p.right().recv());
            Node ra = (Node) p.right().recv();
            assertEquals("b", ra.next.name);
            assertTrue(ra.next.next == ra, "the cycle is kept");
            IllegalStateException re = (IllegalStateException) p.right().recv();
            assertEquals("outer", re.getMessage());
            assertInstanceOf(IOException.class, re.getCause());
            assertEquals(error.getStackTrace()[0], re.getStackTrace()[0]);
            // and the other direction of a duplex pipe
            p.right().send("back");
            assertEquals("back", p.left().recv());
        }
    }

    @Test
    void bytesInAllForms() throws Exception {
        try (Pipe p = Pipe.open(false)) {
            Connection reader = p.left();
            Connection writer = p.right();
            assertTrue(reader.readable());
            assertFalse(reader.writable());
            assertTrue(writer.writable());
            assertFalse(writer.readable());
            byte[] data = new byte[100_000];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 31);
            }
            MemorySegment native64 = Arena.ofAuto().allocate(64);
            native64.fill((byte) 7);
            // More than a pipe holds: the writer must run beside the reader.
            Thread sender = Thread.ofPlatform().start(() -> {
                try {
                    writer.sendBytes(data);
                    writer.sendBytes(data, 10, 20);
                    writer.sendBytes(new byte[0]);
                    writer.sendBytes(native64);
                    writer.sendBytes(data, 0, 5);
                    writer.sendBytes(data, 0, 50);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            assertArrayEquals(data, reader.recvBytes());
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 10, 30), reader.recvBytes());
            assertArrayEquals(new byte[0], reader.recvBytes());
            MemorySegment into = Arena.ofAuto().allocate(100);
            assertEquals(64, reader.recvBytesInto(into, 8));
            assertEquals(7, into.get(ValueLayout.JAVA_BYTE, 8 + 63));
            assertEquals(0, into.get(ValueLayout.JAVA_BYTE, 7));
            byte[] buf = new byte[10];
            assertEquals(5, reader.recvBytesInto(buf, 3));
            assertArrayEquals(java.util.Arrays.copyOf(data, 5), java.util.Arrays.copyOfRange(buf, 3, 8));
            BufferTooShort tooShort = assertThrows(BufferTooShort.class, () -> reader.recvBytesInto(buf));
            assertArrayEquals(java.util.Arrays.copyOf(data, 50), tooShort.data());
            assertFalse(reader.poll(), "the too-long message was consumed whole");
            sender.join();
        }
    }

    /**
     * The kernel reads and writes a message through the segment's address: a segment whose
     * memory is gone, or is another thread's, or is read-only, is refused before any byte moves
     * (a closed one was written into, corrupting this JVM's heap), on a pipe and a socket pair.
     * A message large enough to go straight from or into the segment (not through the
     * connection's own buffer) is what reached the kernel.
     */
    @Test
    void aSegmentThatIsClosedAnotherThreadsOrReadOnlyIsRefusedAndTheConnectionGoesOn()
            throws Exception {
        for (boolean duplex : new boolean[] {false, true}) {
            try (Pipe p = Pipe.open(duplex)) {
                Connection reader = p.left();
                Connection writer = p.right();
                Arena closed = Arena.ofShared();
                MemorySegment gone = closed.allocate(1 << 20);
                closed.close();
                assertThrows(IllegalStateException.class, () -> writer.sendBytes(gone));
                assertThrows(IllegalStateException.class, () -> reader.recvBytesInto(gone));
                try (Arena confined = Arena.ofConfined()) {
                    MemorySegment mine = confined.allocate(1 << 20);
                    Thread other = Thread.ofPlatform().start(() -> {
                        assertThrows(WrongThreadException.class, () -> writer.sendBytes(mine));
                        assertThrows(WrongThreadException.class,
                                () -> reader.recvBytesInto(mine));
                    });
                    other.join();
                    assertThrows(IllegalArgumentException.class,
                            () -> reader.recvBytesInto(mine.asReadOnly()));
                }
                MemorySegment big = Arena.ofAuto().allocate(1 << 20);
                big.fill((byte) 3);
                Thread sender = Thread.ofPlatform().start(() -> {
                    try {
                        writer.sendBytes(big);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                MemorySegment into = Arena.ofAuto().allocate(1 << 20);
                assertEquals(1 << 20, reader.recvBytesInto(into));
                assertEquals(3, into.get(ValueLayout.JAVA_BYTE, (1 << 20) - 1));
                sender.join();
            }
        }
    }

    /** A call that may throw anything. */
    private interface Call {
        void run() throws Exception;
    }

    /** Runs {@code call} on a new platform thread: what it threw, or null, once it has ended. */
    private static java.util.concurrent.CompletableFuture<Throwable> failureOf(Call call) {
        java.util.concurrent.CompletableFuture<Throwable> failure =
                new java.util.concurrent.CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try {
                call.run();
                failure.complete(null);
            } catch (Throwable t) {
                failure.complete(t);
            }
        });
        return failure;
    }

    /**
     * After a message cut short in {@code cut}'s sending (or receiving) direction: a duplex end
     * refuses that direction, saying why, and goes on in the other; a pipe's end is closed.
     */
    private static void assertOnlyThatDirectionEnded(Connection cut, Connection peer,
            boolean sending, boolean duplex) throws IOException {
        if (!duplex) {
            assertTrue(cut.closed(), "the pipe's end is closed");
            return;
        }
        IOException e = assertThrows(IOException.class,
                sending ? () -> cut.sendBytes(new byte[1]) : () -> cut.recvBytes());
        assertTrue(e.getMessage().contains("cut short part-way"), e.getMessage());
        Connection from = sending ? peer : cut;
        Connection to = sending ? cut : peer;
        from.sendBytes("the other way".getBytes());
        assertEquals("the other way", new String(to.recvBytes()));
    }

    /** Closes {@code arena} from another thread after a moment, as soon as no call holds it. */
    /**
     * Writes the head of a message of {@code length} bytes with its first 1,000, starts a
     * receive of it into {@code room} bytes of native memory, and unmaps that memory while the
     * receive waits for the rest: what the receive threw.
     */
    private static java.util.concurrent.CompletableFuture<Throwable>
            receiveIntoMemoryUnmappedMidway(Connection writer, Connection reader, int length,
                    long room) throws Exception {
        byte[] part = new byte[4 + 1000];
        ByteBuffer.wrap(part).putInt(length);
        writeRaw(writer, part);
        Arena arena = Arena.ofShared();
        MemorySegment into = arena.allocate(room);
        java.util.concurrent.CompletableFuture<Throwable> received =
                failureOf(() -> reader.recvBytesInto(into));
        closeSoon(arena).join(); // while the receive waits for the rest
        return received;
    }

    private static Thread closeSoon(Arena arena) {
        return Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                return;
            }
            while (true) {
                try {
                    arena.close();
                    return;
                } catch (IllegalStateException heldByACall) {
                    Thread.onSpinWait();
                }
            }
        });
    }

    /**
     * A send that fails part-way through its message (its memory unmapped by another thread
     * while it waits for room) ends that end's sending: the peer met the frame's length, then
     * the next frames' bytes as the rest of it, a message nobody sent, then lengths made of
     * payload (attack 27). A duplex connection still receives; a pipe's end is closed.
     */
    @Test
    void aSendCutShortPartWayEndsSendingAndThePeerMeetsTheEndOfFile() throws Exception {
        for (boolean duplex : new boolean[] {false, true}) {
            try (Pipe p = Pipe.open(duplex)) {
                Connection reader = p.left();
                Connection writer = p.right();
                Arena arena = Arena.ofShared();
                MemorySegment big = arena.allocate(8 << 20); // more than the kernel buffers
                java.util.concurrent.CompletableFuture<Throwable> sent =
                        failureOf(() -> writer.sendBytes(big));
                closeSoon(arena).join(); // while the send waits for room
                // Reading makes room: the send goes on, and meets the memory gone.
                IOException e = assertThrows(IOException.class, reader::recvBytes);
                assertTrue(e.getMessage().contains("end of file during message"),
                        e.getMessage());
                assertInstanceOf(IllegalStateException.class, sent.get());
                assertOnlyThatDirectionEnded(writer, reader, true, duplex);
            }
        }
    }

    /**
     * A send that fails before writing anything (the peer gone: EPIPE) leaves the connection
     * as it was: what the peer sent before it went is still received (an early version of the
     * change above closed the connection and lost it; attack 27b).
     */
    @Test
    void aSendRefusedBeforeAnyByteLeavesWhatWasReceived() throws Exception {
        try (Pipe p = Pipe.open(true)) {
            p.right().sendBytes("bye".getBytes());
            p.right().close();
            Connection mine = p.left();
            assertThrows(IOException.class, () -> mine.sendBytes(new byte[1 << 20]));
            assertFalse(mine.closed());
            assertEquals("bye", new String(mine.recvBytes()));
            assertThrows(EOFException.class, mine::recvBytes);
        }
    }

    /**
     * On TCP, a receive cut short part-way closes the connection: a shut-down reading side is
     * nothing TCP tells the peer, which went on sending the rest of that message and blocked
     * for good once this end's buffers were full (review 47). Closed with bytes unread, the
     * connection is reset, and the peer's send fails.
     */
    @Test
    void aTcpReceiveCutShortPartWayFailsThePeersSends() throws Exception {
        try (Listener listener = new Listener(Address.inet("127.0.0.1", 0))) {
            java.util.concurrent.CompletableFuture<Connection> accepted =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                        try {
                            return listener.accept();
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
            try (Connection writer = Client.connect(listener.address());
                    Connection reader = accepted.get(30, java.util.concurrent.TimeUnit.SECONDS)) {
                java.util.concurrent.CompletableFuture<Throwable> received =
                        receiveIntoMemoryUnmappedMidway(writer, reader, 64 << 20, 64 << 20);
                java.util.concurrent.CompletableFuture<Throwable> rest =
                        failureOf(() -> writeRaw(writer, new byte[64 << 20]));
                assertInstanceOf(IllegalStateException.class, received.get());
                Throwable sent = rest.get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertInstanceOf(IOException.class, sent, "the peer's send went on");
                assertTrue(reader.closed());
            }
        }
    }

    /**
     * A receive that fails part-way through a message (the memory it reads into unmapped by
     * another thread while the rest is awaited) ends that end's receiving: the next receive
     * read the message's remaining bytes as a length. A duplex connection still sends; a
     * pipe's end is closed.
     */
    @Test
    void aReceiveCutShortPartWayEndsReceiving() throws Exception {
        for (boolean duplex : new boolean[] {false, true}) {
            try (Pipe p = Pipe.open(duplex)) {
                Connection reader = p.left();
                Connection writer = p.right();
                java.util.concurrent.CompletableFuture<Throwable> received =
                        receiveIntoMemoryUnmappedMidway(writer, reader, 4000, 1 << 20);
                writeRaw(writer, new byte[3000]);
                assertInstanceOf(IllegalStateException.class, received.get());
                assertOnlyThatDirectionEnded(reader, writer, false, duplex);
            }
        }
    }

    @Test
    void misuseThrowsAndLeavesTheConnectionUsable() throws Exception {
        try (Pipe p = Pipe.open(false)) {
            assertThrows(IllegalStateException.class, () -> p.left().send("x"));
            assertThrows(IllegalStateException.class, () -> p.right().recv());
            assertThrows(IllegalStateException.class, () -> p.right().poll());
            assertThrows(IndexOutOfBoundsException.class,
                    () -> p.right().sendBytes(new byte[4], 3, 2));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> p.right().sendBytes(new byte[4], -1, 2));
            assertThrows(IllegalArgumentException.class, () -> p.left().recvBytes(-1));
            p.right().sendBytes(new byte[] {1});
            assertArrayEquals(new byte[] {1}, p.left().recvBytes());
            p.right().close();
            p.right().close(); // twice is fine
            assertTrue(p.right().closed());
            assertThrows(IllegalStateException.class, () -> p.right().sendBytes(new byte[1]));
            assertThrows(IllegalStateException.class, () -> p.right().fileno());
            assertThrows(EOFException.class, () -> p.left().recv());
        }
    }

    @Test
    void anUnserializableObjectFailsBeforeAnythingIsSent() throws Exception {
        try (Pipe p = Pipe.open()) {
            Runnable notSerializable = () -> {};
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> p.left().send(List.of(1, notSerializable)));
            assertTrue(e.getMessage().contains("cannot send"), e.getMessage());
            assertFalse(p.right().poll(Duration.ofMillis(20)), "nothing reached the peer");
            p.left().send("still works");
            assertEquals("still works", p.right().recv());
        }
    }

    @Test
    void bytesThatAreNotAnObjectFailRecvAndTheNextMessageIsIntact() throws Exception {
        try (Pipe p = Pipe.open()) {
            p.left().sendBytes(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
            p.left().send("next");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.right().recv());
            assertTrue(e.getMessage().contains("not an object"), e.getMessage());
            assertEquals("next", p.right().recv());
        }
    }

    /**
     * recvBytes(maxLength) refuses a longer message, and the end receives nothing more; as in
     * Python, a duplex end goes on sending (it was closed whole; review 47), a receiving-only
     * end is closed.
     */
    @Test
    void recvBytesWithMaxLengthRefusesALongerMessageAndReceivesNoMore() throws Exception {
        try (Pipe p = Pipe.open()) {
            p.left().sendBytes(new byte[300]);
            IOException e = assertThrows(IOException.class, () -> p.right().recvBytes(256));
            assertTrue(e.getMessage().contains("bad message length"), e.getMessage());
            assertFalse(p.right().closed());
            p.right().send("still sending");
            assertEquals("still sending", p.left().recv());
            IOException again = assertThrows(IOException.class, () -> p.right().recvBytes());
            assertTrue(again.getMessage().contains("can no longer receive"), again.getMessage());
            // The first reason stays: it said a message was cut short part-way (attack 54).
            assertTrue(again.getMessage().contains("bad message length")
                    && !again.getMessage().contains("cut short"), again.getMessage());
            assertFalse(p.right().readable());
            assertThrows(IOException.class, () -> p.right().poll());
            // And the peer's send says the other end receives no more (a bare EPIPE).
            IOException refused = assertThrows(IOException.class,
                    () -> p.left().sendBytes(new byte[1 << 20]));
            assertTrue(refused.getMessage().contains("receives no more"), refused.getMessage());
        }
        // A message larger than the socket's buffers, refused while its sender still writes:
        // the sender's write fails (it waited for room for good; attack 42), and the refusing
        // end still sends.
        try (Pipe p = Pipe.open()) {
            java.util.concurrent.CompletableFuture<Throwable> sent =
                    failureOf(() -> p.left().sendBytes(new byte[8 << 20]));
            assertThrows(IOException.class, () -> p.right().recvBytes(100));
            Throwable failure = sent.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertInstanceOf(IOException.class, failure, "the sender's write went on");
            p.right().send("after");
            assertEquals("after", p.left().recv());
        }
        try (Pipe p = Pipe.open(false)) {
            p.right().sendBytes(new byte[300]);
            IOException e = assertThrows(IOException.class, () -> p.left().recvBytes(256));
            assertTrue(e.getMessage().contains("bad message length"), e.getMessage());
            assertTrue(p.left().closed());
        }
    }

    @Test
    void aHugeClaimedLengthIsNotAllocatedBeforeTheBytesArrive() throws Exception {
        try (Pipe p = Pipe.open()) {
            // Claims almost 2 GiB and sends 3 bytes, then hangs up.
            writeRaw(p.left(), new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xf0, 1, 2, 3});
            p.left().close();
            IOException e = assertThrows(IOException.class, () -> p.right().recvBytes());
            assertTrue(e.getMessage().contains("end of file during message"), e.getMessage());
        }
    }

    @Test
    void corruptHeadersAreReportedClearly() throws Exception {
        try (Pipe p = Pipe.open()) {
            writeRaw(p.left(), ByteBuffer.allocate(4).putInt(-5).array());
            IOException e = assertThrows(IOException.class, () -> p.right().recvBytes());
            assertTrue(e.getMessage().contains("negative length"), e.getMessage());
            assertReceivesNoMore(p.right());
        }
        try (Pipe p = Pipe.open()) {
            // The long form announces a length past 2^63: corrupt.
            writeRaw(p.left(), ByteBuffer.allocate(12).putInt(-1).putLong(-2).array());
            assertThrows(IOException.class, () -> p.right().recvBytes());
        }
        try (Pipe p = Pipe.open()) {
            // A truncated header, then end of file.
            writeRaw(p.left(), new byte[] {0, 0});
            p.left().close();
            IOException e = assertThrows(IOException.class, () -> p.right().recvBytes());
            assertFalse(e instanceof EOFException, "a truncated message is not a clean EOF");
        }
    }

    @Test
    void aClaimTooLargeForAnyBufferClosesTheConnectionInEveryReceiveForm() throws Exception {
        // 2^62 bytes in the long form: no byte[] and no caller's buffer holds it. Whatever the
        // receiving call, the stream has lost its framing, so the connection must receive no
        // more (a later read would take payload bytes for a header); it still sends.
        List<ThrowingReceive> forms = List.of(Connection::recvBytes, Connection::recv,
                c -> c.recvBytesInto(new byte[16]),
                c -> c.recvBytesInto(Arena.ofAuto().allocate(16)));
        for (ThrowingReceive form : forms) {
            try (Pipe p = Pipe.open()) {
                writeRaw(p.left(), ByteBuffer.allocate(20).putInt(-1).putLong(1L << 62)
                        .putInt(0x00000001).array());
                IOException e = assertThrows(IOException.class, () -> form.receive(p.right()));
                assertFalse(e instanceof EOFException, e.toString());
                assertReceivesNoMore(p.right());
            }
        }
    }

    /** A duplex end that lost its receiving stream's framing refuses to receive, and sends. */
    private static void assertReceivesNoMore(Connection c) throws IOException {
        assertFalse(c.closed());
        IOException again = assertThrows(IOException.class, c::recvBytes);
        assertTrue(again.getMessage().contains("can no longer receive"), again.getMessage());
        c.sendBytes(new byte[] {1});
    }

    @FunctionalInterface
    private interface ThrowingReceive {
        Object receive(Connection c) throws IOException;
    }

    @Test
    void theLongHeaderFormIsReadAndWritten() throws Exception {
        try (Pipe p = Pipe.open()) {
            // A reader accepts the long form for any length (CPython writes it past 2 GiB).
            writeRaw(p.left(), ByteBuffer.allocate(17).putInt(-1).putLong(5)
                    .put(new byte[] {9, 8, 7, 6, 5}).array());
            assertArrayEquals(new byte[] {9, 8, 7, 6, 5}, p.right().recvBytes());
        }
        MemorySegment header = Arena.ofAuto().allocate(Framing.LONG_HEADER);
        assertEquals(Framing.SHORT_HEADER, Framing.writeHeader(header, Framing.MAX_SHORT_LENGTH));
        assertEquals(Framing.LONG_HEADER, Framing.writeHeader(header, 3L << 30));
        assertEquals(Framing.LONG_MARKER, Framing.readShortHeader(header));
        assertEquals(3L << 30, Framing.readLongLength(header.asSlice(4)));
    }

    @Test
    void pollWaitsForAMessage() throws Exception {
        try (Pipe p = Pipe.open()) {
            assertFalse(p.right().poll());
            assertFalse(p.right().poll(Duration.ofMillis(30)));
            Thread sender = SendLater.send(p.left(), "late", 100);
            assertTrue(p.right().poll(Duration.ofSeconds(20)));
            assertEquals("late", p.right().recv());
            sender.join();
            p.left().close();
            assertTrue(p.right().poll(), "end of file is readable");
        }
    }

    @Test
    void aConnectionTravelsThroughADuplexConnection() throws Exception {
        try (Pipe carrier = Pipe.open(); Pipe payload = Pipe.open(false)) {
            carrier.left().send(List.of("wrapped", payload.right()));
            @SuppressWarnings("unchecked")
            List<Object> got = (List<Object>) carrier.right().recv();
            Connection writer = (Connection) got.get(1);
            assertTrue(writer.fileno() != payload.right().fileno(), "a new descriptor arrived");
            writer.send("through the travelled end");
            assertEquals("through the travelled end", payload.left().recv());
            writer.close();
            // The sender's end stays open and usable.
            payload.right().send("original");
            assertEquals("original", payload.left().recv());
        }
    }

    @Test
    void aConnectionTravelsThroughAOneWayPipeByTheResourceSharer() throws Exception {
        try (Pipe carrier = Pipe.open(false); Pipe payload = Pipe.open()) {
            carrier.right().send(payload.left());
            carrier.right().send(payload.left());
            Connection first = (Connection) carrier.left().recv();
            Connection second = (Connection) carrier.left().recv();
            first.send("through the sharer");
            assertEquals("through the sharer", payload.right().recv());
            second.send("each send shares its own duplicate");
            assertEquals("each send shares its own duplicate", payload.right().recv());
            first.close();
            second.close();
            payload.left().send("the sender's end is still open");
            assertEquals("the sender's end is still open", payload.right().recv());
        }
    }

    @Test
    void concurrentSendersNeverInterleaveMessages() throws Exception {
        try (Pipe p = Pipe.open()) {
            int threads = 4;
            int each = 200;
            byte[][] bodies = new byte[threads][];
            for (int t = 0; t < threads; t++) {
                bodies[t] = new byte[70_000]; // larger than one write
                java.util.Arrays.fill(bodies[t], (byte) t);
            }
            List<Thread> senders = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                senders.add(Thread.ofPlatform().start(() -> {
                    try {
                        for (int i = 0; i < each; i++) {
                            p.left().sendBytes(bodies[id]);
                        }
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            int[] counts = new int[threads];
            for (int i = 0; i < threads * each; i++) {
                byte[] m = p.right().recvBytes();
                assertEquals(70_000, m.length);
                for (byte b : m) {
                    assertEquals(m[0], b);
                }
                counts[m[0]]++;
            }
            for (Thread t : senders) {
                t.join();
            }
            assertArrayEquals(new int[] {each, each, each, each}, counts);
        }
    }

    private static int openDescriptors() throws IOException {
        try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        }
    }

    /**
     * Descriptors a peer sends with a message it does not finish (it hangs up in the header or
     * the payload) are closed: a peer that does this over and over must not fill this
     * process's descriptor table (each message left two open).
     */
    @Test
    void descriptorsOfAMessageCutShortAreClosed() throws Exception {
        int before = openDescriptors();
        var be = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
        for (int i = 0; i < 50; i++) {
            int[] pair = multiprocessing.internal.posix.Sockets.socketpair();
            int[] passed = Posix.pipe(Posix.O_CLOEXEC);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(16);
                buf.set(be, 0, 100); // says 100 bytes; 4 come, then end of file
                long sent = i % 2 == 0 ? 8 : 2; // cut in the payload, or in the header
                multiprocessing.internal.posix.Sockets.sendmsg(pair[0], buf, sent, passed);
            }
            Posix.closeQuietly(passed[0]);
            Posix.closeQuietly(passed[1]);
            Posix.closeQuietly(pair[0]);
            try (Connection c = Connection.ofSocket(pair[1])) {
                IOException e = assertThrows(IOException.class, c::recv);
                assertTrue(e.getMessage().contains("end of file during message"), e.getMessage());
            }
        }
        int after = openDescriptors();
        assertTrue(after - before < 20, "descriptors open before: " + before + ", after 50"
                + " messages cut short with two each: " + after);
    }

    /**
     * A close from another thread ends a receive, a poll and a send blocked on the connection
     * (both kinds: a socket pair and a one-way pipe) with AsynchronousCloseException, and
     * promptly; a blocked call was left waiting for good before.
     */
    @Test
    void closeFromAnotherThreadEndsABlockedCall() throws Exception {
        for (boolean duplex : new boolean[] {true, false}) {
            for (String call : List.of("recv", "poll", "send")) {
                try (Pipe p = Pipe.open(duplex)) {
                    Connection blocked = call.equals("send") ? p.right() : p.left();
                    java.util.concurrent.CompletableFuture<Throwable> outcome =
                            new java.util.concurrent.CompletableFuture<>();
                    Thread t = Thread.ofPlatform().start(() -> {
                        try {
                            switch (call) {
                                case "recv" -> blocked.recv();
                                case "poll" -> blocked.poll(Duration.ofSeconds(30));
                                default -> {
                                    byte[] chunk = new byte[1 << 16];
                                    while (true) {
                                        blocked.sendBytes(chunk); // until the socket is full
                                    }
                                }
                            }
                            outcome.complete(null);
                        } catch (Throwable e) {
                            outcome.complete(e);
                        }
                    });
                    Thread.sleep(300); // blocked by now (a send fills the buffers first)
                    assertFalse(outcome.isDone(), call + " should block: " + outcome.getNow(null));
                    long closedAt = System.nanoTime();
                    blocked.close();
                    Throwable e = outcome.get(5, java.util.concurrent.TimeUnit.SECONDS);
                    long tookMillis = (System.nanoTime() - closedAt) / 1_000_000;
                    assertInstanceOf(java.nio.channels.AsynchronousCloseException.class, e,
                            (duplex ? "socket " : "pipe ") + call);
                    assertTrue(tookMillis < 2_000, call + " ended " + tookMillis + " ms after close");
                    t.join(5_000);
                    assertTrue(blocked.closed());
                    assertThrows(IllegalStateException.class, blocked::recvBytes);
                }
            }
        }
    }

    /**
     * {@link Connections#await} on a connection another thread closes returns it as ready at
     * once, on a platform and on a virtual thread: the wait counts itself in as a receive
     * does. It used to poll the descriptor's old file, which a close does not wake, until its
     * timeout (and a number reused meanwhile would have been another file).
     */
    @Test
    void aWaitOnAConnectionClosedByAnotherThreadReturnsItAtOnce() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            try (Pipe p = Pipe.open(false)) {
                Connection reader = p.left();
                java.util.concurrent.CompletableFuture<Object> outcome =
                        new java.util.concurrent.CompletableFuture<>();
                Runnable waiter = () -> {
                    try {
                        outcome.complete(Connections.await(List.of(reader),
                                Duration.ofSeconds(30)));
                    } catch (Throwable e) {
                        outcome.complete(e);
                    }
                };
                Thread t = virtual ? Thread.ofVirtual().start(waiter)
                        : Thread.ofPlatform().start(waiter);
                Thread.sleep(300); // waiting by now
                assertFalse(outcome.isDone(), "nothing to read yet: " + outcome.getNow(null));
                long closedAt = System.nanoTime();
                reader.close();
                Object result = outcome.get(10, java.util.concurrent.TimeUnit.SECONDS);
                long tookMillis = (System.nanoTime() - closedAt) / 1_000_000;
                assertEquals(List.of(reader), result, virtual ? "virtual" : "platform");
                assertTrue(tookMillis < 2_000, "returned " + tookMillis + " ms after close");
                t.join(5_000);
                assertThrows(IllegalStateException.class, reader::recvBytes);
                assertThrows(IllegalStateException.class,
                        () -> Connections.await(List.of(reader), Duration.ZERO),
                        "a connection closed before the wait is refused");
            }
        }
    }

    /**
     * A descriptor closed while a call uses it stays open until that call leaves: closed at
     * once, its number would go to the next descriptor opened, and the call, going on, would
     * read or write that file (a receive did, before).
     */
    @Test
    void theDescriptorOfAConnectionClosedUnderACallIsNotReusedMeanwhile() throws Exception {
        Pipe p = Pipe.open(false);
        Connection reader = p.left();
        int fd = reader.fileno();
        java.nio.file.Path link = java.nio.file.Path.of("/proc/self/fd/" + fd);
        String before = java.nio.file.Files.readSymbolicLink(link).toString();
        Runnable leave = reader.callInside();
        reader.close();
        assertTrue(reader.closed());
        int[] next = Posix.pipe(Posix.O_CLOEXEC);
        try {
            assertTrue(next[0] != fd && next[1] != fd,
                    "descriptor " + fd + " was reused while a call was inside");
            assertEquals(before, java.nio.file.Files.readSymbolicLink(link).toString());
            leave.run();
            assertFalse(java.nio.file.Files.exists(link)
                    && java.nio.file.Files.readSymbolicLink(link).toString().equals(before),
                    "closed once the call left");
        } finally {
            Posix.closeQuietly(next[0]);
            Posix.closeQuietly(next[1]);
            p.right().close();
        }
    }

    /**
     * Senders queued behind one another when the connection is closed all end: the one that
     * waited for the send lock and found the connection closed kept the lock, and every
     * sender after it waited for it for good.
     */
    @Test
    void closeEndsEverySenderQueuedOnTheConnection() throws Exception {
        for (boolean duplex : new boolean[] {true, false}) {
            try (Pipe p = Pipe.open(duplex)) {
                Connection out = p.right();
                List<Thread> senders = new java.util.ArrayList<>();
                java.util.Queue<Throwable> thrown = new java.util.concurrent.ConcurrentLinkedQueue<>();
                for (int i = 0; i < 4; i++) {
                    senders.add(Thread.ofPlatform().start(() -> {
                        try {
                            out.sendBytes(new byte[10 << 20]); // nobody reads: the first blocks
                        } catch (Throwable e) {
                            thrown.add(e);
                        }
                    }));
                }
                Thread.sleep(300);
                out.close();
                for (Thread t : senders) {
                    t.join(5_000);
                    assertFalse(t.isAlive(), "a sender still waits after close ("
                            + (duplex ? "socket" : "pipe") + ")");
                }
                assertEquals(4, thrown.size(), thrown.toString());
                for (Throwable e : thrown) {
                    // Those queued behind the blocked one too: the close came while they waited.
                    assertInstanceOf(java.nio.channels.AsynchronousCloseException.class, e);
                }
            }
        }
    }

    /**
     * A connection sent while another thread closes it arrives as itself or not at all: its
     * descriptor's number, freed by the close before it went out, was sometimes the next file
     * opened, and the receiver got a connection to that file (58 in 3,000 over a socket).
     */
    @Test
    void aConnectionClosedWhileItIsSentNeverArrivesAsAnotherFile() throws Exception {
        try (Pipe carrier = Pipe.open(true)) {
            Connection tx = carrier.right();
            Connection rx = carrier.left();
            int received = 0;
            for (int i = 0; i < 1_500; i++) {
                Pipe payload = Pipe.open(true);
                Connection victim = payload.left();
                java.io.FileInputStream[] opened = new java.io.FileInputStream[1];
                Thread closer = new Thread(() -> {
                    victim.close();
                    try {
                        opened[0] = new java.io.FileInputStream("/proc/self/stat");
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                closer.start();
                boolean sent;
                try {
                    tx.send(victim);
                    sent = true;
                } catch (IllegalArgumentException closedFirst) {
                    sent = false; // "cannot send ...: the connection is closed"
                }
                closer.join();
                try {
                    if (sent) {
                        try (Connection got = (Connection) rx.recv()) {
                            String target = java.nio.file.Files.readSymbolicLink(
                                    java.nio.file.Path.of("/proc/self/fd/" + got.fileno()))
                                    .toString();
                            assertTrue(target.startsWith("socket:"),
                                    "round " + i + ": the connection arrived as " + target);
                            received++;
                        }
                    }
                } finally {
                    opened[0].close();
                    payload.right().close();
                }
            }
            assertTrue(received > 0, "some sends won the race");
        }
    }
}
