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
