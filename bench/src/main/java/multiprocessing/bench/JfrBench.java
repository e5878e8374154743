package multiprocessing.bench;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import jdk.jfr.consumer.RecordingStream;

import multiprocessing.Queue;
import multiprocessing.synchronize.Lock;
import multiprocessing.synchronize.Semaphore;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
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
import org.openjdk.jmh.infra.Control;

/**
 * What the library's Flight Recorder events cost: an uncontended Lock acquire+release and a
 * Queue put+get in one thread (paths that never wait, so never reach an event), and a token
 * handed back and forth through two Semaphores by two threads of this process (every acquire
 * waits: the path where LockWait's event object lives). With {@code recording=off} (no
 * recording: what every program pays) and {@code recording=on} (a RecordingStream with the
 * library's seven event types enabled at their default thresholds, 10 ms for the waits). Run
 * with {@code -prof gc}: the ping-pong's {@code gc.alloc.rate.norm} shows whether the event
 * object is allocated (with recording off it must not be; with
 * {@code -jvmArgsAppend -XX:-DoEscapeAnalysis} it is, for comparison).
 */
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class JfrBench {
    static final String[] EVENTS = {"multiprocessing.ProcessStart", "multiprocessing.ProcessEnd",
        "multiprocessing.PoolTask", "multiprocessing.LockWait", "multiprocessing.QueuePut",
        "multiprocessing.QueueGet", "multiprocessing.ManagerCall"};

    /** No recording, or one of the library's events only. */
    @State(Scope.Benchmark)
    public static class Recording {
        @Param({"off", "on"})
        String recording;
        RecordingStream stream;

        @Setup(Level.Trial)
        public void start() {
            if (recording.equals("on")) {
                stream = new RecordingStream();
                for (String name : EVENTS) {
                    stream.enable(name);
                }
                stream.startAsync();
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            if (stream != null) {
                stream.close();
            }
        }
    }

    @State(Scope.Thread)
    public static class Single {
        final Lock lock = new Lock();
        final Queue<Integer> queue = new Queue<>();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void lockUncontended(Recording r, Single s) {
        s.lock.acquire();
        s.lock.release();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Integer queuePutGet(Recording r, Single s) {
        s.queue.put(1);
        return s.queue.get();
    }

    /** Two semaphores two threads hand a token through: every acquire waits for the other. */
    @State(Scope.Group)
    public static class PingPong {
        final Semaphore ping = new Semaphore(0);
        final Semaphore pong = new Semaphore(0);
    }

    /** A wait slice, so that neither thread waits forever for one that JMH has stopped. */
    private static final Duration SLICE = Duration.ofMillis(10);

    @Benchmark
    @Group("semaphorePingPong")
    @GroupThreads(1)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void ping(Recording r, PingPong s, Control control) {
        s.ping.release();
        while (!s.pong.acquire(SLICE) && !control.stopMeasurement) {
            // the partner has not answered yet
        }
    }

    @Benchmark
    @Group("semaphorePingPong")
    @GroupThreads(1)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void pong(Recording r, PingPong s, Control control) {
        while (!s.ping.acquire(SLICE) && !control.stopMeasurement) {
            // the partner has not served yet
        }
        s.pong.release();
    }
}
