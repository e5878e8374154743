package multiprocessing.internal.wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.channels.AsynchronousCloseException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import multiprocessing.internal.posix.Posix;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A pipe end read with the JDK's I/O ({@link PipeStream}): an interrupt of a blocked read
 * neither ends it nor loses a byte, however often it comes, and the streams the exit would
 * close stay one per stream (each interrupt reopens the stream's descriptor: attack 26 found
 * every reopened channel kept for the exit, ~300 bytes an interrupt, 400 MB in 30 s of a
 * storm); a close from another thread ends it.
 */
@Timeout(60)
class PipeStreamTest {

    @Test
    void interruptsOfABlockedReadLoseNothingAndKeepOneEntryForTheExit() throws Exception {
        int[] fds = Posix.pipe(Posix.O_CLOEXEC);
        int before = PipeStream.openStreams();
        try (PipeStream in = PipeStream.open(fds[0], true);
                PipeStream out = PipeStream.open(fds[1], false)) {
            assertEquals(before + 2, PipeStream.openStreams());
            MemorySegment got = MemorySegment.ofArray(new byte[3]);
            AtomicLong read = new AtomicLong(-1);
            AtomicBoolean stillInterrupted = new AtomicBoolean();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try {
                    read.set(in.readFully(got, 3, 0));
                    stillInterrupted.set(Thread.currentThread().isInterrupted());
                } catch (Throwable t) {
                    failed.set(t);
                }
            });
            out.writeFully(MemorySegment.ofArray("a".getBytes(StandardCharsets.US_ASCII)), 1);
            for (int i = 0; i < 2_000; i++) {
                reader.interrupt();
                if (i % 100 == 0) {
                    Thread.sleep(1);
                }
            }
            assertTrue(reader.isAlive(), "the interrupts ended the read: " + failed.get());
            assertEquals(before + 2, PipeStream.openStreams(),
                    "one entry per stream, however often it was reopened");
            out.writeFully(MemorySegment.ofArray("bc".getBytes(StandardCharsets.US_ASCII)), 2);
            reader.join(10_000);
            assertEquals(null, failed.get());
            assertEquals(3, read.get());
            assertEquals("abc", new String((byte[]) got.heapBase().orElseThrow(),
                    StandardCharsets.US_ASCII));
            assertTrue(stillInterrupted.get(), "the interrupt status is given back");
        } finally {
            Posix.closeQuietly(fds[0]);
            Posix.closeQuietly(fds[1]);
        }
        assertEquals(before, PipeStream.openStreams(), "closed streams are forgotten");
    }

    @Test
    void aCloseFromAnotherThreadEndsABlockedRead() throws Exception {
        int[] fds = Posix.pipe(Posix.O_CLOEXEC);
        try {
            PipeStream in = PipeStream.open(fds[0], true);
            AtomicReference<Throwable> ended = new AtomicReference<>();
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try {
                    in.readFully(MemorySegment.ofArray(new byte[1]), 1, 0);
                } catch (Throwable t) {
                    ended.set(t);
                }
            });
            Thread.sleep(200);
            assertTrue(reader.isAlive());
            in.close();
            reader.join(10_000);
            assertInstanceOf(AsynchronousCloseException.class, ended.get());
        } finally {
            Posix.closeQuietly(fds[0]);
            Posix.closeQuietly(fds[1]);
        }
    }
}
