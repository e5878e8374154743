package multiprocessing.bench;

import java.util.concurrent.TimeUnit;

import multiprocessing.ForkServerContext;
import multiprocessing.Multiprocessing;
import multiprocessing.Process;

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
 * Start and join of a process that runs a no-op lambda, with the "spawn" start method (a fresh
 * JVM per process): what CPython's {@code process_spawn_ms} measures. One invocation per
 * iteration; the score is ms per start+join. The same with the "forkserver" start method
 * ({@code process_forkserver_ms}): the context's JVMs, booted ahead of time, are shared by all
 * invocations of the trial, as CPython's one fork server is by all its starts; the warm-up
 * iterations include the first start, which boots them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 12)
@Fork(value = 1, jvmArgsAppend = {
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class ProcessBench {
    final ForkServerContext forkserver = (ForkServerContext) Multiprocessing.getContext("forkserver");

    /** Both kinds of AOT cache trained first: the steady state this benchmark measures. */
    @Setup(Level.Trial)
    public void trainCaches() throws Exception {
        TrainedCaches.await(() -> { });
    }

    /** Ends the JVMs still waiting for forkserver processes. */
    @TearDown(Level.Trial)
    public void stopWarmJvms() {
        forkserver.stopWarmJvms();
    }

    @Benchmark
    public Integer spawnStartJoin() throws InterruptedException {
        return startJoin(new Process(() -> { }));
    }

    @Benchmark
    public Integer forkserverStartJoin() throws InterruptedException {
        return startJoin(forkserver.process(() -> { }));
    }

    private static Integer startJoin(Process p) throws InterruptedException {
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
