package multiprocessing.bench;

import java.util.concurrent.TimeUnit;

import multiprocessing.Process;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Start and join of a process that runs a no-op lambda, with the "spawn" start method (a fresh
 * JVM per process): what CPython's {@code process_spawn_ms} measures. One invocation per
 * iteration; the score is ms per start+join.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 12)
@Fork(value = 1, jvmArgsAppend = {
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class ProcessBench {

    @Benchmark
    public Integer spawnStartJoin() throws InterruptedException {
        Process p = new Process(() -> { });
        p.start();
        p.join();
        Integer code = p.exitCode();
        p.close();
        if (code == null || code != 0) {
            throw new IllegalStateException("child exit code " + code);
        }
        return code;
    }
}
