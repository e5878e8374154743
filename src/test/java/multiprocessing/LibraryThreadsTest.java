package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;

import multiprocessing.connection.Address;
import multiprocessing.connection.Client;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Connections;
import multiprocessing.connection.Listener;
import multiprocessing.connection.Pipe;
import multiprocessing.dummy.Dummy;
import multiprocessing.internal.forkserver.ForkServer;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.managers.SharedMemoryManager;
import multiprocessing.managers.SyncManager;
import multiprocessing.sharedmemory.ShareableList;
import multiprocessing.sharedmemory.SharedMemory;
import multiprocessing.synchronize.Barrier;
import multiprocessing.synchronize.Condition;
import multiprocessing.synchronize.Lock;
import multiprocessing.synchronize.Semaphore;
import multiprocessing.pool.Pool;
import multiprocessing.pool.ThreadPool;
import multiprocessing.synchronize.Event;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The threads the library starts for its own work (a pool's, a fork server's keeper, a
 * manager's client, the waiters of virtual threads) live in its own thread group, not in the
 * group of the user's thread that made them start: jshell's local execution engine joins every
 * thread of a snippet's group right after starting the snippet, and would wait for a pool's
 * threads forever.
 */
@ExtendWith(NoLeftoverProcesses.class)
@ExtendWith(NoLeftoverSharedMemory.class)
@Timeout(180)
class LibraryThreadsTest {
    @AfterAll
    static void stopWarmJvms() {
        ForkServer.stopAll();
    }

    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void theLibrarysThreadsStayOutOfTheGroupOfTheThreadThatStartedThem(String method)
            throws Exception {
        AtomicReference<List<String>> seen = new AtomicReference<>();
        asUser(user -> {
            Context ctx = Multiprocessing.getContext(method);
            try (Pool pool = ctx.pool(2);
                    ThreadPool threads = Dummy.pool(2);
                    SyncManager manager = ctx.manager()) {
                var pipe = Pipe.open(false);
                Process p = ctx.process(() -> pipe.right().send("ran"));
                p.start();
                assertEquals("ran", pipe.left().recv());
                p.join();
                assertEquals(List.of(2, 4), pool.map((Integer x) -> 2 * x, List.of(1, 2)));
                assertEquals(List.of(3, 6), threads.map((Integer x) -> 3 * x, List.of(1, 2)));
                Map<String, Integer> d = manager.dict();
                d.put("k", 1);
                assertEquals(1, d.get("k"));
                // A virtual thread's wait on a library object starts the waiters' threads.
                Event event = ctx.event();
                Thread waiter = Thread.ofVirtual().start(event::await);
                Thread.sleep(100);
                event.set();
                waiter.join();
                seen.set(othersIn(user));
                pipe.close();
                p.close();
            }
        });
        assertEquals(List.of(), seen.get(), "threads of the library in the user's group");
        assertTrue(LibraryThreads.group().activeCount() > 0,
                "the library's threads are in its own group");
    }

    /**
     * The other entry points a jshell user calls, each kept alive until the check: queues and
     * synchronizers waited on by virtual threads (the futex watcher, the descriptor poller),
     * shared memory, a listener and its client, Connections.await, a pool's imap and
     * callbacks, a ProcessPoolExecutor, a SharedMemoryManager, a manager reached by connect(),
     * the resource sharer.
     */
    @Test
    void theOtherEntryPointsStartNoThreadInTheCallersGroup() throws Exception {
        AtomicReference<List<String>> seen = new AtomicReference<>();
        asUser(user -> {
            Context ctx = Multiprocessing.getContext("spawn");
            List<Thread> waiters = new ArrayList<>();
            List<Throwable> waitFailed = new java.util.concurrent.CopyOnWriteArrayList<>();
            try (Pool pool = ctx.pool(1);
                    ProcessPoolExecutor executor = new ProcessPoolExecutor(1);
                    SharedMemoryManager smm = new SharedMemoryManager();
                    SyncManager served = new SyncManager(Address.inet("127.0.0.1", 0), KEY);
                    Listener listener = new Listener(Address.inet("127.0.0.1", 0), KEY)) {
                Queue<Object> queue = ctx.queue();
                JoinableQueue<Object> joinable = ctx.joinableQueue();
                SimpleQueue<Object> simple = ctx.simpleQueue();
                Lock lock = ctx.lock();
                Condition condition = ctx.condition();
                Semaphore semaphore = ctx.semaphore(0);
                Barrier barrier = ctx.barrier(2);
                var pipe = Pipe.open(true);
                // Virtual threads that wait on each until the check is done.
                lock.acquire();
                waiters.add(waiter(waitFailed, () -> get(queue)));
                waiters.add(waiter(waitFailed, () -> get(joinable)));
                waiters.add(waiter(waitFailed, () -> get(simple)));
                waiters.add(waiter(waitFailed, () -> {
                    lock.acquire();
                    lock.release();
                }));
                waiters.add(waiter(waitFailed, () -> {
                    condition.acquire();
                    try {
                        condition.await(java.time.Duration.ofSeconds(60));
                    } finally {
                        condition.release();
                    }
                }));
                waiters.add(waiter(waitFailed, semaphore::acquire));
                waiters.add(waiter(waitFailed, () -> barrier.await()));
                waiters.add(waiter(waitFailed, () -> Connections.await(
                        List.of(pipe.right()), java.time.Duration.ofSeconds(60))));
                waiters.add(waiter(waitFailed, () -> {
                    try (Connection c = Client.connect(listener.address(), KEY)) {
                        c.send("hello");
                    }
                }));
                try (Connection accepted = listener.accept()) {
                    assertEquals("hello", accepted.recv());
                }
                // A connection sent through a one-way pipe goes by the resource sharer.
                var carrier = Pipe.open(false);
                var inner = Pipe.open(true);
                carrier.right().send(inner.left());
                try (Connection received = (Connection) carrier.left().recv()) {
                    received.send("shared");
                    assertEquals("shared", inner.right().recv());
                }
                var value = ctx.value("i", 1);
                value.value(2);
                var array = ctx.array("d", 3);
                array.set(0, 1.5);
                smm.start();
                SharedMemory shm = smm.sharedMemory(64);
                ShareableList list = ShareableList.create(List.of(1, 2));
                BlockingQueue<Object> called = new LinkedBlockingQueue<>();
                pool.applyAsync(() -> 6, called::add, called::add);
                assertEquals(6, called.poll(60, java.util.concurrent.TimeUnit.SECONDS));
                var it = pool.imap((Integer x) -> x + 1, List.of(1, 2));
                assertEquals(2, it.next());
                assertEquals(3, it.next());
                assertEquals(4, executor.submit((SerializableCallable<Integer>) () -> 4).get());
                served.start();
                try (SyncManager remote = new SyncManager(served.address(), KEY)) {
                    remote.connect();
                    Map<String, Integer> d = remote.dict();
                    d.put("k", 1);
                    Thread.sleep(200); // the virtual threads are parked by now
                    seen.set(othersIn(user));
                }
                queue.put(1);
                joinable.put(1);
                simple.put(1);
                lock.release();
                condition.acquire();
                condition.signalAll();
                condition.release();
                semaphore.release();
                barrier.await();
                pipe.left().send(1);
                for (Thread w : waiters) {
                    w.join();
                }
                assertEquals(List.of(), waitFailed, "the waits failed");
                list.close();
                list.shm().unlink();
                shm.close();
                pipe.left().close();
                pipe.right().close();
                for (Connection c : List.of(carrier.left(), carrier.right(), inner.left(),
                        inner.right())) {
                    c.close();
                }
                queue.close();
                joinable.close();
                simple.close();
            }
        });
        assertEquals(List.of(), seen.get(), "threads of the library in the user's group");
    }

    interface Wait {
        void run() throws Exception;
    }

    interface UserCode {
        void run(ThreadGroup user) throws Exception;
    }

    /**
     * Runs {@code code} on a thread of a new group, as a jshell snippet runs, passing that
     * group; what it throws fails the test.
     */
    private static void asUser(UserCode code) throws InterruptedException {
        ThreadGroup user = new ThreadGroup("user-code");
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread caller = new Thread(user, () -> {
            try {
                code.run(user);
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "user-caller");
        caller.start();
        caller.join();
        if (failed.get() != null) {
            throw new AssertionError("the user's code failed", failed.get());
        }
    }

    /** A virtual thread that runs {@code wait}, and adds to {@code failed} what it throws. */
    private static Thread waiter(List<Throwable> failed, Wait wait) {
        return Thread.ofVirtual().start(() -> {
            try {
                wait.run();
            } catch (Throwable e) {
                failed.add(e);
            }
        });
    }

    private static final byte[] KEY = "library-threads-test-key".getBytes();

    private static Object get(Object queue) {
        try {
            return switch (queue) {
                case Queue<?> q -> q.get();
                case SimpleQueue<?> q -> q.get();
                default -> throw new IllegalArgumentException(String.valueOf(queue));
            };
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The first use of the serializer builds it on a thread of the library's (Fory starts its
     * cleaner thread as it is built): from several threads at once, with an interrupt pending,
     * from virtual threads on a single carrier, it neither deadlocks nor leaves Fory's thread
     * in a group of the program's, and a pending interrupt is kept.
     */
    @Test
    void aFirstSerializationFromManyThreadsAtOnceBuildsOnceAndLeavesNoThreadBehind()
            throws Exception {
        assertEquals(List.of("ok"), harness("concurrent",
                "-Djdk.virtualThreadScheduler.parallelism=1",
                "-Djdk.virtualThreadScheduler.maxPoolSize=1"));
    }

    /** A shutdown hook may be the first to serialize: the build starts a thread then too. */
    @Test
    void aFirstSerializationInAShutdownHookWorks() throws Exception {
        assertEquals(List.of("ok"), harness("shutdown-hook"));
    }

    /** A pending interrupt neither stops the work nor is lost. */
    @Test
    void callInGroupKeepsAPendingInterrupt() throws Exception {
        ThreadGroup user = new ThreadGroup("user-code");
        AtomicReference<Object> seen = new AtomicReference<>();
        Thread caller = new Thread(user, () -> {
            Thread.currentThread().interrupt();
            String group = LibraryThreads.callInGroup("test-call",
                    () -> Thread.currentThread().getThreadGroup().getName());
            seen.set(List.of(group, Thread.currentThread().isInterrupted()));
        }, "user-caller");
        caller.start();
        caller.join();
        assertEquals(List.of(LibraryThreads.group().getName(), true), seen.get());
    }

    /** Runs {@link FirstSerializationHarness} in a fresh JVM; its output lines. */
    private static List<String> harness(String scenario, String... jvmOptions) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"),
                FirstSerializationHarness.class.getName(), scenario));
        java.lang.Process jvm = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            // Bounded: a deadlock in the first use must fail the test, not hang it.
            if (!jvm.waitFor(90, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new AssertionError("the first use of the serializer (" + scenario
                        + ") hangs: " + new String(jvm.getInputStream().readNBytes(
                                jvm.getInputStream().available())));
            }
            String out = new String(jvm.getInputStream().readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(0, jvm.exitValue(), out);
            return out.lines().toList();
        } finally {
            jvm.destroyForcibly();
        }
    }

    /** The live threads of {@code group} other than the current one, by name. */
    private static List<String> othersIn(ThreadGroup group) {
        Thread[] all = new Thread[group.activeCount() + 16];
        int n = group.enumerate(all, true);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (all[i] != Thread.currentThread()) {
                names.add(all[i].getName());
            }
        }
        return names;
    }
}
