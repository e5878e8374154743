package multiprocessing.dummy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.Process;
import multiprocessing.connection.Connections;
import multiprocessing.connection.Pipe;
import multiprocessing.pool.Pool;
import multiprocessing.pool.ThreadPool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** multiprocessing.dummy: the module's API on threads. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DummyTest {

    @Test
    void processesAreThreadsAndThePoolIsAThreadPool() throws Exception {
        Context ctx = Dummy.context();
        assertEquals("dummy", ctx.getStartMethod());
        assertFalse(Multiprocessing.getAllStartMethods().contains("dummy"));

        AtomicLong seen = new AtomicLong();
        Object notSerializable = new Object();
        Process p = ctx.process(() -> seen.set(ProcessHandle.current().pid() + notSerializable.hashCode()
                - notSerializable.hashCode()));
        assertNull(p.exitCode());
        p.start();
        p.join();
        assertEquals(ProcessHandle.current().pid(), seen.get());
        assertEquals(0, p.exitCode());
        assertFalse(p.isAlive());
        p.close();

        Process failing = ctx.process(() -> {
            throw new IllegalStateException("in a dummy process");
        });
        failing.start();
        failing.join();
        assertEquals(1, failing.exitCode());

        try (Pipe pipe = ctx.pipe()) {
            Process sleeper = ctx.process(() -> {
                Thread.sleep(200);
                pipe.right().send("hi");
            });
            sleeper.start();
            assertEquals(List.of(sleeper), Connections.await(List.of(sleeper), Duration.ofSeconds(10)));
            assertEquals("hi", pipe.left().recv());
        }

        try (Pool pool = ctx.pool(2)) {
            assertInstanceOf(ThreadPool.class, pool);
            assertEquals(List.of(2, 4), pool.map(x -> x * 2, List.of(1, 2)));
        }
        try (ThreadPool pool = Dummy.pool(1)) {
            assertEquals(3, pool.apply(() -> 3));
        }
        assertThrows(IllegalStateException.class, () -> ctx.process(() -> { }).join());
        assertTrue(ctx.lock() != null, "the context's other factories are there");
    }
    /**
     * A started dummy process refuses a new daemon flag, which its thread could no longer take
     * (the flag changed and the thread did not), and its own join, which waited for ever
     * (review 48).
     */
    @Test
    void aStartedDummyProcessRefusesDaemonAndItsOwnJoin() throws Exception {
        java.util.concurrent.atomic.AtomicReference<Throwable> selfJoin =
                new java.util.concurrent.atomic.AtomicReference<>();
        Process[] self = new Process[1];
        java.util.concurrent.CountDownLatch set = new java.util.concurrent.CountDownLatch(1);
        Process p = Dummy.context().process(() -> {
            set.await();
            try {
                self[0].join(Duration.ofSeconds(5));
            } catch (Throwable t) {
                selfJoin.set(t);
            }
        });
        self[0] = p;
        p.start();
        assertThrows(IllegalStateException.class, () -> p.daemon(true));
        assertFalse(p.daemon());
        set.countDown();
        p.join(Duration.ofSeconds(10));
        assertInstanceOf(IllegalStateException.class, selfJoin.get());
        assertEquals(0, p.exitCode());
    }
}
