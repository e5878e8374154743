package multiprocessing.bench;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Round trips over a duplex {@code Pipe} to a child process that echoes: a small object
 * ({@code send(1)} / {@code recv()}, CPython's {@code pipe_roundtrip_us}) and 64 bytes
 * ({@code sendBytes} / {@code recvBytes}, CPython's {@code pipe_bytes_roundtrip_us}).
 * The child is started once per trial and joined in the teardown. Score: us per round trip.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class PipeBench {

    @State(Scope.Benchmark)
    public static class ObjectEcho {
        Echo echo;

        @Setup(Level.Trial)
        public void start() {
            echo = Echo.objects();
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            echo.close();
        }
    }

    @State(Scope.Benchmark)
    public static class BytesEcho {
        final byte[] msg = new byte[64];
        Echo echo;

        @Setup(Level.Trial)
        public void start() {
            for (int i = 0; i < msg.length; i++) {
                msg[i] = (byte) i;
            }
            echo = Echo.bytes();
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            echo.close();
        }
    }

    @Benchmark
    public Object roundTripObject(ObjectEcho s) throws IOException {
        s.echo.conn.send(1);
        return s.echo.conn.recv();
    }

    @Benchmark
    public byte[] roundTripBytes64(BytesEcho s) throws IOException {
        s.echo.conn.sendBytes(s.msg);
        return s.echo.conn.recvBytes();
    }
}
