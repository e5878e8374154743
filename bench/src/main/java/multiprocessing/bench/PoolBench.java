package multiprocessing.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import multiprocessing.ForkServerContext;
import multiprocessing.Multiprocessing;
import multiprocessing.SerializableCallable;
import multiprocessing.SerializableFunction;
import multiprocessing.pool.Pool;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A pool of two worker processes, measured as CPython's {@code bench_pool} measures its
 * {@code Pool(2)}: {@code map} of a tiny function over 1,000,000 items with the default chunks
 * ({@code pool_map_tiny_s}), over 20,000 items with chunksize 1 ({@code pool_map_chunksize1_s}),
 * the round trip of {@code applyAsync(noop).get()} ({@code pool_apply_async_latency_us}), and
 * start-up ({@code Pool(2)} then close and join, {@code pool_startup_spawn_ms}, and with the
 * forkserver context, {@code pool_startup_forkserver_ms}). The items list is
 * built inside the measured call, as Python's {@code range} is iterated inside its map.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class PoolBench {
    static final int N = 1_000_000;
    static final int N1 = 20_000;
    static final SerializableFunction<Integer, Integer> SQUARE = x -> x * x;
    static final SerializableCallable<Object> NOOP = () -> null;

    Pool pool;

    @Setup(Level.Trial)
    public void setUp() throws InterruptedException {
        pool = new Pool(2);
        pool.map(SQUARE, range(10_000));
        pool.map(SQUARE, range(200), 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    private static List<Integer> check(List<Integer> r, int n) {
        if (r.size() != n || r.get(n - 1) != (n - 1) * (n - 1)) {
            throw new IllegalStateException("pool.map: wrong result");
        }
        return r;
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3)
    @Measurement(iterations = 10)
    public List<Integer> mapTinyDefaultChunks() throws InterruptedException {
        return check(pool.map(SQUARE, range(N)), N);
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    // Each iteration is one map of 20,000 (~40-120 ms): three left the parent's and workers'
    // pool paths still being compiled (0.12 s measured against 0.07 s after twenty), and twenty
    // still did in a run of the twenty-third session (its measured maps fell from 66-91 to
    // 38-43 ms). The steady state is what JMH is for; bench/compare's ColdPool gives a fresh
    // program's first maps.
    @Warmup(iterations = 40)
    @Measurement(iterations = 10)
    public List<Integer> mapChunksize1() throws InterruptedException {
        return check(pool.map(SQUARE, range(N1), 1), N1);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 3, time = 2)
    @Measurement(iterations = 5, time = 2)
    public Object applyAsyncRoundTrip() throws Exception {
        return pool.applyAsync(NOOP).get();
    }

    /**
     * Start-up and shutdown of a two-worker pool: {@code new Pool(2)}, then close (which joins).
     * The forkserver variant's workers run in the context's JVMs booted ahead of time, shared by
     * the trial's invocations as CPython's fork server is; they are ended after the trial.
     */
    @State(Scope.Benchmark)
    // JMH does not take a nested class's @Fork from the enclosing class (it ran 5 forks).
    @Fork(value = 1, jvmArgsAppend = {
            "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
    public static class Startup {
        final ForkServerContext forkserver =
                (ForkServerContext) Multiprocessing.getContext("forkserver");

        /** The AOT caches trained first, the workers' among them (see TrainedCaches). */
        @Setup(Level.Trial)
        public void trainCaches() throws Exception {
            TrainedCaches.await(() -> { });
        }

        @TearDown(Level.Trial)
        public void stopWarmJvms() {
            forkserver.stopWarmJvms();
        }

        @Benchmark
        @BenchmarkMode(Mode.SingleShotTime)
        @OutputTimeUnit(TimeUnit.MILLISECONDS)
        @Warmup(iterations = 3)
        @Measurement(iterations = 10)
        public Pool startCloseJoin() throws InterruptedException {
            Pool p = new Pool(2);
            p.close();
            p.join();
            return p;
        }

        @Benchmark
        @BenchmarkMode(Mode.SingleShotTime)
        @OutputTimeUnit(TimeUnit.MILLISECONDS)
        @Warmup(iterations = 3)
        @Measurement(iterations = 10)
        public Pool forkserverStartCloseJoin() throws InterruptedException {
            Pool p = Pool.builder().context(forkserver).processes(2).build();
            p.close();
            p.join();
            return p;
        }
    }

    /**
     * A CPU-bound map (trial division over 16 chunks of numbers) with 1 and with 2 workers: the
     * speed-up of 2 over 1 is what this 2-core machine gives processes that share nothing.
     */
    @State(Scope.Benchmark)
    // JMH does not take a nested class's @Fork from the enclosing class (it ran 5 forks).
    @Fork(value = 1, jvmArgsAppend = {
            "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
    public static class CpuBound {
        static final SerializableFunction<Integer, Integer> PRIMES = from -> {
            int count = 0;
            for (int n = from; n < from + 100_000; n++) {
                boolean prime = n > 1;
                for (int d = 2; (long) d * d <= n; d++) {
                    if (n % d == 0) {
                        prime = false;
                        break;
                    }
                }
                if (prime) {
                    count++;
                }
            }
            return count;
        };

        @Param({"1", "2"})
        public int workers;
        Pool pool;
        List<Integer> starts;

        @Setup(Level.Trial)
        public void setUp() throws InterruptedException {
            pool = new Pool(workers);
            starts = IntStream.range(0, 16).mapToObj(i -> 1_000_000 + i * 100_000).toList();
            pool.map(PRIMES, starts, 1);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pool.close();
        }

        @Benchmark
        @BenchmarkMode(Mode.SingleShotTime)
        @OutputTimeUnit(TimeUnit.MILLISECONDS)
        @Warmup(iterations = 3)
        @Measurement(iterations = 8)
        public List<Integer> cpuBoundMap() throws InterruptedException {
            return pool.map(PRIMES, starts, 1);
        }
    }
}
