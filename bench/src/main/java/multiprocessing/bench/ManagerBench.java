package multiprocessing.bench;

import java.util.concurrent.TimeUnit;

import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.managers.DictProxy;
import multiprocessing.managers.SyncManager;

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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A manager measured as CPython's {@code bench_manager} measures its own: start and shutdown of
 * a {@link SyncManager} whose server is a spawned child ({@code manager_start_spawn_ms},
 * {@code manager_shutdown_spawn_ms}, and the two together), and the round trip of one call on a
 * shared dict, {@code dict.put(i & 127, i)} ({@code manager_dict_set_us}) and
 * {@code dict.get(i & 127)} ({@code manager_dict_get_us}), from one thread and from 8 threads
 * that share one proxy (no CPython figure: a Python client thread has a connection of its
 * own). The dict's manager is started once per trial and shut down in its teardown.
 */
@Fork(value = 1, jvmArgsAppend = {
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class ManagerBench {
    static final Context SPAWN = Multiprocessing.getContext("spawn");

    /** A started manager and a dict of 128 entries, shared by every thread of the trial. */
    @State(Scope.Benchmark)
    public static class Running {
        SyncManager manager;
        DictProxy<Integer, Integer> dict;

        @Setup(Level.Trial)
        public void start() {
            manager = new SyncManager(null, null, SPAWN);
            manager.start();
            dict = manager.dict();
            for (int i = 0; i < 128; i++) {
                dict.put(i, i);
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            manager.shutdown();
        }
    }

    /** The AOT caches trained before a start is measured (see {@link TrainedCaches}). */
    @State(Scope.Benchmark)
    public static class Trained {
        @Setup(Level.Trial)
        public void await() throws Exception {
            TrainedCaches.await(() -> { });
        }
    }

    /** Each thread's own key counter, as CPython's loop variable. */
    @State(Scope.Thread)
    public static class Counter {
        int i;
    }

    /** A manager started before each invocation of {@link #shutdownSpawn}. */
    @State(Scope.Thread)
    public static class Started {
        SyncManager manager;

        @Setup(Level.Invocation)
        public void start() {
            manager = new SyncManager(null, null, SPAWN);
            manager.start();
        }

        @TearDown(Level.Invocation)
        public void stop() {
            manager.shutdown(); // a second shutdown does nothing
        }
    }

    /** Shuts down, after each invocation of {@link #startSpawn}, the manager it started. */
    @State(Scope.Thread)
    public static class ToStop {
        SyncManager manager;

        @TearDown(Level.Invocation)
        public void stop() {
            if (manager != null) {
                manager.shutdown();
                manager = null;
            }
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3)
    @Measurement(iterations = 10)
    public SyncManager startShutdownSpawn(Trained trained) {
        SyncManager m = new SyncManager(null, null, SPAWN);
        m.start();
        m.shutdown();
        return m;
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3)
    @Measurement(iterations = 10)
    public SyncManager startSpawn(Trained trained, ToStop s) {
        s.manager = new SyncManager(null, null, SPAWN);
        s.manager.start();
        return s.manager;
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3)
    @Measurement(iterations = 10)
    public SyncManager shutdownSpawn(Trained trained, Started s) {
        s.manager.shutdown();
        return s.manager;
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public Integer dictSet(Running r, Counter c) {
        int i = c.i++;
        return r.dict.put(i & 127, i);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public Integer dictGet(Running r, Counter c) {
        return r.dict.get(c.i++ & 127);
    }

    /** As {@link #dictSet}, 8 threads at once on the one proxy; score: us per call of a thread. */
    @Benchmark
    @Threads(8)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public Integer dictSet8Threads(Running r, Counter c) {
        int i = c.i++;
        return r.dict.put(i & 127, i);
    }

    /** As {@link #dictGet}, 8 threads at once on the one proxy. */
    @Benchmark
    @Threads(8)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public Integer dictGet8Threads(Running r, Counter c) {
        return r.dict.get(c.i++ & 127);
    }
}
