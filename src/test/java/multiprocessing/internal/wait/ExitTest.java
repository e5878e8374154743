package multiprocessing.internal.wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Connections;
import multiprocessing.connection.Pipe;
import multiprocessing.synchronize.Event;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Parker's "Exit": once the last exit stage has run, no library wait stays inside a native call
 * (HotSpot's exit would wait up to 300 ms for it), and every wait still ends as it should.
 * Run in a child, since the stage changes its JVM for good.
 */
@ExtendWith(NoLeftoverProcesses.class)
@ExtendWith(NoLeftoverSharedMemory.class)
@Timeout(120)
class ExitTest {

    /** A daemon platform thread inside a native wait shows as RUNNABLE; parked, it does not. */
    private static String leftTheKernel(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            Thread.State s = t.getState();
            if (s == Thread.State.TIMED_WAITING || s == Thread.State.WAITING) {
                return "parked";
            }
            Thread.sleep(1);
        }
        return "still " + t.getState();
    }

    @Test
    void afterTheExitStageWaitsLeaveTheKernelAndStillEnd() throws Exception {
        try (Pipe report = Pipe.open(false)) {
            Connection up = report.right();
            Process child = new Process(() -> {
                Event event = new Event();
                Pipe forPlatform = Pipe.open(false);
                Pipe forWait = Pipe.open(false);
                Pipe forVirtual = Pipe.open(false);
                Map<String, Object> got = new ConcurrentHashMap<>();
                List<Thread> platform = new ArrayList<>();
                List<Thread> all = new ArrayList<>();
                Map<String, Runnable> waits = Map.of(
                        "event", () -> got.put("event", event.await(Duration.ofSeconds(60))),
                        "event2", () -> got.put("event2", event.await(Duration.ofSeconds(60))),
                        "recv", () -> got.put("recv", recv(forPlatform.left())),
                        "wait", () -> got.put("wait", Connections.await(
                                List.of(forWait.left()), Duration.ofSeconds(60)).size()));
                waits.forEach((name, wait) -> {
                    Thread t = Thread.ofPlatform().daemon().name(name).start(wait);
                    platform.add(t);
                    all.add(t);
                });
                all.add(Thread.ofVirtual().start(
                        () -> got.put("virtual event", event.await(Duration.ofSeconds(60)))));
                all.add(Thread.ofVirtual().start(
                        () -> got.put("virtual recv", recv(forVirtual.left()))));
                Thread.sleep(500); // past every spin: asleep in the kernel, or parked
                Map<String, Object> result = new TreeMap<>();
                for (Thread t : platform) {
                    result.put(t.getName() + " before", t.getState().toString());
                }
                // It returns once every wait is out of the kernel, not at its deadline.
                result.put("quiesce", Parker.quiesce());
                for (Thread t : platform) {
                    result.put(t.getName() + " after", leftTheKernel(t));
                }
                // A wait begun after the stage times out as it should.
                result.put("new wait", new Event().await(Duration.ofMillis(50)));
                event.set();
                forPlatform.right().send("p");
                forWait.right().send("w");
                forVirtual.right().send("v");
                for (Thread t : all) {
                    t.join(Duration.ofSeconds(20));
                }
                result.putAll(got);
                up.send(result);
            });
            child.start();
            Object result = report.left().recv();
            child.join();
            Map<String, Object> expected = new TreeMap<>();
            for (String name : List.of("event", "event2", "recv", "wait")) {
                expected.put(name + " before", "RUNNABLE"); // inside futex(2), read(2), poll(2)
                expected.put(name + " after", "parked");
            }
            expected.put("quiesce", true);
            expected.put("new wait", false);
            expected.put("event", true);
            expected.put("event2", true);
            expected.put("recv", "p");
            expected.put("wait", 1);
            expected.put("virtual event", true);
            expected.put("virtual recv", "v");
            assertEquals(expected, result);
            assertEquals(0, child.exitCode());
            child.close();
        }
    }

    /**
     * A program's shutdown hook may be the first of the library's waits in its JVM: its wait
     * then must not fail because the library's exit stage can no longer be installed.
     */
    @Test
    void aShutdownHookThatIsTheFirstWaitOfItsJvmReceives() throws Exception {
        try (Pipe report = Pipe.open(false)) {
            Connection up = report.right();
            Process child = new Process(() -> {
                Pipe late = Pipe.open(false);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    Thread sender = Thread.ofPlatform().daemon().start(() -> {
                        try {
                            Thread.sleep(200);
                            late.right().send("late");
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    Object got;
                    try {
                        got = late.left().recv();
                    } catch (Throwable e) {
                        got = e.toString();
                    }
                    try {
                        up.send(got);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }));
            });
            child.start();
            Object got;
            try {
                got = report.left().recv();
            } finally {
                child.join();
            }
            assertEquals("late", got);
            assertEquals(0, child.exitCode());
            child.close();
        }
    }

    /**
     * A shutdown hook's receive blocked in a JDK stream (PipeStream: its end was first read
     * before the child linked the libc layer) when the exit's stage closes the stream (the
     * stage runs after the child's non-daemon grandchild is joined, ~1 s): the receive goes on
     * through the libc layer and gets its message. Had it thrown, the hook would report the
     * close; had it waited for the JVM's end, the JVM would wait for the hook for ever.
     */
    @Test
    void aShutdownHookBlockedInAJdkPipeReadStillReceives() throws Exception {
        try (Pipe report = Pipe.open(false); Pipe late = Pipe.open(false)) {
            Connection up = report.right();
            Connection lateIn = late.left();
            Connection lateOut = late.right();
            Process child = new Process(() -> {
                String first = new String(lateIn.recvBytes()); // its stream opened, unlinked
                boolean linkedBefore = multiprocessing.internal.posix.Linkage.begun();
                Process grandchild = new Process(() -> Thread.sleep(1000));
                grandchild.start(); // joined by the exit's stages before the last one
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    Thread.ofPlatform().daemon().start(() -> {
                        try {
                            Thread.sleep(2000);
                            lateOut.sendBytes("late".getBytes());
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    String got;
                    try {
                        got = new String(lateIn.recvBytes());
                    } catch (Throwable e) {
                        got = e.toString();
                    }
                    try {
                        up.sendBytes((first + " " + got + " linked before: " + linkedBefore)
                                .getBytes());
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }));
            });
            child.start();
            late.right().sendBytes("first".getBytes());
            String got;
            try {
                assertTrue(report.left().poll(Duration.ofSeconds(60)), "no report");
                got = new String(report.left().recvBytes());
            } finally {
                child.join(Duration.ofSeconds(60));
            }
            assertEquals("first late linked before: false", got);
            assertEquals(0, child.exitCode());
            child.close();
        }
    }

    /**
     * A JVM whose first library wait begins once its exit has begun (a daemon child's parent
     * watcher that starts as a short target ends): the exit stage can no longer be installed,
     * so no stage would bring that wait out of the kernel, and HotSpot's exit would wait 300 ms
     * for it. Such waits stay out of the kernel from the start, and still end as they should.
     */
    @Test
    void waitsBegunAfterTheExitBeganStayOutOfTheKernel() throws Exception {
        try (Pipe report = Pipe.open(false)) {
            Connection up = report.right();
            Process child = new Process(() -> {
                Pipe forPoll = Pipe.open(false);
                Pipe forWait = Pipe.open(false);
                Event event = new Event(); // made, not waited on, before the exit
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    Map<String, Object> got = new ConcurrentHashMap<>();
                    Map<String, Runnable> waits = Map.of(
                            "event", () -> got.put("event", event.await(Duration.ofSeconds(60))),
                            "poll", () -> got.put("poll", poll(forPoll.left())),
                            "wait", () -> got.put("wait", Connections.await(
                                    List.of(forWait.left()), Duration.ofSeconds(60)).size()));
                    Map<String, Object> result = new TreeMap<>();
                    try {
                        List<Thread> threads = new ArrayList<>();
                        waits.forEach((name, wait) ->
                                threads.add(Thread.ofPlatform().daemon().name(name).start(wait)));
                        Thread.sleep(200); // past every spin
                        for (Thread t : threads) {
                            result.put(t.getName(), leftTheKernel(t));
                        }
                        event.set();
                        forPoll.right().send("p");
                        forWait.right().send("w");
                        for (Thread t : threads) {
                            t.join(Duration.ofSeconds(20));
                        }
                        result.putAll(got.entrySet().stream().collect(java.util.stream.Collectors
                                .toMap(e -> e.getKey() + " got", Map.Entry::getValue)));
                        up.send(result);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }));
            });
            child.start();
            Object result;
            try {
                result = report.left().recv();
            } finally {
                child.join();
            }
            assertEquals(new TreeMap<>(Map.of("event", "parked", "poll", "parked",
                    "wait", "parked", "event got", true, "poll got", true, "wait got", 1)),
                    result);
            assertEquals(0, child.exitCode());
            child.close();
        }
    }

    private static Object poll(Connection c) {
        try {
            return c.poll(Duration.ofSeconds(60));
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private static Object recv(Connection c) {
        try {
            return c.recv();
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
