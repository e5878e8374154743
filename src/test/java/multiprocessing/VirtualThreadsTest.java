package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

import multiprocessing.connection.Client;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Connections;
import multiprocessing.connection.Listener;
import multiprocessing.connection.Pipe;
import multiprocessing.pool.AsyncResult;
import multiprocessing.pool.ThreadPool;
import multiprocessing.synchronize.Barrier;
import multiprocessing.synchronize.Condition;
import multiprocessing.synchronize.Event;
import multiprocessing.synchronize.Lock;
import multiprocessing.synchronize.Semaphore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Virtual threads block in the library's calls without holding their carriers: each workload
 * runs in a child JVM whose virtual thread scheduler has 2 carriers and may not add any
 * ({@code -Djdk.virtualThreadScheduler.parallelism=2 -Djdk.virtualThreadScheduler.maxPoolSize=2},
 * as on a 2-CPU machine), with far more virtual threads blocked at once than carriers, so a call
 * that held its carrier would leave nobody to run the thread that unblocks them: the child would
 * hang, and its join here times out (a failure, never a hang of the suite). Each child records
 * JFR's {@code jdk.VirtualThreadPinned} events and reports those with a frame of the library.
 *
 * <p>Each workload runs twice in its child, the first time unrecorded: the first use of
 * anything in a JVM loads, links and initializes classes, and a virtual thread that waits for
 * another thread to initialize a class, or for a lock while the VM loads one for it, pins its
 * carrier (JDK 24+ unpins monitors, not class loading or initialization), whatever the class.
 * That lasts a moment and cannot deadlock (the loading thread keeps its carrier until done);
 * the recorded run checks what stays: no pinning at all with a frame of the library.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class VirtualThreadsTest {
    /** The scheduler of a 2-CPU machine, with no compensating carriers. */
    static final String[] TWO_CARRIERS = {
        "-Djdk.virtualThreadScheduler.parallelism=2", "-Djdk.virtualThreadScheduler.maxPoolSize=2"};

    private static Context twoCarriers(String... more) {
        return Multiprocessing.getContext("spawn").withJvmOptions(TWO_CARRIERS)
                .withJvmOptions(more);
    }

    /** What a child reports: a count its workload checks, and the pinning JFR saw in the library. */
    record Report(int child, long count, long expected, List<String> pinnedInLibrary,
            String failure) implements Serializable {}

    /**
     * Runs each target in a child with two carriers (and {@code options}), and returns their
     * reports in the order of the targets, failing if one is not in within {@code limit}.
     */
    private static Report[] runInChildren(Queue<Report> reports, Duration limit, String[] options,
            SerializableRunnable... targets) throws Exception {
        List<Process> children = new ArrayList<>();
        try {
            for (SerializableRunnable target : targets) {
                Process child = twoCarriers(options).process(target);
                children.add(child);
                child.start();
            }
            Report[] got = new Report[targets.length];
            long deadline = System.nanoTime() + limit.toNanos();
            for (int i = 0; i < targets.length; i++) {
                Report r = reports.get(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
                got[r.child()] = r;
            }
            for (Process child : children) {
                child.join(Duration.ofSeconds(30));
                assertEquals(0, child.exitCode(), "the exit code of " + child);
            }
            return got;
        } catch (EmptyException e) {
            throw new AssertionError("the children's virtual threads did not finish within "
                    + limit + " (blocked calls holding both carriers?)", e);
        } finally {
            for (Process child : children) {
                if (child.isAlive()) {
                    child.kill();
                    child.join();
                }
                child.close();
            }
        }
    }

    private static Report runInChild(Queue<Report> reports, SerializableRunnable target,
            Duration limit) throws Exception {
        return runInChildren(reports, limit, new String[0], target)[0];
    }

    private static void assertComplete(Report r) {
        assertEquals(null, r.failure(), "the child's workload failed");
        assertEquals(r.expected(), r.count(), "the child's count");
        assertTrue(r.pinnedInLibrary().isEmpty(),
                "virtual threads pinned in the library: " + r.pinnedInLibrary());
    }

    // ---------------------------------------------------------------- the workloads (children)

    /**
     * Runs {@code work} once unrecorded (a first use: see the class comment), then again with
     * JFR recording pinning; the report carries what the second run counted.
     */
    static Report recordPinning(long expected, Work work) {
        return recordPinning(0, expected, work);
    }

    /** As {@link #recordPinning(long, Work)}, for child number {@code child} of several. */
    static Report recordPinning(int child, long expected, Work work) {
        List<String> pinned = new ArrayList<>();
        long count;
        String failure = null;
        try {
            count = work.run();
            if (count != expected) {
                return new Report(child, count, expected, pinned, "the first, unrecorded run");
            }
        } catch (Throwable t) {
            return new Report(child, -1, expected, pinned, "the first, unrecorded run: " + t);
        }
        try (Recording recording = new Recording()) {
            recording.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
            // The library's own events are on by default in any recording. Committing one can
            // pin its virtual thread for a moment inside Flight Recorder's writer (a contended
            // monitor in the JDK's commit path, seen when a queue put had waited): a cost of
            // recording them, not of the waits this test is about, so they are off here.
            for (String event : List.of("LockWait", "QueuePut", "QueueGet", "ProcessStart",
                    "ProcessEnd", "PoolTask", "ManagerCall")) {
                recording.disable("multiprocessing." + event);
            }
            recording.start();
            try {
                count = work.run();
            } catch (Throwable t) {
                count = -1;
                failure = t.toString();
            }
            recording.stop();
            Path file = Files.createTempFile("pinned", ".jfr");
            try {
                recording.dump(file);
                for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                    // Only the pinning events: the library's own (multiprocessing.LockWait, ...)
                    // are in the recording too, with library frames and no pinnedReason.
                    if (e.getEventType().getName().equals("jdk.VirtualThreadPinned")
                            && e.getStackTrace() != null && e.getStackTrace().getFrames().stream()
                            .anyMatch(VirtualThreadsTest::libraryFrame)) {
                        pinned.add(e.getString("pinnedReason") + " ("
                                + e.getString("blockingOperation") + ") at "
                                + e.getStackTrace().getFrames().stream().limit(12)
                                .map(f -> f.getMethod().getType().getName() + "."
                                        + f.getMethod().getName())
                                .toList());
                    }
                }
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return new Report(child, count, expected, pinned, failure);
    }

    private static boolean libraryFrame(RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        return type.startsWith("multiprocessing.") && !type.startsWith(VirtualThreadsTest.class.getName());
    }

    interface Work {
        long run() throws Exception;
    }

    /** Starts {@code n} virtual threads running {@code body(i)} and waits for them all. */
    static void inVirtualThreads(int n, IntBody body) throws InterruptedException {
        List<Thread> threads = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int k = i;
            threads.add(Thread.ofVirtual().name("vt-" + i).start(() -> {
                try {
                    body.run(k);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
    }

    interface IntBody {
        void run(int i) throws Exception;
    }

    // ---------------------------------------------------------------- lock

    static final int LOCK_THREADS = 10_000;

    /**
     * 10,000 virtual threads contend for one Lock and sleep inside it: the owner sleeps (and so
     * leaves its carrier) while thousands wait, and must get a carrier back to release.
     */
    @Test
    void tenThousandVirtualThreadsContendALockWithASleepInside() throws Exception {
        Lock lock = new Lock();
        Queue<Report> reports = new Queue<>();
        Report r = runInChild(reports, () -> reports.put(recordPinning(LOCK_THREADS, () -> {
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            int[] counter = {0};
            inVirtualThreads(LOCK_THREADS, i -> {
                lock.acquire();
                try {
                    if (inside.incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    Thread.sleep(Duration.ofNanos(20_000));
                    counter[0]++;
                    inside.decrementAndGet();
                } finally {
                    lock.release();
                }
            });
            return overlaps.get() == 0 ? counter[0] : -overlaps.get();
        })), Duration.ofSeconds(120));
        assertComplete(r);
        assertFalse(lock.locked());
    }

    // ---------------------------------------------------------------- every blocking call

    /** Virtual threads blocked in each kind of call at once: more of each than carriers. */
    static final int PER_KIND = 3;

    /**
     * Three virtual threads block in each of the library's blocking calls at once (a semaphore,
     * a condition, an event, a barrier, a queue's get and a full queue's put, a joinable queue's
     * join, a connection's recv and poll, connection.wait, a listener's accept, a process's
     * join, a thread pool's result), then one more virtual thread releases them all: it needs a
     * carrier, which none of the blocked threads may hold.
     */
    @Test
    void everyBlockingCallParksItsVirtualThread() throws Exception {
        Queue<Report> reports = new Queue<>();
        Report r = runInChild(reports, () -> reports.put(recordPinning(14 * PER_KIND,
                VirtualThreadsTest::blockInEveryCall)), Duration.ofSeconds(120));
        assertComplete(r);
    }

    static long blockInEveryCall() throws Exception {
        Semaphore semaphore = new Semaphore(0);
        Condition condition = new Condition();
        boolean[] signalled = {false};
        Event event = new Event();
        Barrier barrier = new Barrier(PER_KIND + 1);
        Queue<Integer> empty = new Queue<>();
        Queue<Integer> full = new Queue<>(1);
        full.put(-1);
        JoinableQueue<Integer> unfinished = new JoinableQueue<>();
        unfinished.put(0);
        Connection[][] recvPipes = new Connection[PER_KIND][];
        Connection[][] pollPipes = new Connection[PER_KIND][];
        for (int i = 0; i < PER_KIND; i++) {
            Pipe p = Pipe.open(false);
            recvPipes[i] = new Connection[] {p.left(), p.right()};
            Pipe q = Pipe.open(true); // a socket pair: recvmsg, where the other is a pipe
            pollPipes[i] = new Connection[] {q.left(), q.right()};
        }
        Pipe waited = Pipe.open(false);
        Event release = new Event();
        // Daemon: if this child is killed (a failed run), its grandchild ends with it.
        Process grandchild = Process.builder().daemon(true).target(() -> release.await()).build();
        grandchild.start();
        AtomicLong done = new AtomicLong();
        AtomicInteger blocking = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        try (Listener listener = new Listener(); ThreadPool pool = new ThreadPool(1)) {
            AsyncResult<String> result = pool.applyAsync(() -> {
                release.await();
                return "result";
            });
            List<IntBody> kinds = List.of(
                    i -> semaphore.acquire(),
                    i -> {
                        condition.acquire();
                        try {
                            while (!signalled[0]) {
                                condition.await();
                            }
                        } finally {
                            condition.release();
                        }
                    },
                    i -> event.await(),
                    i -> barrier.await(),
                    i -> empty.get(),
                    i -> full.put(i),
                    i -> unfinished.join(),
                    i -> recvPipes[i][0].recv(),
                    i -> {
                        if (!pollPipes[i][0].poll(Duration.ofSeconds(60))) {
                            throw new IllegalStateException("poll timed out");
                        }
                    },
                    i -> Connections.await(List.of(waited.left()), null),
                    i -> listener.accept().close(),
                    i -> grandchild.join(),
                    i -> {
                        if (!"result".equals(result.get())) {
                            throw new IllegalStateException("wrong result");
                        }
                    },
                    i -> semaphore.acquire()); // a second kind on one word, woken in turn
            for (IntBody kind : kinds) {
                for (int i = 0; i < PER_KIND; i++) {
                    int k = i;
                    threads.add(Thread.ofVirtual().start(() -> {
                        blocking.incrementAndGet();
                        try {
                            kind.run(k);
                            done.incrementAndGet();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }));
                }
            }
            CountDownLatch released = new CountDownLatch(1);
            Thread releaser = Thread.ofVirtual().start(() -> {
                try {
                    while (blocking.get() < threads.size()) {
                        Thread.sleep(10);
                    }
                    Thread.sleep(500); // let them all block
                    for (int i = 0; i < 2 * PER_KIND; i++) {
                        semaphore.release();
                    }
                    condition.acquire();
                    signalled[0] = true;
                    condition.signalAll();
                    condition.release();
                    event.set();
                    barrier.await();
                    for (int i = 0; i < PER_KIND; i++) {
                        empty.put(i);
                        full.get();
                        recvPipes[i][1].send(i);
                        pollPipes[i][1].send(i);
                        Client.connect(listener.address()).close();
                    }
                    unfinished.get();
                    unfinished.taskDone();
                    waited.right().send("ready");
                    release.set();
                    released.countDown();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            for (Thread t : threads) {
                t.join();
            }
            releaser.join();
            if (released.getCount() != 0) {
                throw new IllegalStateException("the releaser failed");
            }
        } finally {
            release.set();
            grandchild.join();
        }
        return done.get();
    }

    // ---------------------------------------------------------------- two processes

    static final int PRODUCERS = 100;
    static final int CONSUMERS = 100;
    static final int ITEMS_EACH = 50;

    /**
     * Virtual threads in two processes exchange items through a bounded Queue (producers wait
     * for room, consumers for items, each woken from the other process) and then wait on an
     * Event the last consumer sets; with futex_waitv, and with the one-word watchers of kernels
     * without it.
     */
    @ParameterizedTest(name = "futex_waitv: {0}")
    @ValueSource(booleans = {true, false})
    void virtualThreadsOfTwoProcessesExchangeThroughAQueueAndWaitOnAnEvent(boolean waitv)
            throws Exception {
        Queue<Integer> items = new Queue<>(8);
        Event[] allTaken = {new Event(), new Event()}; // one per run: see recordPinning
        Queue<Report> reports = new Queue<>();
        int total = PRODUCERS * ITEMS_EACH;
        long sum = (long) total * (total - 1) / 2;
        Report[] r = runInChildren(reports, Duration.ofSeconds(150),
                waitv ? new String[0] : new String[] {"-Dmultiprocessing.wait.noFutexWaitv=true"},
                () -> {
                    AtomicInteger round = new AtomicInteger();
                    reports.put(recordPinning(0, PRODUCERS, () -> {
                        Event done = allTaken[round.getAndIncrement()];
                        AtomicLong finished = new AtomicLong();
                        inVirtualThreads(PRODUCERS, i -> {
                            for (int j = 0; j < ITEMS_EACH; j++) {
                                items.put(i * ITEMS_EACH + j);
                            }
                            done.await();
                            finished.incrementAndGet();
                        });
                        return finished.get();
                    }));
                },
                () -> {
                    AtomicInteger round = new AtomicInteger();
                    reports.put(recordPinning(1, sum, () -> {
                        Event done = allTaken[round.getAndIncrement()];
                        AtomicLong got = new AtomicLong();
                        AtomicInteger consumers = new AtomicInteger();
                        inVirtualThreads(CONSUMERS, i -> {
                            for (int j = 0; j < ITEMS_EACH; j++) {
                                got.addAndGet(items.get());
                            }
                            if (consumers.incrementAndGet() == CONSUMERS) {
                                done.set();
                            }
                            done.await();
                        });
                        return got.get();
                    }));
                });
        assertComplete(r[0]);
        assertComplete(r[1]);
        assertTrue(items.empty());
    }

    // ---------------------------------------------------------------- pipes without RWF_NOWAIT

    /**
     * Where the kernel refuses RWF_NOWAIT for pipes, a virtual thread polls before it reads and
     * writes at most PIPE_BUF bytes at once: virtual threads exchange messages larger than a
     * pipe's buffer both ways over one-way pipes with that path forced.
     */
    @Test
    void virtualThreadsUseOneWayPipesWhereTheKernelHasNoRwfNowait() throws Exception {
        Queue<Report> reports = new Queue<>();
        int messages = 20;
        Report r = runInChildren(reports, Duration.ofSeconds(120),
                new String[] {"-Dmultiprocessing.posix.noRwfNowait=true"},
                () -> reports.put(recordPinning(2L * messages * (1 << 20), () -> {
                    Pipe there = Pipe.open(false);
                    Pipe back = Pipe.open(false);
                    AtomicLong bytes = new AtomicLong();
                    inVirtualThreads(4, i -> {
                        switch (i) {
                            case 0 -> { // sends, then receives the echoes
                                for (int m = 0; m < messages; m++) {
                                    there.right().sendBytes(new byte[1 << 20]);
                                }
                            }
                            case 1 -> { // echoes
                                for (int m = 0; m < messages; m++) {
                                    byte[] got = there.left().recvBytes();
                                    bytes.addAndGet(got.length);
                                    back.right().sendBytes(got);
                                }
                            }
                            default -> { // two receivers of the echoes, one message at a time
                                for (int m = 0; m < messages / 2; m++) {
                                    bytes.addAndGet(back.left().recvBytes().length);
                                }
                            }
                        }
                    });
                    there.close();
                    back.close();
                    return bytes.get();
                })))[0];
        assertComplete(r);
    }
}
