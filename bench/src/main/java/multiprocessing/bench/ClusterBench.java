package multiprocessing.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import multiprocessing.Multiprocessing;
import multiprocessing.SerializableCallable;
import multiprocessing.cluster.Cluster;
import multiprocessing.cluster.ClusterConfig;
import multiprocessing.cluster.Member;
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
 * A pool on a cluster, all on this machine: members started with the {@link Member} command
 * (one JVM each, 1 worker each), the benchmark JVM a client. The CPU-bound map of
 * {@link PoolBench.CpuBound} (16 chunks) on 1 and on 2 members, beside a local pool of as many
 * workers: the speed-up of a second member, and what going through the cluster costs against
 * a local pool of the same workers. And the round trip of {@code applyAsync(noop).get()} to a
 * member's worker, beside PoolBench's local one.
 */
public class ClusterBench {
    static final SerializableCallable<Object> NOOP = () -> null;
    private static final Pattern PRINTED = Pattern.compile(" at (\\S+:\\d+) with ");

    /** Members of one cluster, each a JVM of its own with one worker, and a client of them. */
    static final class Members implements AutoCloseable {
        final List<Process> processes = new ArrayList<>();
        final Cluster client;

        Members(int n) throws Exception {
            String name = "bench-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
            String first = null;
            try {
                for (int i = 0; i < n; i++) {
                    List<String> command = new ArrayList<>(List.of(
                            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                            "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                            "-Dhazelcast.logging.type=none", "-cp", System.getProperty("java.class.path"),
                            Member.class.getName(), "--name", name, "--port", "0", "--workers", "1"));
                    if (first != null) {
                        command.addAll(List.of("--member", first));
                    }
                    ProcessBuilder pb = new ProcessBuilder(command)
                            .redirectError(ProcessBuilder.Redirect.DISCARD);
                    pb.environment().put(Member.AUTHKEY_ENV,
                            HexFormat.of().formatHex(Multiprocessing.currentProcess().authKey()));
                    Process p = pb.start();
                    processes.add(p);
                    String line = new BufferedReader(new InputStreamReader(p.getInputStream(),
                            StandardCharsets.UTF_8)).readLine();
                    Matcher m = PRINTED.matcher(String.valueOf(line));
                    if (!m.find()) {
                        throw new IllegalStateException("a member did not start: " + line);
                    }
                    if (first == null) {
                        first = m.group(1);
                    }
                }
                client = Cluster.connect(ClusterConfig.builder().name(name).member(first).build());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (true) { // until every member's workers are recorded
                    try (Pool p = client.pool()) {
                        if (p.processes() >= n) {
                            break;
                        }
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the members' workers did not appear");
                    }
                    Thread.sleep(100);
                }
            } catch (Exception | Error e) {
                stop();
                throw e;
            }
        }

        private void stop() throws InterruptedException {
            for (Process p : processes) {
                p.destroy(); // SIGTERM: the member leaves and ends its workers
            }
            for (Process p : processes) {
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor();
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            try {
                client.close();
            } finally {
                stop();
            }
        }
    }

    /** The CPU-bound map on a local pool, and on a cluster of as many one-worker members. */
    @State(Scope.Benchmark)
    @Fork(value = 1, jvmArgsAppend = {
            "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "-Dhazelcast.logging.type=none"})
    public static class CpuBound {
        @Param({"1", "2"})
        public int workers;
        @Param({"local", "cluster"})
        public String where;
        Members members;
        Pool pool;
        List<Integer> starts;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            if (where.equals("cluster")) {
                members = new Members(workers);
                pool = members.client.pool();
            } else {
                pool = new Pool(workers);
            }
            starts = IntStream.range(0, 16).mapToObj(i -> 1_000_000 + i * 100_000).toList();
            pool.map(PoolBench.CpuBound.PRIMES, starts, 1);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            pool.close();
            if (members != null) {
                members.close();
            }
        }

        @Benchmark
        @BenchmarkMode(Mode.SingleShotTime)
        @OutputTimeUnit(TimeUnit.MILLISECONDS)
        @Warmup(iterations = 3)
        @Measurement(iterations = 8)
        public List<Integer> cpuBoundMap() throws InterruptedException {
            return pool.map(PoolBench.CpuBound.PRIMES, starts, 1);
        }
    }

    /** {@code applyAsync(noop).get()} from a client to the worker of one member. */
    @State(Scope.Benchmark)
    @Fork(value = 1, jvmArgsAppend = {
            "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "-Dhazelcast.logging.type=none"})
    public static class RoundTrip {
        Members members;
        Pool pool;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            members = new Members(1);
            pool = members.client.pool();
            for (int i = 0; i < 200; i++) {
                pool.applyAsync(NOOP).get();
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            pool.close();
            members.close();
        }

        @Benchmark
        @BenchmarkMode(Mode.AverageTime)
        @OutputTimeUnit(TimeUnit.MICROSECONDS)
        @Warmup(iterations = 3, time = 2)
        @Measurement(iterations = 5, time = 2)
        public Object applyAsyncRoundTrip() throws Exception {
            return pool.applyAsync(NOOP).get();
        }
    }
}
