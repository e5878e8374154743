package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;

import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;
import multiprocessing.sharedctypes.Array;
import multiprocessing.sharedctypes.Value;
import multiprocessing.sharedmemory.SharedMemory;
import multiprocessing.synchronize.Event;
import multiprocessing.synchronize.Lock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A spawned child reads its process without building Fory when the target captures only
 * values and the library's objects (the plain stream), and through Fory otherwise; either way
 * what it captured works there. Exit code 0 tells the parent the child never built Fory, 3
 * that it did (Fory starts its cleaner thread as it is built).
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(120)
class StartPayloadTest {
    record Note(String text) implements Serializable {}

    private static int foryBuiltCode() {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t ->
                t.getName().equals(FirstSerializationHarness.FORY_CLEANER)) ? 3 : 0;
    }

    @Test
    void aChildThatCapturesTheLibrarysObjectsNeverBuildsFory() throws Exception {
        Context ctx = Multiprocessing.getContext("spawn");
        Lock lock = ctx.lock();
        Event event = ctx.event();
        Value counter = ctx.value("i", 41);
        Array cells = ctx.array("d", 3);
        try (Pipe pipe = Pipe.open(); SharedMemory shm = SharedMemory.create(64)) {
            Connection right = pipe.right();
            String word = "payload";
            List<Integer> numbers = List.of(1, 2, 3);
            int[] ints = {5, 6};
            Process p = ctx.process(() -> {
                lock.lock();
                try {
                    counter.value((Integer) counter.value() + 1);
                } finally {
                    lock.unlock();
                }
                cells.set(2, 2.5);
                shm.buf().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 9);
                right.sendBytes((word + numbers + ints[1]).getBytes());
                event.set();
                System.exit(foryBuiltCode());
            });
            p.start();
            assertTrue(event.await(Duration.ofSeconds(60)));
            assertArrayEquals("payload[1, 2, 3]6".getBytes(), pipe.left().recvBytes());
            p.join(Duration.ofSeconds(60));
            assertEquals(Integer.valueOf(0), p.exitCode(), "the child built Fory (3) or failed");
            assertEquals(42, counter.value());
            assertEquals(2.5, cells.get(2));
            assertEquals(9, shm.buf().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
            p.close();
            shm.unlink();
        }
    }

    /**
     * A child that sends and receives only plain values (numbers, strings, byte arrays, null)
     * through a queue and a pipe never builds Fory either: such a message is written without
     * it, and arrives as the same value of the same class.
     */
    @Test
    void aChildThatSendsOnlyPlainValuesNeverBuildsFory() throws Exception {
        Context ctx = Multiprocessing.getContext("spawn");
        Queue<Object> q = ctx.queue();
        try (Pipe pipe = Pipe.open()) {
            Connection right = pipe.right();
            Process p = ctx.process(() -> {
                try {
                    q.put(1);
                    q.put(2L);
                    q.put("\u00e9t\u00e9 \u2603 \ud800"); // Latin-1, then UTF-16 with a lone surrogate
                    q.put(new byte[] {1, 2, 3});
                    q.put(null);
                    q.put(-0.0);
                    right.send(right.recv() + "!");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                System.exit(foryBuiltCode());
            });
            p.start();
            pipe.left().send("hello");
            assertEquals(1, q.get());
            assertEquals(2L, q.get());
            assertEquals("\u00e9t\u00e9 \u2603 \ud800", q.get());
            assertArrayEquals(new byte[] {1, 2, 3}, (byte[]) q.get());
            assertEquals(null, q.get());
            assertEquals(Double.doubleToRawLongBits(-0.0),
                    Double.doubleToRawLongBits((Double) q.get()));
            assertEquals("hello!", pipe.left().recv());
            p.join(Duration.ofSeconds(60));
            assertEquals(Integer.valueOf(0), p.exitCode(), "the child built Fory (3) or failed");
            p.close();
        } finally {
            q.close();
        }
    }

    /**
     * A program that uses a manager with plain values (a dict, a list: its proxies, their
     * calls and replies) never builds Fory: the connection's hello, the requests, the replies
     * and the proxies a create returns are written without it. Its server, which builds it in
     * the background, is another process.
     */
    @Test
    void aChildThatUsesAManagerWithPlainValuesNeverBuildsFory() throws Exception {
        Process p = Multiprocessing.getContext("spawn").process(() -> {
            int code;
            try (multiprocessing.managers.SyncManager m = new multiprocessing.managers.SyncManager()) {
                m.start();
                java.util.Map<String, Integer> d = m.dict();
                d.put("k", 41);
                d.put("k", d.get("k") + 1);
                java.util.List<String> l = m.list();
                l.add("x");
                code = d.get("k") == 42 && "x".equals(l.get(0)) ? foryBuiltCode() : 1;
            }
            System.exit(code);
        });
        p.start();
        p.join(Duration.ofSeconds(60));
        assertEquals(Integer.valueOf(0), p.exitCode(), "the child built Fory (3) or failed");
        p.close();
    }

    /**
     * A child started for the lean AOT cache (the library names the marker only when there is
     * a cache; here the option is given by hand) marks it when it builds Fory, and only then.
     */
    @Test
    void aChildToldWhereToReportMarksOnlyWhenItBuildsFory(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) throws Exception {
        java.nio.file.Path quiet = dir.resolve("quiet.miss");
        java.nio.file.Path builds = dir.resolve("builds.miss");
        Context ctx = Multiprocessing.getContext("spawn");
        Process noSerializer = ctx.withJvmOptions("-Dmultiprocessing.aotCache.leanMiss=" + quiet)
                .process(() -> System.exit(foryBuiltCode()));
        Process serializer = ctx.withJvmOptions("-Dmultiprocessing.aotCache.leanMiss=" + builds)
                .process(() -> {
                    try (Queue<Object> own = new Queue<>()) {
                        own.put(new Note("through Fory"));
                        System.exit(own.get() instanceof Note ? foryBuiltCode() : 1);
                    }
                });
        for (Process p : List.of(noSerializer, serializer)) {
            p.start();
            p.join(Duration.ofSeconds(60));
        }
        assertEquals(Integer.valueOf(0), noSerializer.exitCode());
        assertEquals(Integer.valueOf(3), serializer.exitCode());
        noSerializer.close();
        serializer.close();
        assertTrue(java.nio.file.Files.notExists(quiet), "a child that never built Fory");
        assertTrue(java.nio.file.Files.exists(builds), "a child that did reports it");
    }

    static final class Seen implements Serializable {
        static String note;
    }

    /**
     * A pool's worker is a process whose target (the worker, a reduced object) may hold the
     * program's objects, here an initializer that captures a record: it starts and runs it.
     */
    @Test
    void aPoolWorkerWhoseInitializerCapturesAProgramsObjectStarts() throws Exception {
        Note note = new Note("initialized");
        try (multiprocessing.pool.Pool pool = multiprocessing.pool.Pool.builder().processes(1)
                .initializer(() -> Seen.note = note.text()).build()) {
            assertEquals(List.of("initialized"), pool.map(x -> Seen.note, List.of(1), 1));
        }
    }

    @Test
    void aChildThatCapturesAnObjectOfTheProgramsReadsItThroughFory() throws Exception {
        Context ctx = Multiprocessing.getContext("spawn");
        Note note = new Note("from the parent");
        try (Pipe pipe = Pipe.open()) {
            Connection right = pipe.right();
            Process p = ctx.process(() -> {
                right.sendBytes(note.text().getBytes());
                System.exit(foryBuiltCode());
            });
            p.start();
            assertArrayEquals("from the parent".getBytes(), pipe.left().recvBytes());
            p.join(Duration.ofSeconds(60));
            assertEquals(Integer.valueOf(3), p.exitCode(), "its process came through Fory");
            p.close();
        }
    }
}
