package multiprocessing.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.Process;
import multiprocessing.ProcessError;
import multiprocessing.RemoteTraceback;
import multiprocessing.SerializableCallable;
import multiprocessing.SerializableFunction;
import multiprocessing.TimeoutError;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A process pool across real worker JVMs. One pool of two workers serves most checks (child
 * JVMs are expensive); the lifecycle checks use pools of their own.
 */
@ExtendWith(NoLeftoverProcesses.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PoolTest {
    private Pool pool;

    @BeforeAll
    void startPool() {
        pool = Pool.builder().processes(2).build();
    }

    @AfterAll
    void closePool() throws Exception {
        List<Long> pids = pool.workerPids();
        pool.close();
        pool.join();
        assertAllGone(pids);
        assertTrue(pool.workerPids().isEmpty());
    }

    /**
     * A worker with nothing to do lets go of what its last jobs' functions captured: a 1 MiB
     * shared array a map's function captured leaves /dev/shm while the pool lives on, this
     * process having dropped it when the map returned. Workers kept the functions of their
     * last 8 jobs, and the array with them, as long as the pool lived (attack 29); and then
     * this process, which had let go of it first, freed it only when it next allocated
     * (attack 32).
     */
    @Test
    void anIdleWorkerLetsGoOfTheSharedMemoryItsLastJobCaptured() throws Exception {
        assertArenaLeaves(mapOverANewArray(), "with the pool idle");
    }

    /**
     * A task that leaves a non-daemon thread running (a library's background thread, started
     * by a class the task loaded) holds no worker at close: the worker ends once its work is
     * sent. Its JVM waited for that thread, and the pool's close() and join() (the end of a
     * try-with-resources) for good, as Python's do (attack 48).
     */
    @Test
    void aThreadATaskLeftRunningHoldsNoWorkerAtClose() throws Exception {
        Pool own = Pool.builder().processes(1).build();
        List<Long> pids;
        try {
            assertEquals(7, own.apply(() -> {
                Thread t = new Thread(() -> {
                    try {
                        Thread.sleep(Long.MAX_VALUE);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                t.start();
                return 7;
            }));
            pids = own.workerPids();
        } finally {
            own.close();
        }
        own.join(); // within the class's timeout
        assertAllGone(pids);
    }

    /**
     * A worker replaced under maxTasksPerChild gives the threads its task left running time to
     * end: a thread that was writing a file finishes it. Ended at once, its file stayed empty
     * (attack 49).
     */
    @Test
    void aWorkerReplacedLetsAThreadItsTaskLeftFinish(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) throws Exception {
        String file = dir.resolve("written").toString();
        try (Pool own = Pool.builder().processes(1).maxTasksPerChild(1).build()) {
            assertEquals(1, own.apply(() -> {
                new Thread(() -> {
                    try {
                        Thread.sleep(300);
                        java.nio.file.Files.writeString(java.nio.file.Path.of(file), "done");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }).start();
                return 1;
            }));
            assertEquals(2, own.apply(() -> 2)); // on the worker that replaced it
        }
        assertEquals("done", java.nio.file.Files.readString(java.nio.file.Path.of(file)));
    }

    /**
     * Collects garbage (this process's own hold goes: nothing here allocates any more) until
     * {@code arena} leaves /dev/shm, 15 s at most, then asserts it has.
     */
    private static void assertArenaLeaves(String arena, String when) throws InterruptedException {
        java.nio.file.Path file = java.nio.file.Path.of("/dev/shm", arena.substring(1));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (java.nio.file.Files.exists(file) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(100);
        }
        assertFalse(java.nio.file.Files.exists(file),
                "the array's arena " + arena + " is still held " + when);
    }

    /**
     * A call whose function captured a shared array and that sends no chunk (a map of nothing,
     * an imap of an empty iterable) gives back what the function counted: the array's arena
     * leaves /dev/shm once this process drops it. It stayed until the process exited
     * (review 49).
     */
    @Test
    void aCallThatSendsNoChunkLetsGoOfWhatItsFunctionCaptured() throws Exception {
        assertArenaLeaves(callsThatSendNothingOverANewArray(), "by calls that sent nothing");
    }

    private String callsThatSendNothingOverANewArray() throws Exception {
        List<String> added = new ArrayList<>();
        multiprocessing.sharedctypes.RawArray big = newArray(added);
        assertEquals(List.of(), pool.map(i -> big.length(), List.<Integer>of()));
        assertEquals(List.of(), pool.mapAsync(i -> big.length(), List.<Integer>of(), 3).get());
        assertFalse(pool.imap(i -> big.length(), List.<Integer>of()).hasNext());
        assertFalse(pool.imapUnordered(i -> big.length(), () -> Collections.emptyIterator(), 2)
                .hasNext());
        return added.get(0);
    }

    /**
     * A pool the program drops without close() or terminate() is closed once it is found
     * unreachable: its workers exit, as Python's pool finalizer ends them. They stayed until
     * the program exited (attack 45: ten dropped pools left twenty idle JVMs).
     */
    @Test
    void aPoolDroppedWithoutCloseEndsItsWorkers() throws Exception {
        List<Long> pids = dropAPool();
        assertEquals(2, pids.size(), pids.toString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (pids.stream().anyMatch(pid -> ProcessHandle.of(pid).isPresent())
                && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(100);
        }
        assertAllGone(pids);
    }

    private static List<Long> dropAPool() throws Exception {
        Pool dropped = Pool.builder().processes(2).build();
        assertEquals(List.of(1, 2), dropped.map(x -> x, List.of(1, 2), 1));
        return dropped.workerPids();
    }

    /** A new 1 MiB shared array, the one arena it added put in {@code added}. */
    private static multiprocessing.sharedctypes.RawArray newArray(List<String> added) {
        Set<String> before = new HashSet<>(
                multiprocessing.internal.heap.Heap.ownedArenaNames());
        multiprocessing.sharedctypes.RawArray big =
                multiprocessing.sharedctypes.RawArray.of("b", 1 << 20);
        added.addAll(multiprocessing.internal.heap.Heap.ownedArenaNames());
        added.removeAll(before);
        assertEquals(1, added.size(), added.toString());
        return big;
    }

    /**
     * A callback that waits for another result of its own pool is refused with a clear
     * exception: the pool's one result thread, which would deliver that result, is the one
     * running the callback. It waited for good, as Python's does (attack 46).
     */
    @Test
    void waitingForAResultInOneOfThePoolsOwnCallbacksThrows() throws Exception {
        Pool own = Pool.builder().processes(1).build();
        try {
            AtomicReference<Throwable> fromApply = new AtomicReference<>();
            AtomicReference<Throwable> fromNext = new AtomicReference<>();
            AsyncResult<Integer> outer = own.applyAsync(() -> 1, v -> {
                try {
                    own.apply(() -> 2);
                } catch (Throwable t) {
                    fromApply.set(t);
                }
                try {
                    own.imap(x -> x, List.of(1)).next();
                } catch (Throwable t) {
                    fromNext.set(t);
                }
            }, null);
            assertEquals(1, outer.get(Duration.ofSeconds(30)));
            for (Throwable t : List.of(fromApply.get(), fromNext.get())) {
                assertInstanceOf(IllegalStateException.class, t);
                assertTrue(t.getMessage().contains("in one of that pool's callbacks"),
                        t.getMessage());
            }
            assertEquals(3, own.apply(() -> 3)); // the pool goes on
        } finally {
            terminateLeavingNoWorker(own);
        }
    }

    /** Maps with a function capturing a new 1 MiB array; the name of the array's arena. */
    private String mapOverANewArray() throws Exception {
        List<String> added = new ArrayList<>();
        multiprocessing.sharedctypes.RawArray big = newArray(added);
        assertEquals(List.of(1 << 20, 1 << 20, 1 << 20, 1 << 20),
                pool.map(i -> big.length(), List.of(0, 1, 2, 3), 1));
        return added.get(0);
    }

    static void assertAllGone(List<Long> pids) {
        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                    "worker " + pid + " outlived its pool");
        }
    }

    /** Ends a test's own pool whatever the test did, and checks its workers are gone. */
    static void terminateLeavingNoWorker(Pool p) throws InterruptedException {
        List<Long> pids = p.workerPids();
        p.terminate();
        p.join();
        assertAllGone(pids);
    }

    static final class Boom extends Exception {
        Boom(String message) {
            super(message);
        }
    }

    // ------------------------------------------------------------------ results

    /**
     * Callbacks that run on the submitting thread (an empty map's, a refused chunk's error
     * callback, an empty map's progress) may close the pool: the close used to wait for the
     * submit that called it back, for good (attack 28b). Each pool of one worker, closed by its
     * callback, then ends.
     */
    @Test
    void aCallbackOnTheSubmittingThreadMayCloseThePool() throws Exception {
        Pool one = Pool.builder().processes(1).build();
        try {
            AsyncResult<List<Integer>> empty = one.mapAsync(x -> (Integer) x, List.of(), 1,
                    l -> one.close(), null);
            assertEquals(List.of(), empty.get(30, TimeUnit.SECONDS));
            assertThrows(IllegalStateException.class, () -> one.map(x -> x, List.of(1)));
            one.join();
        } finally {
            one.terminate();
        }
        Pool two = Pool.builder().processes(1).build();
        try {
            Runnable unserializable = () -> { };
            AtomicReference<Throwable> told = new AtomicReference<>();
            assertThrows(IllegalArgumentException.class, () -> two.mapAsync(x -> x,
                    Arrays.asList(1, unserializable), 1, null, e -> {
                        told.set(e);
                        two.close();
                    }));
            assertInstanceOf(IllegalArgumentException.class, told.get());
            two.join();
        } finally {
            two.terminate();
        }
        Pool three = Pool.builder().processes(1).build();
        try {
            three.onProgress((done, total) -> three.close());
            assertEquals(List.of(), three.mapAsync(x -> x, List.of()).get(30, TimeUnit.SECONDS));
            three.join();
        } finally {
            three.terminate();
        }
    }

    @Test
    void applyRunsInAWorkerWithCapturedValues() throws Exception {
        String captured = "hello-" + System.nanoTime();
        long me = ProcessHandle.current().pid();
        String r = pool.apply(() -> captured + "@" + (ProcessHandle.current().pid() != me));
        assertEquals(captured + "@true", r);
        assertEquals(Integer.valueOf(42), pool.apply(() -> 6 * 7));
        assertEquals((Object) null, pool.<Object>apply(() -> null));
    }

    /**
     * A worker is named as Python names it, from its number among its creator's processes
     * (attack 58: a pool of its own numbering, so that workers of a child and of its parent
     * had the same names): after Process-N, SpawnPoolWorker-N+1 (SpawnPoolWorker-1:2 in a
     * child, as Process-1:2 is).
     */
    @Test
    void workersAreNumberedAsTheCreatorsProcessesAre() throws Exception {
        String before = new Process(() -> {}).name();
        int n = Integer.parseInt(before.substring("Process-".length()));
        try (Pool one = Pool.builder().processes(1).build()) {
            assertEquals("SpawnPoolWorker-" + (n + 1),
                    one.apply(() -> Multiprocessing.currentProcess().name()));
            one.close();
            one.join();
        }
    }

    /**
     * A function reaches every job as it was when the job was submitted: an array it holds
     * (which the task or the program may change) travels afresh each time, whether the same
     * lambda is sent again or a new one with equal bytes (attack 18b), while a function of
     * only immutable values may be written and rebuilt once.
     */
    @Test
    void aFunctionReachesEachJobAsItWasSubmitted() throws Exception {
        int[] counter = {0};
        SerializableCallable<Integer> bump = () -> ++counter[0];
        List<Integer> bumps = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            bumps.add(pool.apply(bump));
        }
        assertEquals(List.of(1, 1, 1, 1), bumps, "each job gets the array as sent");
        List<Integer> fresh = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int[] own = {0};
            fresh.add(pool.apply(() -> ++own[0]));
        }
        assertEquals(List.of(1, 1, 1, 1), fresh, "equal bytes, still a fresh copy");
        int[] factor = {1};
        SerializableFunction<Integer, Integer> times = x -> x * factor[0];
        assertEquals(List.of(1, 2, 3), pool.map(times, List.of(1, 2, 3)));
        factor[0] = 10;
        assertEquals(List.of(10, 20, 30), pool.map(times, List.of(1, 2, 3)),
                "the program's change is sent");
        int step = 5;
        SerializableFunction<Integer, Integer> plus = x -> x + step;
        for (int i = 0; i < 3; i++) {
            assertEquals(List.of(6, 7), pool.map(plus, List.of(1, 2)));
        }
    }

    @Test
    void mapKeepsOrderWithAnyChunksize() throws Exception {
        List<Integer> items = IntStream.range(0, 1000).boxed().toList();
        List<Integer> expected = items.stream().map(x -> x * x).toList();
        assertEquals(expected, pool.map(x -> x * x, items));
        assertEquals(expected, pool.map(x -> x * x, items, 1));
        assertEquals(expected, pool.map(x -> x * x, items, 7));
        assertEquals(expected, pool.map(x -> x * x, items, 5000));
        // "One chunk", however many items: the count of chunks overflowed and the map waited
        // forever (review 49).
        assertEquals(expected, pool.map(x -> x * x, items, Integer.MAX_VALUE));
        assertEquals(List.of(3, 7), pool.starmap((Integer a, Integer b) -> a + b,
                List.of(Map.entry(1, 2), Map.entry(3, 4)), Integer.MAX_VALUE - 1));
        assertEquals(List.of(), pool.map(x -> x, List.<Integer>of()));
        // A non-collection iterable is read in the caller, as Python's map lists it.
        Iterable<Integer> lazy = () -> items.iterator();
        assertEquals(expected, pool.mapAsync(x -> x * x, lazy).get());
    }

    @Test
    void defaultChunksizeIsPythons() {
        assertEquals(125_000, pool.defaultChunksize(1_000_000));
        assertEquals(2, pool.defaultChunksize(9));
        assertEquals(1, pool.defaultChunksize(8));
        assertEquals(0, pool.defaultChunksize(0));
    }

    @Test
    void starmapAppliesToKeyAndValue() throws Exception {
        List<Map.Entry<Integer, String>> pairs = List.of(Map.entry(1, "a"), Map.entry(2, "b"), Map.entry(3, "c"));
        assertEquals(List.of("a", "bb", "ccc"), pool.starmap((n, s) -> s.repeat(n), pairs));
        assertEquals(List.of("a", "bb", "ccc"), pool.starmap((n, s) -> s.repeat(n), pairs, 2));
        assertEquals(List.of("a", "bb", "ccc"), pool.starmapAsync((Integer n, String s) -> s.repeat(n), pairs, 1).get());
    }

    @Test
    void asyncResultsAndCallbacks() throws Exception {
        CountDownLatch called = new CountDownLatch(2);
        AtomicReference<Object> got = new AtomicReference<>();
        AtomicReference<Throwable> err = new AtomicReference<>();
        AsyncResult<Integer> ok = pool.applyAsync(() -> 5, r -> {
            got.set(r);
            called.countDown();
        }, e -> fail(e));
        AsyncResult<Integer> bad = pool.applyAsync(() -> {
            throw new IllegalStateException("bad");
        }, r -> fail("callback on failure"), e -> {
            err.set(e);
            called.countDown();
        });
        assertEquals(5, ok.get());
        assertTrue(called.await(10, TimeUnit.SECONDS));
        assertEquals(5, got.get());
        assertInstanceOf(IllegalStateException.class, err.get());
        assertTrue(ok.ready() && ok.successful());
        assertTrue(bad.await(Duration.ofSeconds(60)));
        assertFalse(bad.successful());
        ExecutionException e = assertThrows(ExecutionException.class, bad::get);
        assertInstanceOf(IllegalStateException.class, e.getCause());

        AsyncResult<Integer> slow = pool.applyAsync(() -> {
            Thread.sleep(1500);
            return 1;
        });
        assertThrows(IllegalStateException.class, slow::successful);
        assertFalse(slow.ready());
        assertThrows(TimeoutError.class, () -> slow.get(Duration.ofMillis(50)));
        assertEquals("no result within 50 milliseconds", assertThrows(
                java.util.concurrent.TimeoutException.class,
                () -> slow.get(50, TimeUnit.MILLISECONDS)).getMessage(), "it had none (attack 54)");
        assertFalse(slow.await(Duration.ofMillis(10)));
        assertFalse(slow.cancel(true), "a running task cannot be cancelled");
        assertEquals(1, slow.get(Duration.ofSeconds(20)));

        AsyncResult<List<Integer>> mapped = pool.mapAsync(x -> x + 1, List.of(1, 2, 3), 1);
        assertEquals(List.of(2, 3, 4), mapped.get(Duration.ofSeconds(20)));
    }

    // ------------------------------------------------------------------ errors

    @Test
    void taskExceptionsKeepTypeMessageAndWorkerTrace() throws Exception {
        long me = ProcessHandle.current().pid();
        Boom boom = assertThrows(Boom.class, () -> pool.apply(() -> {
            throw new Boom("from " + (ProcessHandle.current().pid() != me ? "worker" : "parent"));
        }));
        assertEquals("from worker", boom.getMessage());
        assertTrue(boom.getSuppressed().length > 0 && boom.getSuppressed()[0] instanceof RemoteTraceback,
                "suppressed RemoteTraceback");
        assertTrue(boom.getSuppressed()[0].getMessage().contains("PoolTest"), boom.getSuppressed()[0].getMessage());
        assertTrue(List.of(boom.getStackTrace()).stream().anyMatch(f -> f.getClassName().contains("Worker")
                || f.getClassName().contains("Tasks")), "the worker's frames are kept");

        ArithmeticException ae = assertThrows(ArithmeticException.class,
                () -> pool.map(x -> 10 / x, List.of(1, 2, 0, 4), 1));
        assertTrue(ae.getMessage().contains("/ by zero"));
    }

    @Test
    void unserializableResultsAndExceptionsFailClearlyAndThePoolGoesOn() throws Exception {
        ProcessError e = assertThrows(ProcessError.class, () -> pool.apply(() -> (Runnable) () -> { }));
        assertTrue(e.getMessage().contains("Error sending result"), e.getMessage());
        ProcessError e2 = assertThrows(ProcessError.class, () -> pool.apply(() -> {
            throw new NotSendable(() -> { });
        }));
        assertTrue(e2.getMessage().contains("NotSendable"), e2.getMessage());
        assertEquals(3, pool.apply(() -> 3));
        // Unserializable arguments are refused at the call, before anything is sent.
        Runnable local = () -> { };
        assertThrows(IllegalArgumentException.class, () -> pool.map(x -> 1, List.of(local)));
        assertThrows(IllegalArgumentException.class, () -> pool.apply(() -> local.hashCode()));
        assertEquals(4, pool.apply(() -> 4));
    }

    /**
     * A task's exception that cannot be described (its getMessage() throws) or sent (a cause
     * chain too deep to print or serialize) fails its task, not its worker: the worker used to
     * die of its own report, and the caller saw a lost worker.
     */
    @Test
    void anExceptionThatCannotBeDescribedOrSentFailsItsTaskNotItsWorker() throws Exception {
        ProcessError bomb = assertThrows(ProcessError.class, () -> pool.apply(() -> {
            throw new MessageThrows();
        }));
        assertFalse(bomb instanceof WorkerLostException, bomb.toString());
        assertTrue(bomb.getMessage().contains("MessageThrows (its message cannot be read")
                && bomb.getMessage().contains("cannot be sent"), bomb.getMessage());
        // Its own type, or a clear ProcessError: either way not a lost worker. (Not put into
        // an assertion's message: printing it is what overflowed the worker's stack.)
        Class<?> deep = null;
        try {
            pool.apply(() -> {
                RuntimeException e = new RuntimeException("0");
                for (int i = 1; i < 5_000; i++) { // deeper than the worker's stack can print
                    e = new RuntimeException(Integer.toString(i), e);
                }
                throw e;
            });
        } catch (RuntimeException thrown) {
            deep = thrown.getClass();
        }
        assertTrue(deep == RuntimeException.class || deep == ProcessError.class,
                String.valueOf(deep));
        assertEquals(5, pool.apply(() -> 5));
    }

    static final class MessageThrows extends RuntimeException {
        @Override
        public String getMessage() {
            throw new IllegalStateException("no message");
        }
    }

    static final class NotSendable extends RuntimeException {
        final Runnable notSerializable;

        NotSendable(Runnable notSerializable) {
            super("holds a lambda that is not serializable");
            this.notSerializable = notSerializable;
        }
    }

    @Test
    void anIterableThatThrowsMakesMapAndImapThrowIt() {
        Iterable<Integer> broken = () -> new Iterator<>() {
            int i;

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Integer next() {
                if (i == 3) {
                    throw new UnsupportedOperationException("iterable broke at 3");
                }
                return i++;
            }
        };
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> pool.map(x -> x, broken));
        assertEquals("iterable broke at 3", e.getMessage());
        Iterator<Integer> it = pool.imap(x -> x * 10, broken);
        assertEquals(0, it.next());
        assertEquals(10, it.next());
        assertEquals(20, it.next());
        assertThrows(UnsupportedOperationException.class, it::next);
        assertFalse(it.hasNext());
        assertThrows(NoSuchElementException.class, it::next);
    }

    // ------------------------------------------------------------------ imap

    @Test
    void imapInOrderAndUnordered() throws Exception {
        List<Integer> items = IntStream.range(0, 50).boxed().toList();
        List<Integer> got = new ArrayList<>();
        IMapIterator<Integer> it = pool.imap(x -> x + 1, items);
        while (it.hasNext()) {
            got.add(it.next());
        }
        assertEquals(items.stream().map(x -> x + 1).toList(), got);
        assertThrows(NoSuchElementException.class, it::next);

        List<Integer> unordered = new ArrayList<>();
        pool.<Integer, Integer>imapUnordered(x -> x * 2, items, 3).forEachRemaining(unordered::add);
        Collections.sort(unordered);
        assertEquals(items.stream().map(x -> x * 2).toList(), unordered);

        // A failing item throws at its position; iteration goes on after it.
        IMapIterator<Integer> withError = pool.imap(x -> 10 / x, List.of(5, 0, 2));
        assertEquals(2, withError.next());
        assertThrows(ArithmeticException.class, withError::next);
        assertEquals(5, withError.next());
        assertFalse(withError.hasNext());

        IMapIterator<Integer> slow = pool.imap(x -> {
            Thread.sleep(1000);
            return x;
        }, List.of(1));
        assertThrows(TimeoutError.class, () -> slow.next(Duration.ofMillis(50)));
        assertEquals(1, slow.next(Duration.ofSeconds(20)));
        assertThrows(NoSuchElementException.class, () -> slow.next(Duration.ofSeconds(1)));
    }

    /**
     * Waits until {@code pulled} has not grown for half a second (an imap's feeder held back by
     * its bound), 30 s at most: the caller's asserts then read the count where it stopped.
     */
    private static void settled(java.util.concurrent.atomic.AtomicLong pulled)
            throws InterruptedException {
        long end = System.nanoTime() + 30_000_000_000L;
        long seen = -1;
        int still = 0;
        while (still < 5 && System.nanoTime() < end) {
            Thread.sleep(100);
            long now = pulled.get();
            still = now == seen ? still + 1 : 0;
            seen = now;
        }
    }

    /** 1, 2, 3, ... until {@code stop} is set, counting in {@code pulled} what it gave. */
    private static Iterable<Long> endless(java.util.concurrent.atomic.AtomicLong pulled,
            java.util.concurrent.atomic.AtomicBoolean stop) {
        return () -> new java.util.Iterator<>() {
            @Override
            public boolean hasNext() {
                return !stop.get();
            }

            @Override
            public Long next() {
                return pulled.incrementAndGet();
            }
        };
    }

    /**
     * A spawned worker of plain tasks reads and writes its pipes with the JDK's own I/O and
     * never links the libc layer (~15 ms of its start, twice that with its pool's other
     * workers starting beside it). Its pipe calls go on as before after a task that leaves
     * the thread interrupted (a JDK file channel closes itself on an interrupt), after results
     * larger than a pipe holds, and after a task that links the layer itself.
     */
    @Test
    void aSpawnedWorkerOfPlainTasksNeverLinksTheLibcLayer() throws Exception {
        Pool own = Pool.builder().processes(1).build();
        try {
            List<Long> worker = own.workerPids();
            assertEquals(List.of(false, false, false), own.map(
                    x -> multiprocessing.internal.posix.Linkage.begun(), List.of(1, 2, 3), 1));
            // Interrupted as each task ends: the next receive must not fail for it.
            assertEquals(List.of(2, 3, 4), own.map(x -> {
                Thread.currentThread().interrupt();
                return x + 1;
            }, List.of(1, 2, 3), 1));
            List<Integer> sizes = own.map(x -> new byte[x << 20], List.of(1, 3), 1).stream()
                    .map(b -> b.length).toList();
            assertEquals(List.of(1 << 20, 3 << 20), sizes);
            assertEquals(List.of(false), own.map(
                    x -> multiprocessing.internal.posix.Linkage.begun(), List.of(1), 1));
            assertTrue(own.apply(() -> multiprocessing.internal.posix.Posix.getpid() > 0));
            assertEquals(List.of(true, true), own.map(
                    x -> multiprocessing.internal.posix.Linkage.begun(), List.of(1, 2), 1));
            assertEquals(worker, own.workerPids(), "the worker went on throughout");
        } finally {
            own.close();
            own.join();
        }
    }

    /**
     * A frame in a worker's answer pipe that the worker did not write (a process of the same
     * user writing to {@code /proc/PID/fd/5}, the worker's answers as it inherits them): the
     * pool ends that worker and fails the task it held, saying why, and goes on with another
     * worker (the result thread died of a BufferUnderflowException, or a count of 0 was taken
     * for no answer at all).
     */
    @Test
    void aCorruptAnswerEndsItsWorkerAndFailsItsTaskSayingWhy() throws Exception {
        Pool own = Pool.builder().processes(1).build();
        try {
            assertEquals(List.of(2), own.map(x -> x + 1, List.of(1))); // ready, answering
            long pid = own.workerPids().get(0);
            AsyncResult<Integer> held = own.applyAsync(() -> {
                Thread.sleep(5_000);
                return 1;
            });
            Thread.sleep(500); // the task is in the worker
            java.nio.file.Path answers = java.nio.file.Path.of("/proc/" + pid + "/fd/5");
            // One framed message of four bytes: a pool message that counts 0 messages.
            java.nio.file.Files.write(answers, new byte[] {0, 0, 0, 4, 0, 0, 0, 0},
                    java.nio.file.StandardOpenOption.WRITE);
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> held.get(Duration.ofSeconds(30)));
            assertInstanceOf(ProcessError.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("a corrupt pool message of 4 bytes: it "
                    + "counts 0 messages"), e.getCause().getMessage());
            assertEquals(List.of(3), own.map(x -> x + 2, List.of(1)), "the pool goes on");
            assertNotEquals(List.of(pid), own.workerPids());
        } finally {
            terminateLeavingNoWorker(own);
        }
    }

    /**
     * An imap whose caller reads slowly (or never) holds a bounded amount of results: its feeder
     * reads the iterable only while the results finished and not taken stay under 64 MiB as
     * their workers sent them (and 65,536 results), and the chunks ahead of the workers under a
     * few per worker. Each result here is 512 KiB, a chunk's 1 MiB. (The window used to come
     * back when a worker finished a chunk, so an unread imap over an endless iterable read, and
     * kept the results of, items until the heap ran out.)
     */
    @Test
    void anUnreadImapOverAnEndlessIterableReadsOnlyAWindowAhead() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        SerializableFunction<Long, byte[]> half = x -> {
            byte[] b = new byte[512 << 10];
            b[0] = (byte) (long) x;
            return b;
        };
        Pool own = Pool.builder().processes(2).build();
        try {
            for (boolean ordered : new boolean[] {true, false}) {
                // A count of its own: the first imap's feeder, given room by the caller's 100
                // takes, may still be reading its iterable while the second imap runs (on a slow
                // machine it was, and its items were counted as the second's).
                java.util.concurrent.atomic.AtomicLong pulled =
                        new java.util.concurrent.atomic.AtomicLong();
                Iterable<Long> endless = endless(pulled, stop);
                IMapIterator<byte[]> it = ordered ? own.imap(half, endless, 2)
                        : own.imapUnordered(half, endless, 2);
                it.next(Duration.ofSeconds(30)); // the workers run
                // Until the feeder is held back: unbounded, it would read on for good.
                settled(pulled);
                long chunks = 64 + 1 + (4L * 2 + 8) + 2; // untaken to 64 MiB, ahead, in hand
                long bound = chunks * 2 + 2;
                assertTrue(pulled.get() <= bound, (ordered ? "imap" : "imapUnordered") + " read "
                        + pulled.get() + " items ahead of a"
                        + " caller that took one (at most " + bound + ")");
                assertTrue(pulled.get() > 40, "the workers went on while the caller waited: "
                        + pulled.get() + " items read");
                for (int i = 1; i < 100; i++) {
                    byte[] b = it.next(Duration.ofSeconds(30));
                    if (ordered) {
                        assertEquals((byte) (i + 1), b[0]);
                    }
                }
                Thread.sleep(500);
                assertTrue(pulled.get() <= 100 + bound, "read " + pulled.get()
                        + " items for a caller that took 100");
            }
        } finally {
            stop.set(true);
            own.terminate();
        }
    }

    /**
     * A program that takes the first results of an endless imap and closes the iterator: the
     * pool reads no more of the iterable, and the pool's own close() (which runs every task
     * handed in) returns. Without the iterator's close, try-with-resources waited for good
     * while the feeder read the endless iterable (review 49).
     */
    @Test
    void aClosedImapReadsNoMoreAndLetsItsPoolClose() throws Exception {
        for (boolean ordered : new boolean[] {true, false}) {
            java.util.concurrent.atomic.AtomicLong pulled =
                    new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicBoolean stop =
                    new java.util.concurrent.atomic.AtomicBoolean();
            Pool own = Pool.builder().processes(2).build();
            List<Long> pids = own.workerPids();
            try {
                IMapIterator<Long> it = ordered ? own.imap(x -> x * x, endless(pulled, stop), 3)
                        : own.imapUnordered(x -> x * x, endless(pulled, stop), 3);
                long taken = 0;
                while (taken < 50) {
                    it.next(Duration.ofSeconds(30));
                    taken++;
                }
                it.close();
                assertFalse(it.hasNext());
                NoSuchElementException e = assertThrows(NoSuchElementException.class, it::next);
                assertTrue(e.getMessage().contains("closed"), e.getMessage());
                it.close(); // a second close does nothing
                long atClose = pulled.get();
                own.close(); // returns: the feeder stopped reading
                long afterClose = pulled.get();
                assertTrue(afterClose <= atClose + 3, "read " + (afterClose - atClose)
                        + " more items after the iterator was closed");
                assertAllGone(pids);
            } finally {
                stop.set(true);
                own.terminate();
            }
        }
    }

    /**
     * Small results in large chunks: serialized they are a few bytes each (an Integer ~5), held
     * here ~90, so the bound on results not yet taken counts them too (65,536, in whole chunks,
     * at least the chunks ahead): the bound on bytes alone let an unread imap hold 13.6 million
     * results, 1.2-1.4 GB of heap (attack 22b).
     */
    @Test
    void anUnreadImapOfSmallResultsInLargeChunksHoldsFewOfThem() throws Exception {
        java.util.concurrent.atomic.AtomicLong pulled = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Pool own = Pool.builder().processes(2).build();
        try {
            IMapIterator<Integer> it = own.imap(x -> 0, endless(pulled, stop), 10_000);
            assertEquals(0, it.next(Duration.ofSeconds(30)));
            settled(pulled); // unbounded, the workers would read millions and never settle
            long bound = (4L * 2 + 8 + 2) * 10_000; // the chunks ahead, as many untaken, in hand
            assertTrue(pulled.get() <= 2 * bound, "read " + pulled.get() + " items ahead of a"
                    + " caller that took one (at most " + 2 * bound + ")");
            assertTrue(pulled.get() >= 10 * 10_000, "the feeder read on to its bound: "
                    + pulled.get() + " items read");
        } finally {
            stop.set(true);
            own.terminate();
        }
    }

    /**
     * While the caller of an ordered imap waits for a long task, the other worker goes on with
     * the tiny tasks after it (their results wait for the caller): the long task sees them done.
     * With one bound on the chunks both ahead and untaken, the other worker ran out of work a
     * few chunks in and idled until the long task ended (attack 22: imap at half map's speed).
     */
    @Test
    void anImapsOtherWorkersGoOnWhileItsCallerWaitsForALongTask() throws Exception {
        multiprocessing.sharedctypes.SharedInt done = multiprocessing.sharedctypes.RawValue.ofInt(0);
        Pool own = Pool.builder().processes(2).build();
        try {
            own.map(x -> x, IntStream.range(0, 200).boxed().toList(), 1); // both workers up
            IMapIterator<Integer> it = own.imap(x -> {
                if (x == 0) { // the long task: waits for the others, 60 s at most
                    long end = System.nanoTime() + 60_000_000_000L;
                    while (done.get() < 1500 && System.nanoTime() < end) {
                        Thread.sleep(5);
                    }
                    return done.get();
                }
                done.addAndGet(1);
                return x;
            }, IntStream.range(0, 2000).boxed().toList(), 1);
            int seenDone = it.next(Duration.ofSeconds(90));
            assertTrue(seenDone >= 1500, "while the caller waited for the long task, the other"
                    + " worker ran " + seenDone + " of 1999 tiny tasks");
            for (int i = 1; i < 2000; i++) {
                assertEquals(i, it.next(Duration.ofSeconds(30)));
            }
        } finally {
            own.terminate();
        }
    }

    @Test
    void progressListenerSeesEveryItem() throws Exception {
        List<long[]> calls = new CopyOnWriteArrayList<>();
        try {
            pool.onProgress((done, total) -> calls.add(new long[] {done, total}));
            pool.map(x -> x, IntStream.range(0, 100).boxed().toList(), 10);
            assertEquals(10, calls.size());
            assertEquals(100, calls.get(calls.size() - 1)[0]);
            assertEquals(100, calls.get(calls.size() - 1)[1]);
            calls.clear();
            Iterable<Integer> lazy = () -> IntStream.range(0, 20).boxed().iterator();
            pool.imap(x -> x, lazy, 5).forEachRemaining(x -> { });
            long[] last = calls.get(calls.size() - 1);
            assertTrue(calls.stream().anyMatch(c -> c[0] == 20 && c[1] == 20) || (last[0] == 20),
                    "final call reports all items");
        } finally {
            pool.onProgress(null);
        }
    }

    @Test
    void misuseIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Pool.builder().processes(0));
        assertThrows(IllegalArgumentException.class, () -> Pool.builder().processes(-1));
        assertThrows(IllegalArgumentException.class, () -> Pool.builder().maxTasksPerChild(0));
        assertThrows(IllegalArgumentException.class, () -> new Pool(0));
        assertThrows(IllegalArgumentException.class, () -> pool.map(x -> x, List.of(1), 0));
        assertThrows(IllegalArgumentException.class, () -> pool.imap(x -> x, List.of(1), 0));
        assertThrows(IllegalStateException.class, pool::join);
    }

    // ------------------------------------------------------------------ dead workers

    @Test
    void aWorkerKilledMidTaskFailsThatTaskOnly() throws Exception {
        // The victim tells its pid through a file: a task is not a channel for descriptors.
        java.nio.file.Path pidFile = java.nio.file.Files.createTempFile("pool-victim", ".pid");
        String path = pidFile.toString();
        try {
            AsyncResult<Integer> victim = pool.applyAsync(() -> {
                java.nio.file.Files.writeString(java.nio.file.Path.of(path),
                        Long.toString(ProcessHandle.current().pid()));
                Thread.sleep(60_000);
                return -1;
            });
            long pid = 0;
            for (long end = System.nanoTime() + 20_000_000_000L; pid == 0 && System.nanoTime() < end; ) {
                String text = java.nio.file.Files.readString(pidFile).trim();
                if (text.isEmpty()) {
                    Thread.sleep(10);
                } else {
                    pid = Long.parseLong(text);
                }
            }
            assertTrue(pool.workerPids().contains(pid), pid + " in " + pool.workerPids());
            AsyncResult<List<Integer>> others = pool.mapAsync(x -> {
                Thread.sleep(20);
                return x;
            }, IntStream.range(0, 20).boxed().toList(), 1);
            long t0 = System.nanoTime();
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            ExecutionException e = assertThrows(ExecutionException.class, () -> victim.get(Duration.ofSeconds(60)));
            WorkerLostException lost = assertInstanceOf(WorkerLostException.class, e.getCause());
            assertTrue((System.nanoTime() - t0) / 1e9 < 5, "reported within a few seconds");
            assertEquals(pid, lost.pid());
            assertEquals(-9, lost.exitCode());
            assertTrue(lost.getMessage().contains(Long.toString(pid)) && lost.getMessage().contains("SIGKILL"),
                    lost.getMessage());
            assertEquals(IntStream.range(0, 20).boxed().toList(), others.get(Duration.ofSeconds(30)));
            assertEquals(7, pool.apply(() -> 7));
            assertFalse(pool.workerPids().contains(pid));
            assertEquals(2, pool.workerPids().size());
        } finally {
            java.nio.file.Files.deleteIfExists(pidFile);
        }
    }

    /**
     * Tasks submitted after an idle worker was killed (and had ended) all run: the first sent
     * to that worker, before the pool's result thread had handled its end, failed with
     * WorkerLostException as the task it "died while running" (attack 61: 1 or 2 rounds in
     * 10 once the worker had ended, 9 in 10 submitted at once).
     */
    @Test
    void tasksSubmittedAfterAnIdleWorkerWasKilledAllRun() throws Exception {
        try (Pool own = new Pool(2)) {
            for (int round = 0; round < 10; round++) {
                assertEquals(List.of(2, 3, 4, 5), own.map(x -> x + 1, List.of(1, 2, 3, 4)));
                List<Long> pids = own.workerPids();
                assertEquals(2, pids.size());
                ProcessHandle victim = ProcessHandle.of(pids.get(round % 2)).orElseThrow();
                victim.destroyForcibly();
                victim.onExit().get(30, TimeUnit.SECONDS);
                List<AsyncResult<Integer>> results = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    int n = i;
                    results.add(own.applyAsync(() -> n));
                }
                for (int i = 0; i < 20; i++) {
                    assertEquals(i, results.get(i).get(Duration.ofSeconds(60)),
                            "round " + round + ", task " + i);
                }
            }
        }
    }

    /**
     * A pool terminated by the error callback of a task whose worker died ends, with the
     * replacement started meanwhile (review 41: the replacement joined the pool after
     * terminate() had ended the others, and was never told to stop, so join() waited for good).
     */
    @Test
    void aPoolTerminatedByTheErrorCallbackOfALostWorkerEnds() throws Exception {
        Pool own = Pool.builder().processes(1).build();
        CountDownLatch told = new CountDownLatch(1);
        AsyncResult<Integer> lost = own.applyAsync(() -> {
            Runtime.getRuntime().halt(3);
            return 0;
        }, null, e -> {
            own.terminate();
            told.countDown();
        });
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> lost.get(Duration.ofSeconds(30)));
        assertInstanceOf(WorkerLostException.class, e.getCause());
        assertTrue(told.await(30, TimeUnit.SECONDS));
        assertTrue(own.join(Duration.ofSeconds(30)), "every worker exited");
        assertEquals(List.of(), own.workerPids());
    }

    /**
     * Chunks of megabytes handed to a worker together (a worker measured on tiny tasks holds
     * many, and gets them at once when its long task ends) reach it whole and in order: its
     * sender batches them by bytes, a large one alone. Unbounded, forty-four chunks of 100 MB
     * overflowed one pipe message's size, the sender died and the map hung (attack 22).
     */
    @Test
    @Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void bigChunksHandedOutTogetherArriveWhole() throws Exception {
        Pool p = new Pool(1);
        try {
            p.map(x -> x, IntStream.range(0, 300).boxed().toList(), 1); // measured: tiny tasks
            AsyncResult<Integer> slow = p.applyAsync(() -> {
                Thread.sleep(600);
                return 1;
            });
            List<byte[]> big = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                byte[] b = new byte[(i % 3 + 1) * 3 << 20]; // 3, 6 and 9 MiB
                Arrays.fill(b, (byte) i);
                big.add(b);
            }
            AsyncResult<List<Long>> sums = p.mapAsync(b -> {
                long sum = 0;
                for (byte x : b) {
                    sum += x;
                }
                return sum;
            }, big, 1);
            assertEquals(1, slow.get(Duration.ofSeconds(60)));
            List<Long> expected = new ArrayList<>();
            for (byte[] b : big) {
                expected.add((long) b[0] * b.length);
            }
            assertEquals(expected, sums.get(Duration.ofSeconds(120)));
        } finally {
            terminateLeavingNoWorker(p);
        }
    }

    @Test
    @Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void tasksQueuedBehindAKilledTaskRunOnItsReplacement() throws Exception {
        // One worker, measured on tiny tasks so that it holds many: the tasks submitted right
        // after the victim (well within the 50 ms after which a running task counts as long)
        // are in its pipe when it is killed, and must run on the replacement, not fail.
        java.nio.file.Path pidFile = java.nio.file.Files.createTempFile("pool-victim", ".pid");
        String path = pidFile.toString();
        Pool p = new Pool(1);
        try {
            assertEquals(IntStream.range(0, 300).boxed().toList(),
                    p.map(x -> x, IntStream.range(0, 300).boxed().toList(), 1));
            long first = p.workerPids().get(0);
            AsyncResult<Integer> victim = p.applyAsync(() -> {
                java.nio.file.Files.writeString(java.nio.file.Path.of(path),
                        Long.toString(ProcessHandle.current().pid()));
                Thread.sleep(60_000);
                return -1;
            });
            List<AsyncResult<Long>> queued = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                queued.add(p.applyAsync(() -> ProcessHandle.current().pid()));
            }
            for (long end = System.nanoTime() + 30_000_000_000L;
                    java.nio.file.Files.readString(pidFile).isBlank() && System.nanoTime() < end; ) {
                Thread.sleep(10);
            }
            assertEquals(Long.toString(first), java.nio.file.Files.readString(pidFile).trim());
            ProcessHandle.of(first).orElseThrow().destroyForcibly();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> victim.get(Duration.ofSeconds(60)));
            assertInstanceOf(WorkerLostException.class, e.getCause());
            for (AsyncResult<Long> q : queued) {
                long ranOn = q.get(Duration.ofSeconds(60));
                assertNotEquals(first, ranOn, "a queued task ran on the killed worker");
            }
        } finally {
            terminateLeavingNoWorker(p);
            java.nio.file.Files.deleteIfExists(pidFile);
        }
    }

    @Test
    void aWorkerThatExitsMidTaskFailsItWithItsExitCode() throws Exception {
        AsyncResult<Object> r = pool.applyAsync(() -> {
            System.exit(3);
            return null;
        });
        ExecutionException e = assertThrows(ExecutionException.class, () -> r.get(Duration.ofSeconds(20)));
        WorkerLostException lost = assertInstanceOf(WorkerLostException.class, e.getCause());
        assertEquals(3, lost.exitCode());
        assertEquals(8, pool.apply(() -> 8));
    }

    // ------------------------------------------------------------------ pools of their own

    static final class Counter implements Serializable {
        static int initialized;
    }

    @Test
    void initializerRunsOncePerWorkerAndMaxTasksReplacesWorkers() throws Exception {
        try (Pool p = Pool.builder().processes(2).maxTasksPerChild(2)
                .initializer(() -> Counter.initialized++).build()) {
            List<long[]> seen = p.map(x -> new long[] {ProcessHandle.current().pid(), Counter.initialized},
                    IntStream.range(0, 8).boxed().toList(), 1);
            Set<Long> pids = new HashSet<>();
            for (long[] s : seen) {
                assertEquals(1, s[1], "initializer ran once in worker " + s[0]);
                pids.add(s[0]);
            }
            assertTrue(pids.size() >= 4, "8 tasks, 2 per worker: at least 4 workers, saw " + pids);
            for (long pid : pids) {
                assertTrue(seen.stream().filter(s -> s[0] == pid).count() <= 2);
            }
        }
    }

    @Test
    @Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void tasksSubmittedBeforeTheWorkersAreReadyRunOnBoth() throws Exception {
        // Submitted at once, before either worker has booted: the first worker ready must not
        // take both (they were queued in its pipe, and ran one after the other).
        multiprocessing.synchronize.Semaphore started = new multiprocessing.synchronize.Semaphore(0);
        multiprocessing.synchronize.Event go = new multiprocessing.synchronize.Event();
        Pool p = new Pool(2);
        try {
            List<AsyncResult<Long>> both = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                both.add(p.applyAsync(() -> {
                    started.release();
                    go.await(Duration.ofSeconds(60));
                    return ProcessHandle.current().pid();
                }));
            }
            boolean first = started.acquire(Duration.ofSeconds(60));
            boolean second = first && started.acquire(Duration.ofSeconds(30));
            go.set();
            assertTrue(second, (first ? "one" : "none") + " of two tasks started; workers "
                    + p.workerPids());
            assertNotEquals(both.get(0).get(Duration.ofSeconds(30)),
                    both.get(1).get(Duration.ofSeconds(30)));
        } finally {
            go.set();
            terminateLeavingNoWorker(p);
        }
    }

    @Test
    @Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aShortTaskDoesNotWaitBehindALongOne() throws Exception {
        // Both workers busy, one for long: a task submitted then must wait in the pool, not in
        // the long task's pipe, and run as soon as the other worker is free (it waited behind
        // the long one when a worker held two chunks whatever their length).
        multiprocessing.synchronize.Event go = new multiprocessing.synchronize.Event();
        Pool p = new Pool(2);
        try {
            // Both workers ready, each measured at 200 ms a chunk (one may boot later than the
            // other has run both).
            Set<Long> measured = new HashSet<>();
            for (int i = 0; i < 20 && measured.size() < 2; i++) {
                measured.addAll(p.map(x -> {
                    Thread.sleep(200);
                    return ProcessHandle.current().pid();
                }, List.of(1, 2), 1));
            }
            assertEquals(2, measured.size(), "both workers ran a chunk");
            AsyncResult<Long> longOne = p.applyAsync(() -> {
                go.await(Duration.ofSeconds(60));
                return ProcessHandle.current().pid();
            });
            AsyncResult<Long> second = p.applyAsync(() -> ProcessHandle.current().pid());
            AsyncResult<Long> third = p.applyAsync(() -> ProcessHandle.current().pid());
            long secondPid = second.get(Duration.ofSeconds(30));
            long thirdPid = third.get(Duration.ofSeconds(30));
            assertFalse(longOne.ready(), "the long task is still running");
            assertEquals(secondPid, thirdPid, "both ran on the worker that is not busy");
            go.set();
            assertNotEquals(secondPid, (long) longOne.get(Duration.ofSeconds(30)));
        } finally {
            go.set();
            terminateLeavingNoWorker(p);
        }
    }

    @Test
    void closeLetsWorkFinishAndLeavesNoWorker() throws Exception {
        Pool p = multiprocessing.Multiprocessing.getContext("spawn").pool(1);
        List<Long> pids = p.workerPids();
        AsyncResult<Integer> r = p.applyAsync(() -> {
            Thread.sleep(300);
            return 9;
        });
        p.close();
        assertThrows(IllegalStateException.class, () -> p.apply(() -> 1));
        assertThrows(IllegalStateException.class, () -> p.map(x -> x, List.of(1)));
        assertTrue(r.ready(), "close() waits for submitted work");
        assertEquals(9, r.get());
        p.join();
        assertAllGone(pids);
    }

    @Test
    void terminateStopsRunningTasks() throws Exception {
        Pool p = new Pool(2);
        assertThrows(IllegalStateException.class, p::join);
        List<AsyncResult<Integer>> running = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            running.add(p.applyAsync(() -> {
                Thread.sleep(60_000);
                return 0;
            }));
        }
        Thread.sleep(300);
        List<Long> pids = p.workerPids();
        long t0 = System.nanoTime();
        p.terminate();
        assertTrue((System.nanoTime() - t0) / 1e9 < 10);
        for (AsyncResult<Integer> r : running) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> r.get(Duration.ofSeconds(5)));
            assertInstanceOf(ProcessError.class, e.getCause());
        }
        p.join();
        assertAllGone(pids);
        assertThrows(IllegalStateException.class, () -> p.applyAsync(() -> 1));
    }

    /**
     * Workers killed from outside (SIGKILL) before they are ready, three in a row, did not fail
     * to start: each is replaced, and the pool goes on. They broke it ("pool worker processes
     * fail to start"), which only workers that fail by themselves should (attack 29).
     */
    @Test
    void workersKilledBeforeTheyAreReadyAreReplacedAndThePoolGoesOn() throws Exception {
        final int kills = 3;
        java.nio.file.Path started = java.nio.file.Files.createTempDirectory("pool-started");
        String dir = started.toString();
        Set<Long> killed = new HashSet<>();
        try (Pool p = Pool.builder().processes(1).initializer(() -> {
            java.nio.file.Path d = java.nio.file.Path.of(dir);
            java.nio.file.Files.writeString(
                    d.resolve(Long.toString(ProcessHandle.current().pid())), "");
            try (var all = java.nio.file.Files.list(d)) {
                if (all.count() <= kills) {
                    Thread.sleep(60_000); // killed here, before it is ready
                }
            }
        }).build()) {
            while (killed.size() < kills) {
                try (var all = java.nio.file.Files.list(started)) {
                    for (long pid : all.map(f -> Long.parseLong(f.getFileName().toString()))
                            .filter(pid -> !killed.contains(pid)).toList()) {
                        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                        killed.add(pid);
                    }
                }
                Thread.sleep(10);
            }
            assertEquals(7, p.apply(() -> 7));
            assertFalse(killed.contains(p.workerPids().get(0)));
        } finally {
            try (var all = java.nio.file.Files.list(started)) {
                for (java.nio.file.Path f : all.toList()) {
                    java.nio.file.Files.delete(f);
                }
            }
            java.nio.file.Files.delete(started);
        }
    }

    /**
     * But workers that are all killed before they are ready (an initializer the OOM killer ends
     * each time) break the pool after a bounded number, saying so: it started them for ever
     * (attack 29b: 136 workers in 25 s).
     */
    @Test
    void workersAllKilledBeforeTheyAreReadyBreakThePoolInsteadOfLooping() throws Exception {
        try (Pool p = Pool.builder().processes(1).initializer(() -> {
            new ProcessBuilder("kill", "-KILL", Long.toString(ProcessHandle.current().pid()))
                    .start().waitFor();
            Thread.sleep(60_000); // not reached
        }).build()) {
            ProcessError e = assertThrows(ProcessError.class, () -> p.apply(() -> 1));
            assertTrue(e.getMessage().contains("killed before they are ready"), e.getMessage());
        }
    }

    /**
     * Workers whose JVMs hang before they run the library's code (here a debugger agent told
     * to wait for a debugger) are killed once the start limit has passed, and the third breaks
     * the pool, saying why: its tasks waited for good, and nothing was said (attack 53). An
     * initializer's time is not counted: one that sleeps past the limit is waited for.
     */
    @Test
    void workersWhoseJvmsHangBeforeTheyRunBreakThePoolInsteadOfHangingIt() throws Exception {
        Pool hanging;
        Pool slowInit;
        System.setProperty("multiprocessing.pool.workerStartMillis", "1500");
        try {
            hanging = Pool.builder().processes(2).context(Multiprocessing.getContext("spawn")
                    .withJvmOptions("-agentlib:jdwp=transport=dt_socket,server=y,suspend=y,"
                            + "address=127.0.0.1:0")).build();
            slowInit = Pool.builder().processes(1).initializer(() -> Thread.sleep(3_000)).build();
        } finally {
            System.clearProperty("multiprocessing.pool.workerStartMillis");
        }
        try (hanging; slowInit) {
            long start = System.nanoTime();
            ProcessError e = assertThrows(ProcessError.class, () -> hanging.apply(() -> 1));
            assertTrue(e.getMessage().contains("had not begun to run 1.5 s after its start"),
                    e.getMessage());
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
            assertTrue(seconds < 30, "broken after " + seconds + " s");
            assertEquals(1, slowInit.apply(() -> 1), "an initializer's time is not counted");
        }
    }

    /**
     * A map's function that captures a connection reaches every worker, as in Python (which
     * pickles the function with each task): its bytes, written once per job, carried a
     * resource-sharer ticket only the first worker to read them could take, and every chunk
     * another worker ran failed with "no connection is shared under that key" (review 46).
     */
    @Test
    void aMapFunctionCapturingAConnectionReachesEveryWorker() throws Exception {
        try (multiprocessing.connection.Pipe pipe = multiprocessing.connection.Pipe.open(false)) {
            multiprocessing.connection.Connection writer = pipe.right();
            List<Long> pids = pool.map(x -> {
                writer.send(x);
                return ProcessHandle.current().pid();
            }, List.of(1, 2, 3, 4, 5, 6, 7, 8), 1);
            Set<Object> got = new HashSet<>();
            for (int i = 0; i < 8; i++) {
                got.add(pipe.left().recv());
            }
            assertEquals(Set.of(1, 2, 3, 4, 5, 6, 7, 8), got);
            assertEquals(8, pids.size());
        }
    }

    /** The heap arenas of 256 KiB and more this process maps now (one per large shared array). */
    private static Set<String> dedicatedArenasMapped() throws IOException {
        Set<String> mapped = multiprocessing.NoLeftoverSharedMemory.mappedHere();
        mapped.removeIf(n -> !n.startsWith("mph_x"));
        return mapped;
    }

    /**
     * Tasks cancelled before any worker was sent them give back what they counted: each kept
     * the 512 KiB shared array it captured until the process exited (attack 41: 29 of 30
     * invokeAny calls' arrays), and its ticket an entry of the receipts for good.
     */
    @Test
    void tasksCancelledBeforeTheyAreSentLetGoOfTheirSharedArrays() throws Exception {
        try (Pool p = Pool.builder().processes(1).build()) {
            Set<String> before = dedicatedArenasMapped();
            AsyncResult<Integer> blocker = p.applyAsync(() -> {
                Thread.sleep(1_000);
                return 1;
            });
            List<AsyncResult<Integer>> cancelled = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                multiprocessing.sharedctypes.SharedIntArray array =
                        multiprocessing.sharedctypes.RawArray.ofInts(1 << 17);
                cancelled.add(p.applyAsync(() -> array.get(0)));
            }
            for (AsyncResult<Integer> r : cancelled) {
                assertTrue(r.cancel(false), "not started: the worker is busy");
            }
            assertEquals(1, blocker.get());
            assertEquals(2, p.apply(() -> 2)); // the cancelled tasks were passed over by now
            cancelled.clear();
            Set<String> left = multiprocessing.NoLeftoverSharedMemory.afterGcs(() -> {
                Set<String> now = dedicatedArenasMapped();
                now.removeAll(before);
                return now;
            });
            assertEquals(Set.of(), left, "the cancelled tasks' arrays are still here");
        }
    }

    /** A class workers initialize and the main process refuses to (its initializer throws). */
    static final class InitializedOnlyInChildren implements java.io.Serializable {
        static {
            if (multiprocessing.Multiprocessing.parentProcess().isEmpty()) {
                throw new IllegalStateException("InitializedOnlyInChildren: not in a main process");
            }
        }

        int n = 3;

        static SerializableCallable<Integer> task() {
            return () -> 4;
        }
    }

    /**
     * A result this process cannot read (its class's initializer throws here, for an object
     * and for a lambda the class made) fails its own task, saying why; the pool goes on: an
     * Error out of the read would leave the pool's result thread and fail every later call.
     */
    @Test
    void aResultWhoseClassCannotInitializeHereFailsItsTaskOnly() throws Exception {
        ProcessError e = assertThrows(ProcessError.class,
                () -> pool.apply(InitializedOnlyInChildren::new));
        assertTrue(e.getMessage().contains("InitializedOnlyInChildren")
                && e.getMessage().contains("cannot be read"), e.getMessage());
        assertEquals(5, pool.apply(() -> 5));
        ProcessError lambda = assertThrows(ProcessError.class,
                () -> pool.apply(InitializedOnlyInChildren::task));
        assertTrue(lambda.getMessage().contains("InitializedOnlyInChildren")
                && lambda.getMessage().contains("cannot be read"), lambda.getMessage());
        assertEquals(List.of(2, 4, 6), pool.map(x -> 2 * x, List.of(1, 2, 3)));
    }

    /**
     * An initializer whose exception cannot be read here breaks the pool at once, naming the
     * initializer: it was taken for workers failing to start, three of them spawned before the
     * pool said "pool worker processes fail to start" (review 41).
     */
    @Test
    void anInitializerWhoseExceptionCannotBeReadHereBreaksThePoolNamingIt() throws Exception {
        try (Pool p = Pool.builder().processes(1).initializer(() -> {
            throw new WrappedUnreadable(new InitializedOnlyInChildren());
        }).build()) {
            ProcessError e = assertThrows(ProcessError.class, () -> p.apply(() -> 1));
            assertTrue(e.getMessage().contains("initializer")
                    && e.getMessage().contains("cannot be read"), e.getMessage());
        }
    }

    /** An exception carrying an object the main process cannot read. */
    static final class WrappedUnreadable extends RuntimeException {
        final Object held;

        WrappedUnreadable(Object held) {
            super("holds an object");
            this.held = held;
        }
    }

    @Test
    void aFailingInitializerBreaksThePoolInsteadOfLooping() throws Exception {
        try (Pool p = Pool.builder().processes(1).initializer(() -> {
            throw new IOException("no database");
        }).build()) {
            ProcessError e = assertThrows(ProcessError.class, () -> p.apply(() -> 1));
            assertTrue(e.getMessage().contains("initializer"), e.getMessage());
            assertInstanceOf(IOException.class, e.getCause());
        }
    }
}
