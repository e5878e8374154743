package multiprocessing.bench;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

import multiprocessing.Process;
import multiprocessing.SerializableRunnable;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;

/**
 * A child process at the other end of a duplex pipe, for the benchmarks that need a partner.
 * The child runs until the parent closes its end (EOF), so {@link #close()} always ends it;
 * a child that does not end in time is killed, then joined: none is left behind.
 */
final class Echo implements AutoCloseable {
    /** The parent's end. */
    final Connection conn;
    private final Process process;

    private Echo(SerializableRunnable loopFactory, Connection parentEnd, Connection childEnd) {
        this.conn = parentEnd;
        this.process = new Process(loopFactory);
        process.start();
        childEnd.close();
    }

    /** A child that sends back every object it receives. */
    static Echo objects() {
        Pipe pipe = Pipe.open();
        Connection c = pipe.right();
        return new Echo(() -> echoObjects(c), pipe.left(), c);
    }

    /** A child that sends back every byte message it receives. */
    static Echo bytes() {
        Pipe pipe = Pipe.open();
        Connection c = pipe.right();
        return new Echo(() -> echoBytes(c), pipe.left(), c);
    }

    /**
     * A child that reads messages of at most {@code maxSize} bytes into one reused native
     * buffer and sends one small ack (the total bytes of the batch) after every {@code batch}.
     */
    static Echo sink(long maxSize, int batch) {
        Pipe pipe = Pipe.open();
        Connection c = pipe.right();
        return new Echo(() -> sink(c, maxSize, batch), pipe.left(), c);
    }

    private static void echoObjects(Connection c) {
        try (c) {
            while (true) {
                c.send(c.recv());
            }
        } catch (EOFException end) {
            // the parent closed its end
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void echoBytes(Connection c) {
        try (c) {
            while (true) {
                c.sendBytes(c.recvBytes());
            }
        } catch (EOFException end) {
            // the parent closed its end
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sink(Connection c, long maxSize, int batch) {
        try (c; Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(maxSize, 64);
            byte[] ack = new byte[8];
            while (true) {
                long total = 0;
                for (int i = 0; i < batch; i++) {
                    total += c.recvBytesInto(buf);
                }
                for (int i = 0; i < 8; i++) {
                    ack[i] = (byte) (total >>> (56 - 8 * i));
                }
                c.sendBytes(ack);
            }
        } catch (EOFException end) {
            // the parent closed its end
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Closes the parent's end, which ends the child, and joins it (kills it if it hangs). */
    @Override
    public void close() throws InterruptedException {
        conn.close();
        process.join(Duration.ofSeconds(10));
        if (process.exitCode() == null) {
            process.kill();
            process.join();
        }
        Integer code = process.exitCode();
        process.close();
        if (code != 0) {
            throw new IllegalStateException("echo child exit code " + code);
        }
    }
}
