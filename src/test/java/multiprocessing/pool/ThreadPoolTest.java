package multiprocessing.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import multiprocessing.ProcessError;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** ThreadPool: Pool's interface on threads of this JVM. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ThreadPoolTest {
    static final AtomicInteger INITIALIZED = new AtomicInteger();

    /**
     * A thread pool's results are delivered by its worker threads: the progress listener still
     * gets one call at a time, never going back (it saw 4065 then 4064, and overlapping
     * calls, attack 22b).
     */
    @Test
    void progressIsReportedOneCallAtATimeNeverGoingBack() throws Exception {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger backwards = new AtomicInteger();
        long[] last = {-1};
        List<Long> finals = Collections.synchronizedList(new ArrayList<>());
        try (ThreadPool pool = new ThreadPool(4)) {
            pool.onProgress((done, total) -> {
                if (inside.getAndIncrement() != 0) {
                    overlaps.incrementAndGet();
                }
                if (done < last[0]) {
                    backwards.incrementAndGet();
                }
                last[0] = done;
                if (done == total) {
                    finals.add(done);
                }
                inside.decrementAndGet();
            });
            for (int round = 0; round < 3; round++) {
                last[0] = -1;
                pool.map(x -> x + 1, IntStream.range(0, 20_000).boxed().toList(), 1);
            }
            last[0] = -1;
            pool.imap(x -> x + 1, IntStream.range(0, 20_000).boxed().toList(), 1)
                    .forEachRemaining(x -> { });
        }
        assertEquals(0, overlaps.get(), "calls that overlapped");
        assertEquals(0, backwards.get(), "reports that went back");
        assertTrue(finals.contains(20_000L), "the last report says all done: " + finals);
    }

    /**
     * Callbacks and error callbacks run one at a time, as on a process pool's one result
     * thread and on Python's thread pool: a callback that adds to a plain list loses nothing.
     * The worker threads ran them side by side (review 49).
     */
    @Test
    void callbacksRunOneAtATime() throws Exception {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        List<Object> seen = new ArrayList<>();
        java.util.function.Consumer<Object> note = x -> {
            if (inside.getAndIncrement() != 0) {
                overlaps.incrementAndGet();
            }
            long until = System.nanoTime() + 20_000;
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            seen.add(x);
            inside.decrementAndGet();
        };
        List<AsyncResult<?>> results = new ArrayList<>();
        try (ThreadPool pool = new ThreadPool(8)) {
            for (int i = 0; i < 1_000; i++) {
                int n = i;
                results.add(i % 2 == 0 ? pool.applyAsync(() -> n, note::accept, null)
                        : pool.applyAsync(() -> {
                            throw new IllegalStateException("task " + n);
                        }, null, note::accept));
            }
            results.add(pool.mapAsync(x -> x, IntStream.range(0, 100).boxed().toList(), 1,
                    note::accept, null));
            for (AsyncResult<?> r : results) {
                r.await();
            }
        }
        assertEquals(0, overlaps.get(), "callbacks that overlapped");
        assertEquals(1_001, seen.size());
    }

    /**
     * Callbacks run one at a time: one that waits for a result whose own callback must run
     * first (it has one for either outcome) is refused at once (it waited for good, attack 46);
     * a wait for a result whose outcome has no callback, or with a time limit, is not (attack
     * 47: they were refused).
     */
    @Test
    void aCallbackWaitingBehindAnotherCallbackIsRefused() throws Exception {
        try (ThreadPool pool = new ThreadPool(2)) {
            java.util.concurrent.atomic.AtomicReference<Object> behind =
                    new java.util.concurrent.atomic.AtomicReference<>();
            AsyncResult<Integer> outer = pool.applyAsync(() -> 1, v -> {
                try {
                    behind.set(pool.applyAsync(() -> 2, x -> { }, e -> { }).get());
                } catch (Throwable t) {
                    behind.set(t);
                }
            }, null);
            assertEquals(1, outer.get(Duration.ofSeconds(20)));
            assertInstanceOf(IllegalStateException.class, behind.get());
            java.util.concurrent.atomic.AtomicReference<Object> onlyOnFailure =
                    new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicReference<Object> polled =
                    new java.util.concurrent.atomic.AtomicReference<>();
            AsyncResult<Integer> second = pool.applyAsync(() -> 1, v -> {
                try {
                    onlyOnFailure.set(pool.applyAsync(() -> 7, null, e -> { }).get());
                    AsyncResult<Integer> slow = pool.applyAsync(() -> {
                        Thread.sleep(200);
                        return 8;
                    }, x -> { }, e -> { });
                    polled.set(slow.await(Duration.ZERO));
                } catch (Throwable t) {
                    onlyOnFailure.set(t);
                }
            }, null);
            assertEquals(1, second.get(Duration.ofSeconds(20)));
            assertEquals(7, onlyOnFailure.get());
            assertEquals(false, polled.get());
        }
    }

    /**
     * A map reads its iterable in the caller, as Python's does: once the pool is terminated it
     * stops at the next item with IllegalStateException. An iterable that blocked, then went on
     * without end, was read after terminate() until the heap ran out (attack 45).
     */
    @Test
    void aMapStopsReadingItsIterableOnceThePoolIsTerminated() throws Exception {
        java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        AtomicInteger pulled = new AtomicInteger();
        Iterable<Integer> stalls = () -> new java.util.Iterator<>() {
            @Override
            public boolean hasNext() {
                return pulled.get() < 2_000_000;
            }

            @Override
            public Integer next() {
                if (pulled.get() == 3) {
                    reading.countDown();
                    try {
                        gate.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return pulled.incrementAndGet();
            }
        };
        ThreadPool pool = new ThreadPool(1);
        java.util.concurrent.atomic.AtomicReference<Throwable> outcome =
                new java.util.concurrent.atomic.AtomicReference<>();
        Thread mapper = new Thread(() -> {
            try {
                pool.map(x -> x, stalls);
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        mapper.start();
        assertTrue(reading.await(20, java.util.concurrent.TimeUnit.SECONDS));
        pool.terminate();
        gate.countDown();
        mapper.join(20_000);
        assertInstanceOf(IllegalStateException.class, outcome.get());
        assertTrue(pulled.get() <= 5, pulled.get() + " items read after terminate()");
    }

    /**
     * Closing an imap whose iterable is blocked in next() (a queue's take()) interrupts the
     * thread that reads it, so the pool's close() returns: it waited for the iterable's next
     * item (attack 46).
     */
    @Test
    void closingAnImapInterruptsItsBlockedIterable() throws Exception {
        java.util.concurrent.LinkedBlockingQueue<Integer> source =
                new java.util.concurrent.LinkedBlockingQueue<>(List.of(1, 2, 3, 4, 5));
        Iterable<Integer> blocking = () -> new java.util.Iterator<>() {
            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Integer next() {
                try {
                    return source.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
        };
        ThreadPool pool = new ThreadPool(2);
        try {
            IMapIterator<Integer> it = pool.imap(x -> x * 10, blocking);
            for (int i = 1; i <= 5; i++) {
                assertEquals(i * 10, it.next(Duration.ofSeconds(20)));
            }
            it.close();
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20),
                    () -> pool.close());
        } finally {
            pool.terminate();
        }
    }

    /**
     * A worker thread whose delivery of results throws (an OutOfMemoryError of a heap filled
     * by results nobody reads) neither dies nor leaves the job's caller waiting: the job hears
     * the error and the thread runs the pool's next chunk (attack 22b: both worker threads died
     * and the caller's next() waited forever).
     */
    @Test
    void aWorkerThreadWhoseDeliveryThrowsLivesOnAndTheCallerHearsOfIt() throws Exception {
        List<Throwable> aborted = Collections.synchronizedList(new ArrayList<>());
        List<Object> delivered = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger deliveries = new AtomicInteger();
        multiprocessing.SerializableFunction<Integer, Integer> inc = x -> x + 1;
        Job job = new Job(1, Job.MAP, inc, null, null) {
            @Override
            void done(Chunk chunk, List<?> results) {
                if (deliveries.getAndIncrement() == 0) {
                    throw new OutOfMemoryError("Java heap space (a test's)");
                }
                delivered.addAll(results);
            }

            @Override
            void failed(Chunk chunk, Throwable error) {
                delivered.add(error);
            }

            @Override
            void abort(Throwable error) {
                aborted.add(error);
            }
        };
        ThreadEngine engine = new ThreadEngine(1, null);
        try {
            engine.submit(new Chunk(job, 0, List.of(1)));
            engine.submit(new Chunk(job, 1, List.of(2)));
            engine.close();
            assertTrue(engine.awaitExit(Duration.ofSeconds(10)), "the thread ran both chunks");
        } finally {
            engine.terminate();
        }
        assertEquals(1, aborted.size(), "the job heard of the failed delivery: " + aborted);
        assertInstanceOf(ProcessError.class, aborted.get(0));
        assertInstanceOf(OutOfMemoryError.class, aborted.get(0).getCause());
        assertEquals(List.of(3), delivered, "the one thread lived on to run the next chunk");
    }

    @Test
    void poolInterfaceOnThreads() throws Exception {
        INITIALIZED.set(0);
        try (ThreadPool pool = new ThreadPool(3, INITIALIZED::incrementAndGet)) {
            Object local = new Object();  // nothing is serialized
            assertEquals(local, pool.apply(() -> local));
            assertEquals(ProcessHandle.current().pid(), pool.apply(() -> ProcessHandle.current().pid()));
            List<Integer> items = IntStream.range(0, 500).boxed().toList();
            assertEquals(items.stream().map(x -> x * 3).toList(), pool.map(x -> x * 3, items));
            assertEquals(items.stream().map(x -> x * 3).toList(), pool.map(x -> x * 3, items, 1));
            assertEquals(List.of(3, 7), pool.starmap((Integer a, Integer b) -> a + b,
                    List.of(Map.entry(1, 2), Map.entry(3, 4))));
            List<Integer> got = new ArrayList<>();
            pool.<Integer, Integer>imapUnordered(x -> x, items, 7).forEachRemaining(got::add);
            Collections.sort(got);
            assertEquals(items, got);
            assertThrows(ArithmeticException.class, () -> pool.map(x -> 1 / x, List.of(1, 0)));
            AsyncResult<Integer> r = pool.applyAsync(() -> 5);
            assertEquals(5, r.get(Duration.ofSeconds(5)));
            assertTrue(r.successful());
            // Every thread runs it as it starts; on a loaded machine the last may start late.
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (INITIALIZED.get() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(3, INITIALIZED.get(), "initializer once per thread");
            assertTrue(pool.workerPids().isEmpty());
        }
    }

    @Test
    void terminateFailsRunningTasksAndMisuseIsRefused() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> new ThreadPool(0));
        ThreadPool pool = new ThreadPool(1);
        assertThrows(IllegalStateException.class, pool::join);
        AsyncResult<Integer> running = pool.applyAsync(() -> {
            Thread.sleep(60_000);
            return 1;
        });
        AsyncResult<Integer> queued = pool.applyAsync(() -> 2);
        Thread.sleep(100);
        pool.terminate();
        assertInstanceOf(ProcessError.class,
                assertThrows(ExecutionException.class, () -> running.get(Duration.ofSeconds(5))).getCause());
        assertInstanceOf(ProcessError.class,
                assertThrows(ExecutionException.class, () -> queued.get(Duration.ofSeconds(5))).getCause());
        pool.join();
        assertThrows(IllegalStateException.class, () -> pool.apply(() -> 1));
    }
}
