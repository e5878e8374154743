package multiprocessing.bench;

import java.util.concurrent.TimeUnit;

import multiprocessing.sharedctypes.RawArray;
import multiprocessing.sharedctypes.SharedByteArray;

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
 * A 256 MiB shared byte array as {@code python_anchor.py}'s bench_rawarray measures CPython's
 * (group rawarray): filled from a 256 MiB {@code byte[]} and copied out into another, each one
 * bulk copy ({@code mv[:] = src}, {@code dst[:] = mv} in Python); score in operations per second,
 * which bench/compare turns into GB/s (10^9 bytes). Also the creation of a zeroed 256 MiB array
 * (Python's includes a memset; here the pages of a new shared-memory object are zero until
 * touched, so creating costs the system calls only).
 */
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g",
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class RawArrayBench {
    static final int SIZE = 256 << 20;

    @State(Scope.Benchmark)
    public static class Buffers {
        byte[] src;
        byte[] dst;
        SharedByteArray array;

        @Setup(Level.Trial)
        public void setUp() {
            src = new byte[SIZE];
            for (int k = 0; k < SIZE; k++) {
                src[k] = (byte) k;
            }
            dst = new byte[SIZE];
            array = RawArray.ofBytes(SIZE);
            // copyOut alone must read the pattern too (and touches every page before timing).
            array.copyFrom(0, src, 0, SIZE);
        }

        @TearDown(Level.Trial)
        public void check() {
            array.copyTo(0, dst, 0, SIZE);
            if (dst[12345] != (byte) 12345 || dst[SIZE - 1] != (byte) 255) {
                throw new IllegalStateException("rawarray: content mismatch");
            }
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public void fill(Buffers b) {
        b.array.copyFrom(0, b.src, 0, SIZE);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public void copyOut(Buffers b) {
        b.array.copyTo(0, b.dst, 0, SIZE);
    }

    @State(Scope.Thread)
    public static class Created {
        @TearDown(Level.Iteration)
        public void collect() throws InterruptedException {
            // Unreachable arrays' shared-memory objects go when the Cleaner sees them.
            System.gc();
            Thread.sleep(50);
        }
    }

    /** One creation per iteration: each is a 256 MiB shared-memory object until collected. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3, batchSize = 1)
    @Measurement(iterations = 10, batchSize = 1)
    public SharedByteArray create(Created c) {
        return RawArray.ofBytes(SIZE);
    }
}
