package multiprocessing.internal.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import jdk.jfr.Category;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Name;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingStream;

import multiprocessing.ForkServerContext;
import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.Queue;
import multiprocessing.managers.DictProxy;
import multiprocessing.managers.ListProxy;
import multiprocessing.managers.SyncManager;
import multiprocessing.pool.Pool;
import multiprocessing.pool.ThreadPool;
import multiprocessing.synchronize.Lock;
import multiprocessing.synchronize.Semaphore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The library's Flight Recorder events, recorded with a {@link RecordingStream} in this JVM
 * while real child processes hold locks, fill and drain queues, run pool tasks and serve a
 * manager. One recording and as few children as can show every event type.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FlightRecorderEventsTest {
    private static final long PID = ProcessHandle.current().pid();
    /** How long a child keeps the parent waiting: far above any threshold, far below a timeout. */
    private static final long HOLD_MILLIS = 300;

    private final ConcurrentLinkedQueue<RecordedEvent> recorded = new ConcurrentLinkedQueue<>();

    @Test
    void eachEventTypeIsRecordedWithItsFields() throws Exception {
        // A wait before Flight Recorder is in use (if no other test of this JVM started it):
        // it makes no event and loads no event class, and adds the listener that registers the
        // types when a recording starts.
        waitOnceForALockHeldByAnotherThread();
        try (RecordingStream stream = new RecordingStream()) {
            for (Class<? extends Event> type : Registration.Registrar.types()) {
                // By name, as a user's settings name them. No threshold, so that the test does
                // not depend on the default's 10 ms; the waits below last HOLD_MILLIS anyway.
                stream.enable(type.getAnnotation(Name.class).value()).withoutThreshold()
                        .withStackTrace();
            }
            stream.setReuse(false); // the events are kept, to be checked after the stream stops
            stream.onEvent(e -> {
                if (e.getEventType().getName().startsWith("multiprocessing.")) {
                    recorded.add(e);
                }
            });
            stream.startAsync();

            // Each scenario runs now and returns its checks, run once all is recorded.
            List<Check> checks = List.of(waitsOnAChild(), poolTasks(), forkserverChild(),
                    managerCalls(), threadPoolTask());

            stream.stop(); // flushes: every event committed so far is delivered
            for (Check check : checks) {
                check.run();
            }
        }
        for (RecordedEvent e : recorded) {
            Category category = e.getEventType().getAnnotation(Category.class);
            assertEquals(List.of("multiprocessing"), List.of(category.value()), e.toString());
        }
    }

    /** What a scenario checks once the recording has stopped. */
    private interface Check {
        void run() throws Exception;
    }

    private static void waitOnceForALockHeldByAnotherThread() throws InterruptedException {
        Lock lock = new Lock();
        lock.acquire();
        Thread waiter = Thread.ofPlatform().start(() -> {
            lock.acquire();
            lock.release();
        });
        Thread.sleep(20);
        lock.release();
        waiter.join();
    }

    /**
     * A child holds a Lock, then keeps an item from a queue, then keeps room in a full bounded
     * queue, each for HOLD_MILLIS, while this process waits; then exits with code 3.
     */
    private Check waitsOnAChild() throws Exception {
        Lock lock = new Lock();
        Semaphore held = new Semaphore(0);
        Queue<String> late = new Queue<>();
        Queue<String> bounded = new Queue<>(1);
        Process p = new Process(() -> {
            lock.acquire();
            held.release();
            Thread.sleep(HOLD_MILLIS);
            lock.release();
            Thread.sleep(HOLD_MILLIS);
            late.put("late");
            Thread.sleep(HOLD_MILLIS);
            bounded.get();
            System.exit(3);
        });
        p.start();
        long startCalled = System.nanoTime();
        held.acquire();
        lock.acquire();
        lock.release();
        assertEquals("late", late.get());
        bounded.put("first");
        bounded.put("second"); // waits until the child takes the first
        p.join();
        assertEquals(3, p.exitCode());
        long elapsed = System.nanoTime() - startCalled;
        String testThread = Thread.currentThread().getName();
        return () -> checkWaits(p, elapsed, testThread);
    }

    private void checkWaits(Process p, long elapsed, String testThread) {
        checkProcessEvents(p, 3, "spawn");
        RecordedEvent semaphore = one("multiprocessing.LockWait",
                e -> "Semaphore".equals(e.getString("kind")) && byThisTest(e));
        assertEquals(0, semaphore.getLong("ownerPid"));
        RecordedEvent lockWait = one("multiprocessing.LockWait",
                e -> "Lock".equals(e.getString("kind")) && e.getLong("ownerPid") == p.pid());
        assertTrue(lockWait.getBoolean("acquired"));
        assertEquals(Long.MAX_VALUE, lockWait.getLong("timeout"));
        assertTrue(lockWait.getDuration().toMillis() >= HOLD_MILLIS / 2, lockWait.toString());
        assertTrue(byThisTest(lockWait), "the waiter's stack: " + lockWait);
        assertEquals(testThread, lockWait.getThread().getJavaName());

        RecordedEvent get = one("multiprocessing.QueueGet", FlightRecorderEventsTest::byThisTest);
        assertTrue(get.getBoolean("done"));
        assertTrue(get.getDuration().toMillis() >= HOLD_MILLIS / 2, get.toString());
        RecordedEvent put = one("multiprocessing.QueuePut", FlightRecorderEventsTest::byThisTest);
        assertTrue(put.getBoolean("done"));
        assertTrue(put.getDuration().toMillis() >= HOLD_MILLIS / 2, put.toString());
        assertFalse(put.getString("queue").equals(get.getString("queue")),
                "two queues, two names: " + put.getString("queue"));
        assertTrue(get.getString("queue").matches("/\\S+\\+\\d+"), get.getString("queue"));
        assertTrue(elapsed >= 3 * HOLD_MILLIS * 1_000_000);
    }

    /** Two workers run six 100 ms tasks, one at a time each: tasks queue behind one another. */
    private Check poolTasks() throws Exception {
        List<Long> workers;
        try (Pool pool = Pool.builder().processes(2).build()) {
            List<Integer> squares = pool.map(x -> {
                Thread.sleep(100);
                return x * x;
            }, IntStream.range(0, 6).boxed().toList(), 1);
            assertEquals(List.of(0, 1, 4, 9, 16, 25), squares);
            assertThrows(IllegalStateException.class, () -> pool.apply(() -> {
                throw new IllegalStateException("failing on purpose");
            }));
            workers = pool.workerPids();
            pool.close();
            pool.join();
        }
        assertEquals(2, workers.size());
        return () -> checkPoolTasks(workers);
    }

    private void checkPoolTasks(List<Long> workers) {
        for (long worker : workers) {
            RecordedEvent start = one("multiprocessing.ProcessStart",
                    e -> e.getLong("pid") == worker);
            assertTrue(start.getString("name").startsWith("SpawnPoolWorker-"), start.toString());
        }
        List<RecordedEvent> tasks = all("multiprocessing.PoolTask",
                e -> workers.contains(e.getLong("workerPid")));
        assertEquals(7, tasks.size(), tasks.toString());
        Set<Long> firstItems = new TreeSet<>();
        long mapJob = -1;
        long queuedLongest = 0;
        for (RecordedEvent t : tasks) {
            if (t.getBoolean("failed")) {
                continue;
            }
            if (mapJob < 0) {
                mapJob = t.getLong("job");
            }
            assertEquals(mapJob, t.getLong("job"));
            assertEquals(1, t.getInt("items"));
            firstItems.add(t.getLong("firstItem"));
            assertTrue(t.getString("worker").startsWith("SpawnPoolWorker-"), t.toString());
            Duration run = t.getDuration("runTime");
            Duration wait = t.getDuration("queueWait");
            assertTrue(run.toMillis() >= 100 && run.toMillis() < 10_000, t.toString());
            assertTrue(t.getDuration().compareTo(run.plus(wait)) >= 0,
                    "the event spans both: " + t);
            queuedLongest = Math.max(queuedLongest, wait.toMillis());
        }
        assertEquals(Set.of(0L, 1L, 2L, 3L, 4L, 5L), firstItems);
        // Six tasks on two workers: the last pair waits behind two others.
        assertTrue(queuedLongest >= 150, "queue waits up to " + queuedLongest + " ms");
        RecordedEvent failed = one("multiprocessing.PoolTask",
                e -> e.getBoolean("failed") && workers.contains(e.getLong("workerPid")));
        assertEquals(1, failed.getInt("items"));
        assertTrue(failed.getDuration("runTime").toNanos() >= 0, failed.toString());
    }

    private Check forkserverChild() throws Exception {
        ForkServerContext ctx = ((ForkServerContext) Multiprocessing.getContext("forkserver"))
                .withMaxWarm(0);
        Process p = ctx.process(() -> { });
        p.start();
        p.join();
        assertEquals(0, p.exitCode());
        return () -> checkProcessEvents(p, 0, "forkserver");
    }

    private void checkProcessEvents(Process p, int exitCode, String startMethod) {
        RecordedEvent start = one("multiprocessing.ProcessStart", e -> e.getLong("pid") == p.pid());
        assertEquals(p.name(), start.getString("name"));
        assertEquals(startMethod, start.getString("startMethod"));
        assertTrue(start.getDuration().toMillis() > 0 && start.getDuration().toSeconds() < 60,
                "time to start: " + start);
        RecordedEvent end = one("multiprocessing.ProcessEnd", e -> e.getLong("pid") == p.pid());
        assertEquals(p.name(), end.getString("name"));
        assertEquals(startMethod, end.getString("startMethod"));
        assertEquals(exitCode, end.getInt("exitCode"));
        assertTrue(end.getDuration().compareTo(start.getDuration()) > 0, "lifetime: " + end);
        assertTrue(Duration.between(start.getStartTime(), end.getStartTime()).abs()
                .toMillis() < 1000, "both begin in start(): " + start + end);
    }

    private Check managerCalls() throws Exception {
        String address;
        try (SyncManager manager = Multiprocessing.manager()) {
            address = manager.address().toString();
            DictProxy<String, Integer> dict = manager.dict();
            ListProxy<String> list = manager.list();
            dict.put("k", 1);
            Process p = new Process(() -> dict.merge("k", 1, Integer::sum));
            p.start();
            p.join();
            assertEquals(2, dict.get("k"));
            assertThrows(IndexOutOfBoundsException.class, () -> list.get(5));
        }
        return () -> checkManagerCalls(address);
    }

    private void checkManagerCalls(String address) {
        List<RecordedEvent> calls = all("multiprocessing.ManagerCall",
                e -> address.equals(e.getString("manager")));
        RecordedEvent create = calls.stream()
                .filter(e -> "create".equals(e.getString("operation"))
                        && "dict".equals(e.getString("type")))
                .findFirst().orElseThrow(() -> new AssertionError("no create: " + calls));
        assertNull(create.getString("exception"));
        RecordedEvent put = calls.stream()
                .filter(e -> "call".equals(e.getString("operation"))
                        && "put".equals(e.getString("method")))
                .findFirst().orElseThrow(() -> new AssertionError("no put: " + calls));
        assertEquals("dict", put.getString("type"));
        assertNotNull(put.getString("objectId"));
        assertTrue(byThisTest(put), "the caller's stack: " + put);
        RecordedEvent failed = calls.stream()
                .filter(e -> e.getString("exception") != null)
                .findFirst().orElseThrow(() -> new AssertionError("no failed call: " + calls));
        assertEquals("get", failed.getString("method"));
        assertEquals("list", failed.getString("type"));
        assertEquals(IndexOutOfBoundsException.class.getName(), failed.getString("exception"));
        // The child's merge is in the child's recording, not in this one.
        assertFalse(calls.stream().anyMatch(e -> "merge".equals(e.getString("method"))));
    }

    private Check threadPoolTask() throws Exception {
        try (ThreadPool pool = new ThreadPool(1)) {
            assertEquals(42, pool.apply(() -> {
                Thread.sleep(50);
                return 42;
            }));
            pool.close();
            pool.join();
        }
        return this::checkThreadPoolTask;
    }

    private void checkThreadPoolTask() {
        RecordedEvent task = one("multiprocessing.PoolTask", e -> e.getLong("workerPid") == PID);
        assertTrue(task.getString("worker").startsWith("ThreadPoolWorker-"), task.toString());
        assertTrue(task.getDuration("runTime").toMillis() >= 50, task.toString());
        assertEquals(task.getString("worker"), task.getThread().getJavaName());
    }

    private static boolean byThisTest(RecordedEvent e) {
        if (e.getStackTrace() == null) {
            return false;
        }
        for (RecordedFrame f : e.getStackTrace().getFrames()) {
            String type = f.getMethod().getType().getName();
            if (type.equals(FlightRecorderEventsTest.class.getName())) {
                return true;
            }
        }
        return false;
    }

    private List<RecordedEvent> all(String name, Predicate<RecordedEvent> filter) {
        List<RecordedEvent> found = new ArrayList<>();
        for (RecordedEvent e : recorded) {
            if (e.getEventType().getName().equals(name) && filter.test(e)) {
                found.add(e);
            }
        }
        return found;
    }

    private RecordedEvent one(String name, Predicate<RecordedEvent> filter) {
        List<RecordedEvent> found = all(name, filter);
        assertEquals(1, found.size(), name + " events: " + found + "\nall recorded: "
                + recorded.stream().map(e -> e.getEventType().getName()).toList());
        return found.get(0);
    }

    /** The README's Flight Recorder section names exactly the event types there are. */
    @Test
    void readmeNamesTheEventTypes() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int section = readme.indexOf("## Flight Recorder");
        assertTrue(section >= 0, "README has a Flight Recorder section");
        String text = readme.substring(section, readme.indexOf("\n## ", section + 1));
        Set<String> named = new TreeSet<>();
        Matcher m = Pattern.compile("multiprocessing\\.([A-Z]\\w+)").matcher(text);
        while (m.find()) {
            named.add(m.group());
        }
        Set<String> types = new TreeSet<>();
        for (Class<? extends Event> type : Registration.Registrar.types()) {
            types.add(type.getAnnotation(Name.class).value());
        }
        assertEquals(types, named);
    }

    /**
     * In a fresh child that records nothing, the first waits on a lock and a queue load a few
     * classes, not Flight Recorder's metadata (some 600 classes, 300 ms and more: what a
     * registered event class costs at its first use), and leave Flight Recorder uninitialized.
     * Nor any of the library's event classes: no AOT cache keeps them, and loading one opened
     * the library's jar in a child that had every other class from the cache (see Recorder).
     */
    @Test
    void aWaitInAJvmThatRecordsNothingLoadsNoFlightRecorderMachinery(
            @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        // A log per JVM: a cache trainer started beside the child gets the same options.
        multiprocessing.Context ctx = Multiprocessing.getContext("spawn")
                .withJvmOptions("-Xlog:class+load=info:file=" + dir.resolve("%p.log"));
        Queue<String> report = ctx.queue();
        Queue<String> empty = ctx.queue();
        Process p = ctx.process(() -> {
            var classes = java.lang.management.ManagementFactory.getClassLoadingMXBean();
            Lock warm = new Lock(); // the lock's own classes, loaded before counting
            warm.acquire();
            warm.release();
            long before = classes.getTotalLoadedClassCount();
            Lock lock = new Lock();
            lock.acquire();
            Thread other = Thread.ofPlatform().start(() -> {
                lock.acquire(); // a LockWait in a JVM that records nothing
                lock.release();
            });
            Thread.sleep(50);
            lock.release();
            other.join();
            try {
                empty.get(Duration.ofMillis(50)); // a QueueGet likewise
            } catch (multiprocessing.EmptyException expected) {
                // nothing was put
            }
            report.put((classes.getTotalLoadedClassCount() - before) + " "
                    + FlightRecorder.isInitialized());
        });
        p.start();
        String[] r = report.get().split(" ");
        p.join();
        assertEquals(0, p.exitCode());
        assertEquals("false", r[1], "Flight Recorder initialized in the child");
        System.out.println("classes loaded by the first waits: " + r[0]);
        assertTrue(Integer.parseInt(r[0]) < 200, r[0] + " classes loaded by the waits");
        List<String> events;
        try (var lines = Files.lines(dir.resolve(p.pid() + ".log"))) {
            events = lines.filter(
                    l -> l.matches(".*multiprocessing\\.internal\\.events\\.\\w+Event .*")).toList();
        }
        assertEquals(List.of(), events, "event classes loaded by a child that records nothing");
        report.close();
        empty.close();
    }
    /**
     * A child that records from its start registers the event types ahead, so the event of
     * its first wait covers the whole wait: the first wait registered them inside itself,
     * 60-170 ms, before its event began (attack 29c: a 200 ms wait for a lock was recorded as
     * 56 ms, and a first timed wait lasted that much past its timeout).
     */
    @Test
    void aChildThatRecordsFromItsStartRecordsItsFirstWaitWhole(
            @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = dir.resolve("child.jfr");
        String elapsedFile = dir.resolve("elapsed").toString();
        Process p = Multiprocessing.getContext("spawn")
                .withJvmOptions("-XX:StartFlightRecording:filename=" + file
                        + ",settings=profile")
                .process(() -> {
                    Thread.sleep(2_000); // the registration ahead is done by now
                    Lock lock = new Lock();
                    java.util.concurrent.CountDownLatch held =
                            new java.util.concurrent.CountDownLatch(1);
                    Thread holder = Thread.ofPlatform().start(() -> {
                        lock.acquire();
                        held.countDown();
                        try {
                            Thread.sleep(HOLD_MILLIS);
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        } finally {
                            lock.release();
                        }
                    });
                    held.await();
                    long t0 = System.nanoTime();
                    lock.acquire(); // the child's first wait
                    long elapsed = System.nanoTime() - t0;
                    lock.release();
                    holder.join();
                    Files.writeString(Path.of(elapsedFile), Long.toString(elapsed));
                });
        p.start();
        p.join();
        assertEquals(0, p.exitCode());
        long elapsed = Long.parseLong(Files.readString(Path.of(elapsedFile)));
        List<RecordedEvent> waits = jdk.jfr.consumer.RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("multiprocessing.LockWait"))
                .toList();
        assertEquals(1, waits.size(), waits.toString());
        long recorded = waits.get(0).getDuration().toNanos();
        assertTrue(recorded >= elapsed * 9 / 10, "the first wait took " + elapsed / 1_000_000
                + " ms, its event says " + recorded / 1_000_000 + " ms");
    }

    /**
     * Flight Recorder started late with {@code jcmd JFR.start}, in a JVM that had already waited
     * through the library (so asked whether it records): the recording starts and the waits
     * after it are recorded. It failed to start ("duplicate class definition" of an event
     * class), and the next wait threw IllegalAccessError (attack 29d); an event class loaded
     * while the recording started, before its type was registered, threw it too (attack 31).
     */
    @Test
    void aRecordingStartedLateWithJcmdRecordsTheWaitsThatFollow(
            @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = dir.resolve("late.jfr");
        multiprocessing.Context ctx = Multiprocessing.getContext("spawn")
                .withJvmOptions("-XX:-DisableAttachMechanism"); // children refuse jcmd else
        Queue<String> ready = ctx.queue();
        Queue<String> go = ctx.queue();
        Queue<String> empty = ctx.queue();
        Process p = ctx.process(() -> {
            Semaphore none = new Semaphore(0);
            none.acquire(Duration.ofMillis(20)); // a wait before Flight Recorder is in use
            // Waits all along, so that some begin while the recording starts.
            java.util.concurrent.atomic.AtomicBoolean stop =
                    new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicReference<Throwable> failed =
                    new java.util.concurrent.atomic.AtomicReference<>();
            Thread busy = Thread.ofPlatform().start(() -> {
                try {
                    while (!stop.get()) {
                        none.acquire(Duration.ofMillis(1));
                    }
                } catch (Throwable t) {
                    failed.set(t);
                }
            });
            ready.put("waited");
            go.get(Duration.ofSeconds(60));
            stop.set(true);
            busy.join();
            if (failed.get() != null) {
                throw new AssertionError("a wait while the recording started", failed.get());
            }
            none.acquire(Duration.ofMillis(50)); // a LockWait
            try {
                empty.get(Duration.ofMillis(50)); // a QueueGet
            } catch (multiprocessing.EmptyException expected) {
                // nothing was put
            }
        });
        p.start();
        try {
            recordLate(p, file, ready, go);
        } finally {
            if (p.isAlive()) {
                p.kill(); // a failed check leaves it waiting
            }
            p.join();
            ready.close();
            go.close();
            empty.close();
        }
        assertEquals(0, p.exitCode(), "the child's waits after the recording started");
        Set<String> types = new TreeSet<>();
        for (RecordedEvent e : jdk.jfr.consumer.RecordingFile.readAllEvents(file)) {
            types.add(e.getEventType().getName());
        }
        assertTrue(types.contains("multiprocessing.LockWait"), types.toString());
        assertTrue(types.contains("multiprocessing.QueueGet"), types.toString());
    }

    private static void recordLate(Process p, Path file, Queue<String> ready, Queue<String> go)
            throws Exception {
        assertEquals("waited", ready.get(Duration.ofSeconds(60)));
        java.lang.ProcessBuilder jcmd = new java.lang.ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(p.pid()), "JFR.start", "filename=" + file)
                .redirectErrorStream(true);
        java.lang.Process attach = jcmd.start();
        String said = new String(attach.getInputStream().readAllBytes());
        assertTrue(attach.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, attach.exitValue(), said);
        assertFalse(said.contains("duplicate class definition"), said);
        go.put("go");
        p.join(Duration.ofSeconds(60));
    }
}
