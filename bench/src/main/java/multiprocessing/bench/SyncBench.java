package multiprocessing.bench;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import multiprocessing.Process;
import multiprocessing.SerializableRunnable;
import multiprocessing.sharedmemory.SharedMemory;
import multiprocessing.synchronize.Condition;
import multiprocessing.synchronize.Event;
import multiprocessing.synchronize.Lock;
import multiprocessing.synchronize.RLock;
import multiprocessing.synchronize.Semaphore;

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
 * The synchronization primitives, measured the way {@code python_anchor.py} measures CPython's
 * (groups lock, event, pingpong): uncontended acquire+release in one thread; a Lock contended by
 * the benchmark thread and a child process, each doing {@value #CONTENDED_PER_PROCESS}
 * increments of a shared counter per batch; the wake-up latency of a child blocked in
 * {@code Event.await()} (stamped on both sides with System.nanoTime, which is CLOCK_MONOTONIC and
 * so comparable across processes); and Semaphore and Condition ping-pong with a child. Group
 * vthreads: a Lock contended by threads of this JVM, platform threads against virtual ones,
 * with the virtual thread scheduler of a 2-CPU machine (parallelism 2).
 */
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class SyncBench {
    static final int CONTENDED_PER_PROCESS = 200_000;

    /** A child process running {@code loop} until {@link #stop}; shared words in {@code shm}. */
    abstract static class Partner {
        SharedMemory shm;
        MemorySegment words;
        Process child;

        void start(SerializableRunnable loop) {
            child = new Process(loop);
            child.start();
        }

        void stop(Runnable unblock) throws InterruptedException, IOException {
            words.set(JAVA_INT, 0, 1); // the stop flag every partner loop checks
            unblock.run();
            child.join(Duration.ofSeconds(5));
            if (child.isAlive()) {
                child.kill();
                child.join();
            }
            child.close();
            shm.close();
            shm.unlink();
        }

        void open() throws IOException {
            shm = SharedMemory.create(64);
            words = shm.buf();
        }
    }

    @State(Scope.Thread)
    public static class Uncontended {
        final Lock lock = new Lock();
        final RLock rlock = new RLock();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void lockUncontended(Uncontended s) {
        s.lock.acquire();
        s.lock.release();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void rlockUncontended(Uncontended s) {
        s.rlock.acquire();
        s.rlock.release();
    }

    @State(Scope.Benchmark)
    public static class Contended extends Partner {
        Lock lock;
        Semaphore go;
        Semaphore done;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            open();
            lock = new Lock();
            go = new Semaphore(0);
            done = new Semaphore(0);
            Lock l = lock;
            Semaphore g = go;
            Semaphore d = done;
            SharedMemory m = shm;
            start(() -> {
                MemorySegment w = m.buf();
                while (true) {
                    g.acquire();
                    if (w.get(JAVA_INT, 0) != 0) {
                        return;
                    }
                    for (int i = 0; i < CONTENDED_PER_PROCESS; i++) {
                        l.acquire();
                        w.set(JAVA_LONG, 8, w.get(JAVA_LONG, 8) + 1);
                        l.release();
                    }
                    d.release();
                }
            });
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            long total = words.get(JAVA_LONG, 8);
            if (total % (2L * CONTENDED_PER_PROCESS) != 0) {
                throw new IllegalStateException("lost increments: " + total);
            }
            stop(go::release);
        }
    }

    /** One batch: both processes do CONTENDED_PER_PROCESS increments under the lock. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(2 * CONTENDED_PER_PROCESS)
    public void lockContended2Processes(Contended s) {
        s.go.release();
        MemorySegment w = s.words;
        for (int i = 0; i < CONTENDED_PER_PROCESS; i++) {
            s.lock.acquire();
            w.set(JAVA_LONG, 8, w.get(JAVA_LONG, 8) + 1);
            s.lock.release();
        }
        s.done.acquire();
    }

    @State(Scope.Benchmark)
    public static class EventWake extends Partner {
        Event event;
        Semaphore ready;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            open();
            event = new Event();
            ready = new Semaphore(0);
            Event e = event;
            Semaphore r = ready;
            SharedMemory m = shm;
            start(() -> {
                MemorySegment w = m.buf();
                while (true) {
                    r.release(); // about to wait
                    e.await();
                    long t1 = System.nanoTime();
                    e.clear();
                    if (w.get(JAVA_INT, 0) != 0) {
                        return;
                    }
                    w.set(JAVA_LONG, 16, t1);
                    w.set(JAVA_INT, 4, 1); // stamped
                }
            });
        }

        /** As CPython's anchor: the waiter said it is about to wait, then 0.5 ms to block. */
        @Setup(Level.Invocation)
        public void waiterBlocked() throws InterruptedException {
            ready.acquire();
            words.set(JAVA_INT, 4, 0);
            Thread.sleep(0, 500_000);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            stop(event::set);
        }
    }

    /** From set() to the blocked waiter's first instruction after await() (us). */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long eventWakeup(EventWake s) {
        long t0 = System.nanoTime();
        s.event.set();
        MemorySegment w = s.words;
        // Yield, not a pure spin: the woken waiter may be queued on this very CPU.
        while (w.get(JAVA_INT, 4) == 0) {
            Thread.yield();
        }
        return w.get(JAVA_LONG, 16) - t0;
    }

    @State(Scope.Benchmark)
    public static class SemaphorePingPong extends Partner {
        Semaphore ping;
        Semaphore pong;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            open();
            ping = new Semaphore(0);
            pong = new Semaphore(0);
            Semaphore a = ping;
            Semaphore b = pong;
            SharedMemory m = shm;
            start(() -> {
                MemorySegment w = m.buf();
                while (true) {
                    a.acquire();
                    if (w.get(JAVA_INT, 0) != 0) {
                        return;
                    }
                    b.release();
                }
            });
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            stop(ping::release);
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void semaphorePingPong(SemaphorePingPong s) {
        s.ping.release();
        s.pong.acquire();
    }

    @State(Scope.Benchmark)
    public static class ConditionPingPong extends Partner {
        Condition cond;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            open();
            cond = new Condition();
            Condition c = cond;
            SharedMemory m = shm;
            start(() -> {
                MemorySegment w = m.buf();
                c.acquire();
                try {
                    while (true) {
                        while (w.get(JAVA_INT, 4) == 0 && w.get(JAVA_INT, 0) == 0) {
                            c.awaitUninterruptibly();
                        }
                        if (w.get(JAVA_INT, 0) != 0) {
                            return;
                        }
                        w.set(JAVA_INT, 4, 0);
                        c.signal();
                    }
                } finally {
                    c.release();
                }
            });
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            stop(() -> {
                cond.acquire();
                words.set(JAVA_INT, 0, 1);
                cond.signalAll();
                cond.release();
            });
        }
    }

    /** CPython's cond_rt: with the lock held, turn = 1, notify, wait until turn is 0 again. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void conditionPingPong(ConditionPingPong s) {
        Condition c = s.cond;
        MemorySegment w = s.words;
        c.acquire();
        try {
            w.set(JAVA_INT, 4, 1);
            c.signal();
            while (w.get(JAVA_INT, 4) != 0) {
                c.awaitUninterruptibly();
            }
        } finally {
            c.release();
        }
    }

    // ---------------------------------------------------------------- platform vs virtual threads

    static final int THREADS = 4;
    static final int PER_THREAD = 50_000;
    static final int SLEEPERS = 8;

    /** Threads of this JVM, platform or virtual, for the contended-lock figures. */
    @State(Scope.Benchmark)
    public static class ThreadKind {
        @Param({"platform", "virtual"})
        public String kind;

        Lock lock;
        long[] counter = new long[1];

        @Setup(Level.Trial)
        public void setUp() {
            lock = new Lock();
        }

        /** Runs {@code n} threads of the kind, each running {@code body}, and waits for them. */
        void runAll(int n, Runnable body) {
            Thread.Builder builder = kind.equals("virtual") ? Thread.ofVirtual() : Thread.ofPlatform();
            List<Thread> threads = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                threads.add(builder.start(body));
            }
            try {
                for (Thread t : threads) {
                    t.join();
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }

        @TearDown(Level.Trial)
        public void check() {
            if (lock.locked()) {
                throw new IllegalStateException("the lock is still held");
            }
        }
    }

    /**
     * {@value #THREADS} threads of this JVM (platform or virtual) each do {@value #PER_THREAD}
     * increments of a counter under one Lock: the contended figure of lockContended2Processes,
     * with threads of one process, where a virtual thread's hand-off is an unpark and a
     * platform thread's a futex wake.
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(THREADS * PER_THREAD)
    @Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "-Djdk.virtualThreadScheduler.parallelism=2"})
    public void lockContendedThreads(ThreadKind s) {
        Lock lock = s.lock;
        long[] counter = s.counter;
        s.runAll(THREADS, () -> {
            for (int i = 0; i < PER_THREAD; i++) {
                lock.acquire();
                counter[0]++;
                lock.release();
            }
        });
    }

    /**
     * Issue 12's case: {@value #SLEEPERS} threads each take one Lock and sleep 5 ms inside it
     * (ms until all are done; 40 ms of it is the sleeps). With virtual threads on 2 carriers,
     * the waiters must leave their carriers for the sleeping owner.
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "-Djdk.virtualThreadScheduler.parallelism=2"})
    public void lockSleepInside(ThreadKind s) {
        Lock lock = s.lock;
        s.runAll(SLEEPERS, () -> {
            lock.acquire();
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                lock.release();
            }
        });
    }
}
