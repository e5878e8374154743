package multiprocessing.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.ProcessPoolExecutor;
import multiprocessing.SerializableCallable;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** ProcessPoolExecutor as an ExecutorService over real worker processes. */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ProcessPoolExecutorTest {

    @Test
    void anExecutorServiceOverWorkerProcesses() throws Exception {
        Pool pool = Pool.builder().processes(2).build();
        try {
            exercise(pool);
        } finally {
            // A failed check must not leave the workers (one sleeping a minute) to every later
            // test class's leftover check.
            pool.terminate();
        }
    }

    /** A future's state for a failure message: a sleeper that failed at once never released. */
    private static String outcome(Future<?> f) {
        if (!f.isDone()) {
            return "not done";
        }
        try {
            return "done: " + f.get();
        } catch (Exception e) {
            return "failed: " + e;
        }
    }

    private static void exercise(Pool pool) throws Exception {
        List<Long> pids = pool.workerPids();
        ProcessPoolExecutor ex = new ProcessPoolExecutor(pool);
        long me = ProcessHandle.current().pid();

        Future<Long> f = ex.submit((Callable<Long> & Serializable) () -> ProcessHandle.current().pid());
        assertTrue(pids.contains(f.get()) && f.get() != me);
        SerializableCallable<String> s = () -> "x";
        assertEquals("x", ex.submit(s).get());
        assertEquals("done", ex.submit((Runnable & Serializable) () -> { }, "done").get());

        Future<Object> failing = ex.submit((Callable<Object> & Serializable) () -> {
            throw new UnsupportedOperationException("nope");
        });
        ExecutionException e = assertThrows(ExecutionException.class, failing::get);
        assertInstanceOf(UnsupportedOperationException.class, e.getCause());
        assertEquals("nope", e.getCause().getMessage());

        // A plain lambda is serializable as submit(SerializableCallable)'s (review 54); one
        // made as a plain Callable is not.
        assertEquals(42, ex.submit(() -> 6 * 7).get());
        // Python's Executor.map: results in order, a task's exception at its position.
        List<Integer> squares = new java.util.ArrayList<>();
        ex.map((Integer n) -> n * n, List.of(1, 2, 3, 4)).forEachRemaining(squares::add);
        assertEquals(List.of(1, 4, 9, 16), squares);
        IMapIterator<Integer> quotients = ex.map((Integer n) -> 12 / n, List.of(4, 0, 6), 1);
        assertEquals(3, quotients.next());
        assertThrows(ArithmeticException.class, quotients::next);
        assertEquals(2, quotients.next());
        assertFalse(quotients.hasNext());
        NullPointerException noPool = assertThrows(NullPointerException.class,
                () -> new ProcessPoolExecutor((Pool) null));
        assertEquals("pool", noPool.getMessage(), "refused at the door (attack 54)");
        Callable<Integer> plain = () -> 1;
        IllegalArgumentException notSerializable = assertThrows(IllegalArgumentException.class,
                () -> ex.submit(plain));
        assertTrue(notSerializable.getMessage().contains("Serializable"), notSerializable.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ex.execute(() -> { }));

        List<Callable<Integer>> tasks = List.of(
                (Callable<Integer> & Serializable) () -> 1,
                (Callable<Integer> & Serializable) () -> 2,
                (Callable<Integer> & Serializable) () -> {
                    throw new IllegalStateException("three");
                });
        List<Future<Integer>> all = ex.invokeAll(tasks);
        assertEquals(1, all.get(0).get());
        assertEquals(2, all.get(1).get());
        assertInstanceOf(IllegalStateException.class,
                assertThrows(ExecutionException.class, () -> all.get(2).get()).getCause());
        int any = ex.invokeAny(List.of(
                (Callable<Integer> & Serializable) () -> {
                    throw new IllegalStateException("first fails");
                },
                (Callable<Integer> & Serializable) () -> 5));
        assertEquals(5, any);

        // Not started tasks come back from shutdownNow; the running one is cut off. Fast tasks
        // first, so that the workers' measured time per task is short and the pool would queue
        // many tasks in each worker's pipe: none may be queued behind a task that has been
        // running for long (they were, and then counted as started: the check below failed).
        List<Callable<Integer>> quick = new java.util.ArrayList<>();
        for (int i = 0; i < 200; i++) {
            quick.add((Callable<Integer> & Serializable) () -> 0);
        }
        for (Future<Integer> q : ex.invokeAll(quick)) {
            assertEquals(0, q.get());
        }
        // Each sleeper says when it runs: on a loaded machine a worker may take seconds to get
        // to it, and a task submitted before both run could go to an idle worker.
        multiprocessing.synchronize.Semaphore started = new multiprocessing.synchronize.Semaphore(0);
        // Which worker runs each sleeper: if one does not start, the message says whether the
        // other is queued behind it on the same worker or its worker is slow.
        multiprocessing.sharedctypes.SharedLongArray ranOn = multiprocessing.sharedctypes.RawArray.ofLongs(2);
        Future<Integer> running1 = ex.submit((Callable<Integer> & Serializable) () -> {
            ranOn.setVolatile(0, ProcessHandle.current().pid());
            started.release();
            Thread.sleep(60_000);
            return 0;
        });
        Future<Integer> running2 = ex.submit((Callable<Integer> & Serializable) () -> {
            ranOn.setVolatile(1, ProcessHandle.current().pid());
            started.release();
            Thread.sleep(60_000);
            return 0;
        });
        long waitStart = System.nanoTime();
        boolean first = started.acquire(Duration.ofSeconds(30));
        boolean second = first && started.acquire(Duration.ofSeconds(30));
        if (!second) {
            org.junit.jupiter.api.Assertions.fail("the sleepers run: " + (first ? "one" : "none")
                    + " started within " + (System.nanoTime() - waitStart) / 1_000_000
                    + " ms, on workers " + java.util.Arrays.toString(ranOn.toArray()) + "; workers "
                    + pool.workerPids() + " (at the start " + pids + "); sleepers "
                    + outcome(running1) + ", " + outcome(running2)
                    + multiprocessing.TimeoutDiagnostics.descendants());
        }
        // Long enough that the sleepers count as busy (over 50 ms and 4x a worker's average
        // chunk) even when a loaded machine made the quick chunks' measured times long: with
        // 200 ms the test failed under load 8-13 (4 not started of 5).
        Thread.sleep(1000);
        List<Future<Integer>> queued = List.of(
                ex.submit((Callable<Integer> & Serializable) () -> 1),
                ex.submit((Callable<Integer> & Serializable) () -> 2),
                ex.submit((Callable<Integer> & Serializable) () -> 3),
                ex.submit((Callable<Integer> & Serializable) () -> 4),
                ex.submit((Callable<Integer> & Serializable) () -> 5));
        List<Runnable> notStarted = ex.shutdownNow();
        assertEquals(5, notStarted.size(), "tasks behind two sleeping workers were not started");
        assertTrue(queued.stream().filter(Future::isCancelled).count() == notStarted.size());
        assertThrows(ExecutionException.class, () -> running1.get(10, TimeUnit.SECONDS));
        assertThrows(ExecutionException.class, () -> running2.get(10, TimeUnit.SECONDS));
        assertTrue(ex.isShutdown());
        assertTrue(ex.awaitTermination(20, TimeUnit.SECONDS));
        assertTrue(ex.isTerminated());
        assertThrows(RejectedExecutionException.class,
                () -> ex.submit((Callable<Integer> & Serializable) () -> 1));
        PoolTest.assertAllGone(pids);
    }

    /** A task whose release this test can see. */
    static final class Marked implements Callable<Integer>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public Integer call() {
            return 3;
        }
    }

    /**
     * A task its caller cancelled is let go of at once: the executor kept it (and its future)
     * among the outstanding ones until a later submit swept them, after hundreds of submits
     * (attack 40b).
     */
    @Test
    void aCancelledTaskIsLetGoOfAtOnce() throws Exception {
        try (ProcessPoolExecutor ex = new ProcessPoolExecutor(1)) {
            Future<Integer> blocker = ex.submit((Callable<Integer> & Serializable) () -> {
                Thread.sleep(1_000);
                return 1;
            });
            Marked task = new Marked();
            java.lang.ref.WeakReference<Marked> kept = new java.lang.ref.WeakReference<>(task);
            Future<Integer> f = ex.submit(task);
            assertTrue(f.cancel(false), "not started: the worker is busy with the blocker");
            task = null;
            f = null;
            for (int i = 0; i < 100 && kept.get() != null; i++) {
                System.gc();
                Thread.sleep(20);
            }
            assertEquals(null, kept.get(), "the cancelled task is still held");
            assertEquals(1, blocker.get());
        }
    }

    @Test
    void shutdownLetsSubmittedTasksFinish() throws Exception {
        try (ProcessPoolExecutor ex = new ProcessPoolExecutor(1)) {
            Future<Integer> f = ex.submit((Callable<Integer> & Serializable) () -> {
                Thread.sleep(200);
                return 11;
            });
            ex.shutdown();
            assertThrows(RejectedExecutionException.class,
                    () -> ex.submit((Callable<Integer> & Serializable) () -> 1));
            assertThrows(RejectedExecutionException.class,
                    () -> ex.map((Integer n) -> n, List.of(1)));
            assertTrue(ex.awaitTermination(30, TimeUnit.SECONDS));
            assertEquals(11, f.get());
            assertFalse(f.isCancelled());
        }
    }

    /** A task that takes a while to serialize, and says when it began. */
    static final class SlowToSend implements Serializable {
        private static final long serialVersionUID = 1L;
        static final java.util.concurrent.CountDownLatch SENDING =
                new java.util.concurrent.CountDownLatch(1);
        final int value = 7;

        private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
            SENDING.countDown();
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            out.defaultWriteObject();
        }
    }

    /**
     * A submit still serializing its task when another thread shuts the executor down is
     * either refused or run before the executor terminates: it used to be accepted after the
     * workers had stopped, its future never done while the executor said it had terminated
     * (attack 28).
     */
    @Test
    void aSubmitRacingTheShutdownIsRefusedOrRun() throws Exception {
        try (ProcessPoolExecutor ex = new ProcessPoolExecutor(1)) {
            assertEquals(1, ex.submit((Callable<Integer> & Serializable) () -> 1).get());
            SlowToSend slow = new SlowToSend();
            java.util.concurrent.CompletableFuture<Future<Integer>> submitted =
                    new java.util.concurrent.CompletableFuture<>();
            Thread submitter = Thread.ofPlatform().start(() -> {
                try {
                    submitted.complete(ex.submit(
                            (Callable<Integer> & Serializable) () -> slow.value));
                } catch (Throwable t) {
                    submitted.completeExceptionally(t);
                }
            });
            assertTrue(SlowToSend.SENDING.await(30, TimeUnit.SECONDS));
            ex.shutdown();
            assertTrue(ex.awaitTermination(30, TimeUnit.SECONDS));
            submitter.join();
            try {
                Future<Integer> f = submitted.get();
                assertEquals(7, f.get(0, TimeUnit.SECONDS), "accepted, so run before the end");
            } catch (ExecutionException refused) {
                assertInstanceOf(RejectedExecutionException.class, refused.getCause());
            }
        }
    }

    /**
     * Every future a timed-out invokeAll returns is done: a running task whose worker also
     * holds the next ones (so ending the worker would lose them) runs on, its future cancelled
     * and its result dropped. It used to be left pending, to complete later (attack 28).
     */
    @Test
    void aTimedOutInvokeAllReturnsOnlyDoneFutures() throws Exception {
        try (ProcessPoolExecutor ex = new ProcessPoolExecutor(1)) {
            // Quick tasks first: the pool then sends its worker several tasks at once.
            List<Future<Integer>> quick = new java.util.ArrayList<>();
            for (int i = 0; i < 200; i++) {
                quick.add(ex.submit((Callable<Integer> & Serializable) () -> 1));
            }
            for (Future<Integer> q : quick) {
                assertEquals(1, q.get());
            }
            List<Callable<Integer>> slow = List.of(
                    (Callable<Integer> & Serializable) () -> { Thread.sleep(2_000); return 1; },
                    (Callable<Integer> & Serializable) () -> { Thread.sleep(2_000); return 2; },
                    (Callable<Integer> & Serializable) () -> { Thread.sleep(2_000); return 3; });
            List<Future<Integer>> futures = ex.invokeAll(slow, 300, TimeUnit.MILLISECONDS);
            for (Future<Integer> f : futures) {
                assertTrue(f.isDone(), f.toString());
                assertTrue(f.isCancelled(), f.toString());
                assertThrows(java.util.concurrent.CancellationException.class, f::get);
            }
            // The executor still works.
            assertEquals(5, ex.submit((Callable<Integer> & Serializable) () -> 5).get());
        }
    }

    /**
     * close() interrupted while a task runs stops it as shutdownNow() would and returns soon,
     * the interrupt status set (ExecutorService.close's contract); it used to wait for the task.
     */
    @Test
    void closeInterruptedStopsTheRunningTasks() throws Exception {
        ProcessPoolExecutor ex = new ProcessPoolExecutor(1);
        Future<Integer> f = ex.submit((Callable<Integer> & Serializable) () -> {
            Thread.sleep(30_000);
            return 1;
        });
        Thread closer = Thread.currentThread();
        Thread interrupter = multiprocessing.Later.run(500, closer::interrupt);
        long t0 = System.nanoTime();
        ex.close();
        long tookMillis = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(Thread.interrupted(), "the interrupt status is kept");
        interrupter.join();
        assertTrue(tookMillis < 20_000, "close() waited " + tookMillis + " ms for the task");
        assertTrue(ex.isTerminated());
        assertTrue(f.isDone());
    }

    /**
     * A wait that began before the shutdown ends when the executor has terminated, not when its
     * time is up (it used to sleep out the whole timeout and return false: attack 22).
     */
    @Test
    void awaitTerminationBegunBeforeTheShutdownSeesIt() throws Exception {
        try (ProcessPoolExecutor ex = new ProcessPoolExecutor(1)) {
            assertEquals(3, ex.submit((Callable<Integer> & Serializable) () -> 3).get());
            assertFalse(ex.awaitTermination(50, TimeUnit.MILLISECONDS), "not shut down yet");
            Thread stopper = multiprocessing.Later.run(300, ex::shutdown);
            // True: it saw the shutdown that came while it waited (it used to return false).
            assertTrue(ex.awaitTermination(40, TimeUnit.SECONDS));
            assertTrue(ex.isTerminated());
            stopper.join();
        }
    }

    /**
     * invokeAll with a task that cannot be submitted (not serializable) throws, and cancels
     * the tasks it submitted before that one, as AbstractExecutorService does: they used to run.
     */
    @Test
    void invokeAllThatCannotSubmitATaskCancelsThoseBeforeIt() throws Exception {
        try (ProcessPoolExecutor ex = new ProcessPoolExecutor(1)) {
            multiprocessing.synchronize.Event release = new multiprocessing.synchronize.Event();
            multiprocessing.sharedctypes.SharedLongArray ran =
                    multiprocessing.sharedctypes.RawArray.ofLongs(1);
            multiprocessing.synchronize.Event running = new multiprocessing.synchronize.Event();
            Future<Integer> busy = ex.submit((Callable<Integer> & Serializable) () -> {
                running.set();
                release.await(Duration.ofSeconds(30));
                return 0;
            });
            // Nothing is queued behind a task that has run for 50 ms (Pool): the next task
            // waits in the pool, where a cancel still reaches it.
            assertTrue(running.await(Duration.ofSeconds(30)));
            Thread.sleep(200);
            Callable<Integer> notSerializable = () -> 2;
            assertThrows(IllegalArgumentException.class, () -> ex.invokeAll(List.of(
                    (Callable<Integer> & Serializable) () -> {
                        ran.setVolatile(0, 1);
                        return 1;
                    },
                    notSerializable)));
            release.set();
            assertEquals(0, busy.get(30, TimeUnit.SECONDS));
            // The only worker is free: a task submitted now runs after the cancelled one would.
            assertEquals(3, ex.submit((Callable<Integer> & Serializable) () -> 3)
                    .get(30, TimeUnit.SECONDS));
            assertEquals(0, ran.getVolatile(0), "a task submitted before the refused one ran");
        }
    }

    /**
     * invokeAll whose caller is interrupted while it waits cancels the tasks it submitted, as
     * AbstractExecutorService does (review 41: they ran on, and the caller had no future left
     * to cancel them with).
     */
    @Test
    void invokeAllInterruptedCancelsItsTasks() throws Exception {
        try (ProcessPoolExecutor ex = new ProcessPoolExecutor(1)) {
            multiprocessing.synchronize.Event release = new multiprocessing.synchronize.Event();
            multiprocessing.synchronize.Event running = new multiprocessing.synchronize.Event();
            multiprocessing.sharedctypes.SharedLongArray ran =
                    multiprocessing.sharedctypes.RawArray.ofLongs(1);
            Future<Integer> busy = ex.submit((Callable<Integer> & Serializable) () -> {
                running.set();
                release.await(Duration.ofSeconds(30));
                return 0;
            });
            assertTrue(running.await(Duration.ofSeconds(30)));
            Thread.sleep(200); // the next task waits in the pool (see above)
            java.util.concurrent.atomic.AtomicReference<Throwable> thrown =
                    new java.util.concurrent.atomic.AtomicReference<>();
            Thread caller = Thread.ofPlatform().start(() -> {
                try {
                    ex.invokeAll(List.of((Callable<Integer> & Serializable) () -> {
                        ran.setVolatile(0, 1);
                        return 1;
                    }));
                } catch (Throwable t) {
                    thrown.set(t);
                }
            });
            Thread.sleep(300);
            caller.interrupt();
            caller.join(TimeUnit.SECONDS.toMillis(30));
            assertInstanceOf(InterruptedException.class, thrown.get());
            release.set();
            assertEquals(0, busy.get(30, TimeUnit.SECONDS));
            // The only worker is free: a task submitted now runs after the cancelled one would.
            assertEquals(3, ex.submit((Callable<Integer> & Serializable) () -> 3)
                    .get(30, TimeUnit.SECONDS));
            assertEquals(0, ran.getVolatile(0), "the task of the interrupted invokeAll ran");
            // submit(task, result) gives back this very result, which need not be serializable.
            Object mine = new Object();
            assertTrue(mine == ex.submit((Runnable & Serializable) () -> { }, mine)
                    .get(30, TimeUnit.SECONDS));
        }
    }

    /**
     * invokeAll with a timeout and invokeAny cancel the tasks they leave unfinished, running
     * ones too, as the ExecutorService contract says: a running task's worker is ended and
     * replaced. The task used to run on, its future not done.
     */
    @Test
    void invokeAllAndInvokeAnyCancelTheRunningTasksTheyLeave() throws Exception {
        try (ProcessPoolExecutor ex = new ProcessPoolExecutor(2)) {
            // Both workers ready: two tasks that run at once, one in each.
            multiprocessing.synchronize.Semaphore arrived = new multiprocessing.synchronize.Semaphore(0);
            multiprocessing.synchronize.Event go = new multiprocessing.synchronize.Event();
            List<Future<Long>> both = new java.util.ArrayList<>();
            for (int i = 0; i < 2; i++) {
                both.add(ex.submit((Callable<Long> & Serializable) () -> {
                    arrived.release();
                    go.await(Duration.ofSeconds(30));
                    return ProcessHandle.current().pid();
                }));
            }
            assertTrue(arrived.acquire(Duration.ofSeconds(60)));
            assertTrue(arrived.acquire(Duration.ofSeconds(60)));
            go.set();
            for (Future<Long> f : both) {
                f.get(30, TimeUnit.SECONDS);
            }
            multiprocessing.sharedctypes.SharedLongArray sleeper =
                    multiprocessing.sharedctypes.RawArray.ofLongs(2);
            List<Future<Integer>> all = ex.invokeAll(List.of(
                    (Callable<Integer> & Serializable) () -> {
                        sleeper.setVolatile(0, ProcessHandle.current().pid());
                        Thread.sleep(30_000);
                        return 1;
                    },
                    (Callable<Integer> & Serializable) () -> 2), 1, TimeUnit.SECONDS);
            assertTrue(all.get(0).isDone() && all.get(0).isCancelled(), outcome(all.get(0)));
            assertThrows(java.util.concurrent.CancellationException.class, () -> all.get(0).get());
            assertEquals(2, all.get(1).get());
            int any = ex.invokeAny(List.of(
                    (Callable<Integer> & Serializable) () -> {
                        sleeper.setVolatile(1, ProcessHandle.current().pid());
                        Thread.sleep(30_000);
                        return 4;
                    },
                    (Callable<Integer> & Serializable) () -> {
                        Thread.sleep(500);
                        return 5;
                    }));
            assertEquals(5, any);
            // The sleepers' workers are gone, and the executor goes on with their replacements.
            for (int i = 0; i < 2; i++) {
                long pid = sleeper.getVolatile(i);
                assertTrue(pid > 0, "sleeper " + i + " ran");
                var h = ProcessHandle.of(pid);
                if (h.isPresent()) {
                    h.get().onExit().get(30, TimeUnit.SECONDS);
                }
            }
            assertEquals(3, ex.submit((Callable<Integer> & Serializable) () -> 3)
                    .get(60, TimeUnit.SECONDS));
        }
    }
}
