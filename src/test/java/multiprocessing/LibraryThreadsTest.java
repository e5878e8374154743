package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import multiprocessing.connection.Pipe;
import multiprocessing.dummy.Dummy;
import multiprocessing.internal.forkserver.ForkServer;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.managers.SyncManager;
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
        ThreadGroup user = new ThreadGroup("user-code");
        AtomicReference<List<String>> seen = new AtomicReference<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread caller = new Thread(user, () -> {
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
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "user-caller");
        caller.start();
        caller.join();
        if (failed.get() != null) {
            throw new AssertionError("the user's code failed", failed.get());
        }
        assertEquals(List.of(), seen.get(), "threads of the library in the user's group");
        assertTrue(LibraryThreads.group().activeCount() > 0,
                "the library's threads are in its own group");
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
