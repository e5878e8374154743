package multiprocessing.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import multiprocessing.Process;
import multiprocessing.Queue;
import multiprocessing.SerializableConsumer;
import multiprocessing.SimpleQueue;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Queue throughput measured as {@code python_anchor.py}'s bench_queue measures CPython's (group
 * queue): producer child processes put a batch of items (an Integer each, or a 4 KiB byte[]),
 * the benchmark thread gets them all; a batch is one invocation. Producers start each batch on
 * a count sent through a control queue, so JVM start-up is not measured. Plus the round trip of
 * one small item to an echo child and back at low rate (one item in flight), for the latency a
 * queue gives when it is not under load.
 */
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class QueueBench {
    static final int BATCH = 20_000;
    static final int BATCH_4K = 5_000;

    /** Producer children putting batches into {@code items} on request. */
    abstract static class Producers {
        final List<Process> children = new ArrayList<>();
        final List<Queue<Integer>> controls = new ArrayList<>();

        void start(int producers, ProducerLoop loop) {
            for (int i = 0; i < producers; i++) {
                Queue<Integer> control = new Queue<>();
                controls.add(control);
                Process p = new Process(() -> loop.run(control));
                p.start();
                children.add(p);
            }
        }

        void go(int perProducer) {
            for (Queue<Integer> c : controls) {
                c.put(perProducer);
            }
        }

        /** Ends the producers after the trial: JMH runs this for every subclass. */
        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            for (Queue<Integer> c : controls) {
                c.put(-1);
            }
            for (Process p : children) {
                p.join(Duration.ofSeconds(10));
                if (p.isAlive()) {
                    p.kill();
                    p.join();
                }
                p.close();
            }
        }
    }

    interface ProducerLoop extends java.io.Serializable {
        void run(Queue<Integer> control) throws Exception;
    }

    /** A producer that puts {@code item} as many times as each request on its control says. */
    static ProducerLoop putting(SerializableConsumer<Object> put, Object item) {
        return control -> {
            for (int n; (n = control.get()) >= 0;) {
                for (int i = 0; i < n; i++) {
                    put.accept(item);
                }
            }
        };
    }

    @State(Scope.Benchmark)
    public static class OneToOne extends Producers {
        Queue<Object> items;

        @Setup(Level.Trial)
        public void setUp() {
            items = new Queue<>();
            Queue<Object> q = items;
            start(1, putting(q::put, 1));
        }
    }

    @State(Scope.Benchmark)
    public static class TwoToOne extends Producers {
        Queue<Object> items;

        @Setup(Level.Trial)
        public void setUp() {
            items = new Queue<>();
            Queue<Object> q = items;
            start(2, putting(q::put, 1));
        }
    }

    @State(Scope.Benchmark)
    public static class FourKiB extends Producers {
        Queue<Object> items;

        @Setup(Level.Trial)
        public void setUp() {
            items = new Queue<>();
            Queue<Object> q = items;
            start(1, putting(q::put, new byte[4096]));
        }
    }

    @State(Scope.Benchmark)
    public static class Simple extends Producers {
        SimpleQueue<Object> items;

        @Setup(Level.Trial)
        public void setUp() {
            items = new SimpleQueue<>();
            SimpleQueue<Object> q = items;
            start(1, putting(q::put, 1));
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public Object queue1to1(OneToOne s) {
        s.go(BATCH);
        Object last = null;
        for (int i = 0; i < BATCH; i++) {
            last = s.items.get();
        }
        return last;
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public Object queue2to1(TwoToOne s) {
        s.go(BATCH / 2);
        Object last = null;
        for (int i = 0; i < BATCH; i++) {
            last = s.items.get();
        }
        return last;
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH_4K)
    public Object queue4KiB(FourKiB s) {
        s.go(BATCH_4K);
        Object last = null;
        for (int i = 0; i < BATCH_4K; i++) {
            last = s.items.get();
        }
        return last;
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public Object simpleQueue1to1(Simple s) {
        s.go(BATCH);
        Object last = null;
        for (int i = 0; i < BATCH; i++) {
            last = s.items.get();
        }
        return last;
    }

    @State(Scope.Benchmark)
    public static class Echo {
        Queue<Object> there;
        Queue<Object> back;
        Process child;

        @Setup(Level.Trial)
        public void setUp() {
            there = new Queue<>();
            back = new Queue<>();
            Queue<Object> t = there;
            Queue<Object> b = back;
            child = new Process(() -> {
                while (true) {
                    Object o = t.get();
                    if (o == null) {
                        return;
                    }
                    b.put(o);
                }
            });
            child.start();
            there.put(0);
            back.get();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            there.put(null);
            child.join(Duration.ofSeconds(10));
            if (child.isAlive()) {
                child.kill();
                child.join();
            }
            child.close();
        }
    }

    /** One small item to a child and back, one in flight: twice the one-way latency. */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public Object roundTrip(Echo s) {
        s.there.put(1);
        return s.back.get();
    }
}
