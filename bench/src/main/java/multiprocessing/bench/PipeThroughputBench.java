package multiprocessing.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of large messages from the parent to a child over a duplex {@code Pipe}. The
 * child reads every message into one reused native buffer ({@code recvBytesInto}) and acks
 * once per batch (64 messages of 64 KiB, 1 message of 64 MiB), so an operation is one message
 * delivered and read. Score: messages per second; MB/s = score * size / 1e6. {@code source}:
 * the parent sends a {@code byte[]} ({@code heap}) or a native {@code MemorySegment}
 * ({@code native}, which the library writes with no copy).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class PipeThroughputBench {
    static final int SIZE_64K = 64 * 1024;
    static final int BATCH_64K = 64;
    static final int SIZE_64M = 64 * 1024 * 1024;

    /** A sink child and a message of {@code size} bytes on the heap and in native memory. */
    abstract static class Sink {
        Echo echo;
        boolean nativeSource;
        byte[] heap;
        MemorySegment offHeap;
        private Arena arena;

        void start(int size, int batch, String source) {
            nativeSource = source.equals("native");
            heap = new byte[size];
            for (int i = 0; i < size; i++) {
                heap[i] = (byte) i;
            }
            arena = Arena.ofShared();
            offHeap = arena.allocate(size, 64);
            MemorySegment.copy(MemorySegment.ofArray(heap), 0, offHeap, 0, size);
            echo = Echo.sink(size, batch);
        }

        void send() throws IOException {
            if (nativeSource) {
                echo.conn.sendBytes(offHeap);
            } else {
                echo.conn.sendBytes(heap);
            }
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            try {
                echo.close();
            } finally {
                arena.close();
            }
        }
    }

    @State(Scope.Benchmark)
    public static class Sink64K extends Sink {
        @Param({"heap", "native"})
        public String source;

        @Setup(Level.Trial)
        public void setup() {
            start(SIZE_64K, BATCH_64K, source);
        }
    }

    @State(Scope.Benchmark)
    public static class Sink64M extends Sink {
        @Param({"heap", "native"})
        public String source;

        @Setup(Level.Trial)
        public void setup() {
            start(SIZE_64M, 1, source);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH_64K)
    public byte[] send64KiB(Sink64K s) throws IOException {
        for (int i = 0; i < BATCH_64K; i++) {
            s.send();
        }
        return s.echo.conn.recvBytes();
    }

    @Benchmark
    public byte[] send64MiB(Sink64M s) throws IOException {
        s.send();
        return s.echo.conn.recvBytes();
    }
}
