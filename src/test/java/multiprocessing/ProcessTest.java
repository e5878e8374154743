package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;

import multiprocessing.internal.forkserver.ForkServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Processes on JVMs of their own, seen from the parent, under each start method: every test runs
 * once with "spawn" and once with "forkserver" as the default start method (which the children
 * inherit, so grandchildren start the same way). Each test starts as few JVMs as it can.
 */
@ParameterizedClass
@ValueSource(strings = {"spawn", "forkserver"})
@ExtendWith(NoLeftoverProcesses.class)
@Timeout(120)
class ProcessTest {
    @Parameter
    String method;

    @BeforeEach
    void useTheStartMethod() {
        Multiprocessing.setStartMethod(method, true);
    }

    @AfterEach
    void backToSpawn() {
        Multiprocessing.setStartMethod("spawn", true);
    }

    /** A child that reports, through an inherited connection, what it sees of itself. */
    record Report(String name, String currentRepr, String parentName, long parentPid,
            byte[] authKey, boolean daemon, String captured, String grandchildName,
            String daemonStartError, List<String> startMethods, String startMethod) {}

    @Test
    void childRunsTheTargetWithItsIdentityAndCapturedValues() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection toParent = pipe.right();
            String captured = "captured-" + System.nanoTime();
            Process p = Process.builder().name("reporter").target(() -> {
                Process me = Multiprocessing.currentProcess();
                Process parent = Multiprocessing.parentProcess().orElseThrow();
                Process grandchild = new Process(() -> {});
                toParent.send(new Report(me.name(), me.toString(), parent.name(),
                        parent.pid(), me.authKey(), me.daemon(), captured, grandchild.name(),
                        null, Multiprocessing.getAllStartMethods(),
                        Multiprocessing.getStartMethod()));
            }).build();
            assertNull(p.pid());
            assertNull(p.exitCode());
            assertFalse(p.isAlive());
            assertTrue(p.toString().contains("initial"), p.toString());
            assertThrows(IllegalStateException.class, p::sentinel);
            p.start();
            assertNotNull(p.pid());
            assertTrue(p.toString().contains("pid=" + p.pid()), p.toString());
            Report r = (Report) pipe.left().recv();
            p.join();
            assertEquals(0, p.exitCode());
            assertFalse(p.isAlive());
            assertTrue(p.toString().contains("stopped exitcode=0"), p.toString());
            assertEquals("reporter", r.name());
            assertTrue(r.currentRepr().contains("name='reporter'") && r.currentRepr().contains("started"),
                    r.currentRepr());
            assertEquals("MainProcess", r.parentName());
            assertEquals(ProcessHandle.current().pid(), r.parentPid());
            assertArrayEquals(Multiprocessing.currentProcess().authKey(), r.authKey());
            assertEquals(32, r.authKey().length);
            assertFalse(r.daemon());
            assertEquals(captured, r.captured());
            // The child's own counter starts again: its first child is Process-N:1.
            assertTrue(r.grandchildName().matches("Process-\\d+:1"), r.grandchildName());
            assertEquals(List.of("spawn", "forkserver"), r.startMethods());
            assertEquals(method, r.startMethod(), "a child's own start method is its parent's");
            assertEquals(0, Multiprocessing.activeChildren().size());
            p.close();
            p.close(); // a second close does nothing
            assertThrows(IllegalStateException.class, p::isAlive);
            assertThrows(IllegalStateException.class, p::join);
            assertThrows(IllegalStateException.class, p::terminate);
            assertThrows(IllegalStateException.class, p::exitCode);
        }
    }

    /** What a child sends of processes it knows: copies, to be read in the parent. */
    record Copies(Process self, Process grandchild, long grandchildPid, Process unstarted,
            String parentTerminate, String parentKill, Process subclassed, long subclassedPid) {}

    /**
     * A subclass with a no-argument constructor, which the serializer uses to make a copy (as a
     * Python user writes one); it sends its own key through {@link #out}.
     */
    public static final class NoArgSub extends Process {
        Connection out;
        /** Made by a field initializer: also as the serializer makes a copy of this process. */
        final transient Process helper = new Process(() -> {});

        public NoArgSub() {}

        @Override
        public void run() {
            try {
                out.send(Multiprocessing.currentProcess().authKey());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    private static String refusal(Runnable call) {
        try {
            call.run();
            return "not refused";
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    /**
     * A process sent to another process (attack 58): the copy tells the process's own pid, not
     * its creator's (whose pid a user then killed), and refuses to be tested, waited for or
     * signalled, rather than answer wrong (CPython refuses to send one at all). A child cannot
     * signal its parent either: Python's raises there too.
     */
    @Test
    void aProcessSentElsewhereTellsItsOwnPidAndRefusesWhatOnlyItsCreatorDoes() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection toParent = pipe.right();
            Process p = new Process(() -> {
                Process grandchild = new Process(() -> {});
                grandchild.start();
                try {
                    grandchild.join();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                NoArgSub subclassed = new NoArgSub();
                subclassed.out = toParent;
                subclassed.start();
                try {
                    subclassed.join();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                Process parent = Multiprocessing.parentProcess().orElseThrow();
                toParent.send(new Copies(Multiprocessing.currentProcess(), grandchild,
                        grandchild.pid(), new Process(() -> {}), refusal(parent::terminate),
                        refusal(parent::kill), subclassed, subclassed.pid()));
            });
            p.start();
            // A subclass's process still gets its key, carried beside it (the same as ours).
            assertArrayEquals(Multiprocessing.currentProcess().authKey(),
                    (byte[]) pipe.left().recv());
            Copies c = (Copies) pipe.left().recv();
            p.join();
            assertEquals(0, p.exitCode());
            assertEquals(p.pid(), c.self().pid());
            assertEquals(c.grandchildPid(), c.grandchild().pid());
            assertFalse(c.grandchildPid() == p.pid(), "the grandchild's pid is not its parent's");
            assertNull(c.unstarted().pid());
            assertEquals(c.subclassedPid(), c.subclassed().pid());
            // A copy of the current process, received back in the process that started it.
            Process back;
            try (Pipe loop = Pipe.open()) {
                loop.right().send(c.subclassed());
                back = (Process) loop.left().recv();
            }
            assertEquals(c.subclassedPid(), back.pid());
            for (Process copy : List.of(c.self(), c.grandchild(), c.unstarted(), c.subclassed(),
                    back)) {
                // The key stays in the process that sent it, as Python's AuthenticationString.
                assertThrows(IllegalStateException.class, copy::authKey);
                String why = assertThrows(IllegalStateException.class, copy::isAlive).getMessage();
                assertTrue(why.contains("can only test a child process")
                        && why.contains("copy"), why);
                assertThrows(IllegalStateException.class, copy::terminate);
                assertThrows(IllegalStateException.class, copy::kill);
                assertThrows(IllegalStateException.class, copy::join);
                assertThrows(IllegalStateException.class, copy::sentinel);
                assertThrows(IllegalStateException.class, copy::start);
                assertThrows(IllegalStateException.class, () -> copy.daemon(true));
                assertTrue(copy.toString().contains("unknown"), copy.toString());
            }
            assertTrue(c.self().toString().contains("pid=" + p.pid()), c.self().toString());
            // A copy of the main process has no parent either, as Python prints it.
            try (Pipe loop = Pipe.open()) {
                loop.right().send(Multiprocessing.currentProcess());
                Process main = (Process) loop.left().recv();
                assertTrue(main.toString().contains("parent=None"), main.toString());
                assertEquals(ProcessHandle.current().pid(), main.pid());
            }
            // Closed, a copy is still a copy (attack 60: it then gave this process's key).
            back.close();
            assertThrows(IllegalStateException.class, back::authKey);
            assertThrows(IllegalStateException.class, () -> back.daemon(true));
            assertTrue(c.parentTerminate().startsWith("can only terminate a child process"),
                    c.parentTerminate());
            assertTrue(c.parentKill().startsWith("can only kill a child process"), c.parentKill());
        }
    }

    /**
     * A subclass's process not yet started, sent and read back in the JVM that made it: the
     * serializer makes the copy with the subclass's no-argument constructor, which made a new
     * child of this JVM: it could be started (two processes of one name), and took a process
     * number, so that later default names skipped one (attack 60).
     */
    @Test
    void anUnstartedSubclassReadBackWhereItWasMadeIsACopyAndTakesNoNumber() throws Exception {
        NoArgSub original = new NoArgSub();
        Process back;
        try (Pipe loop = Pipe.open()) {
            loop.right().send(original);
            back = (Process) loop.left().recv();
        }
        assertEquals(original.name(), back.name());
        assertNull(back.pid());
        String why = assertThrows(IllegalStateException.class, back::start).getMessage();
        assertTrue(why.contains("copy"), why);
        assertThrows(IllegalStateException.class, back::authKey);
        // A process its field initializer made while it was read is this JVM's own (attack 62:
        // it was a copy too, unnamed and refused a start).
        Process helper = ((NoArgSub) back).helper;
        assertTrue(helper.name().startsWith("Process-"), helper.name());
        helper.start();
        helper.join();
        assertEquals(0, helper.exitCode());
        Process next = new Process(() -> {});
        // The original's helper took the number after the original's, the copy's the next.
        String[] made = original.name().split("-");
        assertEquals("Process-" + (Integer.parseInt(made[made.length - 1]) + 3), next.name(),
                "reading the copy took a number: the original is " + original.name()
                        + ", its helper " + original.helper.name() + ", the copy's " + helper.name());
    }

    /** A subclass whose constructor makes another of its kind, as a buddy. */
    public static final class Twin extends Process {
        transient Twin twin;

        public Twin() {
            this(true);
        }

        Twin(boolean withTwin) {
            if (withTwin) {
                twin = new Twin(false);
            }
        }

        @Override
        public void run() {}
    }

    /**
     * A process of a subclass that the constructor of one being read makes is a process of
     * this JVM's own: it was taken for a copy too, unnamed and refused a start (attack 64).
     */
    @Test
    void aProcessMadeByTheConstructorOfOneBeingReadIsNoCopy() throws Exception {
        Twin back;
        try (Pipe loop = Pipe.open()) {
            loop.right().send(new Twin());
            back = (Twin) loop.left().recv();
        }
        assertThrows(IllegalStateException.class, back::start); // the copy
        assertTrue(back.twin.name().startsWith("Twin-"), back.twin.name());
        assertFalse(back.twin.isAlive()); // a copy's throws
        back.twin.start();
        back.twin.join();
        assertEquals(0, back.twin.exitCode());
    }

    /**
     * Python's other way to make a process: a subclass that overrides run(), with fields of
     * its own. A plain process is written field by field; a subclass must still arrive whole.
     */
    static final class Greeter extends Process {
        private final String greeting;
        private final Connection out;

        Greeter(String greeting, Connection out) {
            this.greeting = greeting;
            this.out = out;
        }

        @Override
        public void run() {
            Process me = Multiprocessing.currentProcess();
            try {
                out.send(List.of(greeting, me.name(), String.valueOf(me == this),
                        Multiprocessing.parentProcess().orElseThrow().name()));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    /**
     * A process class whose static initializer replaces System.err in the child, where the
     * child's deserialization of it runs the initializer (a program that sends its standard
     * error to a log does that).
     */
    static final class ReplacesStandardError extends Process {
        static {
            if (System.getProperty("sun.java.command", "").startsWith("multiprocessing.internal.")) {
                System.setErr(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            }
        }

        private final Connection out;

        ReplacesStandardError(Connection out) {
            this.out = out;
        }

        @Override
        public void run() {
            try {
                out.send("ran");
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    /**
     * A child whose System.err was replaced before its target ran is still seen to have run
     * (review 40: its mark went to the replacement, and join threw "never ran" for a child
     * that ran and exited 0).
     */
    @Test
    void aChildThatReplacesItsStandardErrorAsItLoadsIsSeenToRun() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            ReplacesStandardError p = new ReplacesStandardError(pipe.right());
            p.start();
            assertEquals("ran", pipe.left().recv());
            p.join();
            assertEquals(0, p.exitCode());
            p.close();
        }
    }

    @Test
    void aSubclassRunsItsOwnRunWithItsOwnFields() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Greeter g = new Greeter("hello " + System.nanoTime(), pipe.right());
            g.start();
            assertEquals(List.of(g.greeting, g.name(), "true", "MainProcess"), pipe.left().recv());
            // Python names a subclass's process after its class (review 54).
            assertTrue(g.name().matches("Greeter-\\d+"), g.name());
            g.join();
            assertEquals(0, g.exitCode());
            g.close();
        }
    }

    @Test
    void aTargetThatHoldsItsOwnProcessGetsTheChildsCurrentProcess() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection out = pipe.right();
            Process[] holder = new Process[1];
            holder[0] = new Process(() -> out.send(List.of(
                    String.valueOf(holder[0] == Multiprocessing.currentProcess()),
                    String.valueOf(holder[0] != null ? holder[0].name() : null))));
            holder[0].start();
            assertEquals(List.of("true", holder[0].name()), pipe.left().recv(),
                    "a cycle back to the process survives the trip");
            holder[0].join();
            assertEquals(0, holder[0].exitCode());
            holder[0].close();
        }
    }

    @Test
    void exitCodesFollowPython() throws Exception {
        Process ok = new Process(() -> {});
        Process thrower = new Process(() -> {
            throw new java.io.IOException("a checked exception from the target");
        });
        Process exits = new Process(() -> System.exit(7));
        Process sleeperTerm = new Process(() -> Thread.sleep(60_000));
        Process sleeperKill = new Process(() -> Thread.sleep(60_000));
        // As in Python, the end waits for the non-daemon threads the target left, and not for
        // one started after that by a daemon thread or a shutdown hook: it ends with 0.
        Process late = new Process(() -> {
            Thread main = Thread.currentThread();
            Runnable sleeper = () -> {
                try {
                    Thread.sleep(600_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    main.join(); // the child's end has begun
                } catch (InterruptedException e) {
                    return;
                }
                Thread.ofPlatform().daemon(false).start(sleeper);
            });
            Runtime.getRuntime().addShutdownHook(
                    new Thread(() -> Thread.ofPlatform().daemon(false).start(sleeper)));
        });
        List<Process> all = List.of(ok, thrower, exits, sleeperTerm, sleeperKill, late);
        for (Process p : all) {
            p.start();
        }
        assertTrue(Multiprocessing.activeChildren().containsAll(List.of(sleeperTerm, sleeperKill)));
        ok.join();
        thrower.join();
        exits.join();
        sleeperTerm.terminate();
        sleeperKill.kill();
        sleeperTerm.join();
        sleeperKill.join();
        late.join(Duration.ofSeconds(30));
        if (late.isAlive()) {
            late.kill();
            late.join();
            fail("a child whose daemon thread started a non-daemon thread after its end began"
                    + " did not end");
        }
        assertEquals(Map.of("ok", 0, "thrower", 1, "exit", 7, "term", -15, "kill", -9,
                "late", 0),
                Map.of("ok", ok.exitCode(), "thrower", thrower.exitCode(), "exit", exits.exitCode(),
                        "term", sleeperTerm.exitCode(), "kill", sleeperKill.exitCode(),
                        "late", late.exitCode()));
        assertTrue(sleeperTerm.toString().contains("exitcode=-SIGTERM"), sleeperTerm.toString());
        assertTrue(sleeperKill.toString().contains("exitcode=-SIGKILL"), sleeperKill.toString());
        sleeperTerm.terminate(); // after the end: nothing happens
        assertTrue(Multiprocessing.activeChildren().isEmpty());
        for (Process p : all) {
            p.close();
        }
    }

    @Test
    void childWaitsForItsNonDaemonThreadsAndJoinTimesOut() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection toParent = pipe.right();
            Process p = new Process(() -> {
                Thread t = new Thread(() -> {
                    try {
                        Thread.sleep(1500);
                        toParent.send("from the thread");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                t.start();
            });
            p.start();
            p.join(Duration.ofMillis(50));
            assertTrue(p.isAlive(), "join(timeout) returns while the child runs");
            assertNull(p.exitCode());
            p.join(Duration.ofMillis(-5)); // negative: returns at once
            assertThrows(IllegalStateException.class, p::close);
            assertEquals("from the thread", pipe.left().recv());
            p.join();
            assertEquals(0, p.exitCode());
            p.close();
        }
    }

    /**
     * A target that returns with its thread's interrupt flag set (the idiom {@code catch
     * (InterruptedException e) { Thread.currentThread().interrupt(); }}) still has its child
     * wait for its non-daemon threads, as {@code java Main} and Python's child do (review 40:
     * the join threw at once, and the child exited 0 in the middle of the thread's work).
     */
    @Test
    void aTargetThatReturnsInterruptedStillHasItsNonDaemonThreadsWaitedFor() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection toParent = pipe.right();
            Process p = new Process(() -> {
                Thread t = new Thread(() -> {
                    try {
                        Thread.sleep(500);
                        toParent.send("from the thread");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                t.start();
                Thread.currentThread().interrupt();
            });
            p.start();
            p.join();
            assertEquals(0, p.exitCode());
            assertTrue(pipe.left().poll(Duration.ZERO), "the thread ran to its end");
            assertEquals("from the thread", pipe.left().recv());
            p.close();
        }
    }

    @Test
    void aConnectionSentLaterReachesTheChildAndSentinelsWork() throws Exception {
        try (Pipe carrier = Pipe.open(); Pipe later = Pipe.open(false);
                Pipe oneWay = Pipe.open(false); Pipe viaSharer = Pipe.open()) {
            Connection childEnd = carrier.right();
            Connection oneWayReader = oneWay.left();
            Process p = new Process(() -> {
                // The connection arrives after the start, as SCM_RIGHTS through the carrier.
                Connection writer = (Connection) childEnd.recv();
                writer.send("written by the child through a connection it received");
                writer.close();
                // Through a one-way pipe, it is fetched from the parent's resource sharer.
                Connection fetched = (Connection) oneWayReader.recv();
                fetched.send("and through one that came down a one-way pipe");
                childEnd.send("done");
            });
            p.start();
            List<Object> none = multiprocessing.connection.Connections.await(
                    List.of(p, carrier.left()), Duration.ofMillis(10));
            assertTrue(none.isEmpty(), "nothing is ready yet: " + none);
            carrier.left().send(later.right());
            later.right().close(); // the parent's copy: the child's is its own descriptor
            assertEquals("written by the child through a connection it received",
                    later.left().recv());
            oneWay.right().send(viaSharer.left());
            assertEquals("and through one that came down a one-way pipe", viaSharer.right().recv());
            assertEquals("done", carrier.left().recv());
            List<Object> ready = multiprocessing.connection.Connections.await(
                    List.of(p), Duration.ofSeconds(60));
            assertEquals(List.of(p), ready, "the sentinel is readable once the child has ended");
            p.join();
            assertEquals(0, p.exitCode());
            assertThrows(java.io.EOFException.class, () -> later.left().recv(),
                    "every writer, the child's included, is closed");
        }
    }

    private static long openDescriptors() throws java.io.IOException {
        try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /** This JVM's open descriptors and what each is, for a failure's message. */
    private static java.util.SortedMap<String, String> describeDescriptors()
            throws java.io.IOException {
        java.util.SortedMap<String, String> all = new java.util.TreeMap<>();
        try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            for (java.nio.file.Path fd : fds.toList()) {
                try {
                    all.put(fd.getFileName().toString(),
                            java.nio.file.Files.readSymbolicLink(fd).toString());
                } catch (java.io.IOException gone) {
                    // closed while listed (the listing's own descriptor among them)
                }
            }
        }
        return all;
    }

    @Test
    void startingJoiningAndClosingLeaksNoDescriptor() throws Exception {
        // Warm up everything that opens descriptors once (jars, the linker) before counting.
        Process warm = new Process(() -> {});
        warm.start();
        warm.join();
        warm.close();
        // A waiting forkserver JVM holds two descriptors here (its socket and pidfd), and one
        // boots after every start: count with none waiting.
        ForkServer.stopAll();
        long before = openDescriptors();
        var beforeDescribed = describeDescriptors();
        for (int i = 0; i < 3; i++) {
            try (Pipe pipe = Pipe.open()) {
                Connection end = pipe.right();
                Process p = new Process(() -> end.send("hi"));
                p.start();
                assertEquals("hi", pipe.left().recv());
                p.join();
                p.close();
            }
            Pipe.open(false).close();
        }
        ForkServer.stopAll();
        assertEquals(before, openDescriptors(), () -> {
            try {
                return "descriptors before " + beforeDescribed + " and after "
                        + describeDescriptors();
            } catch (java.io.IOException e) {
                return "descriptors before and after";
            }
        });
    }

    /** The inode of descriptor {@code fd} of this JVM, or null if it is not open. */
    private static String inodeOf(int fd) {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/fdinfo/" + fd))) {
                if (line.startsWith("ino:")) {
                    return line.substring(4).strip();
                }
            }
            return "?";
        } catch (java.io.IOException closed) {
            return null;
        }
    }

    @Test
    void aProcessDroppedWithoutCloseGivesItsDescriptorBack() throws Exception {
        Process warm = new Process(() -> {});
        warm.start();
        warm.join();
        warm.close();
        // A waiting forkserver JVM holds two descriptors here (its socket and pidfd), and one
        // boots after every start: count with none waiting.
        ForkServer.stopAll();
        long before = openDescriptors();
        var beforeDescribed = describeDescriptors();
        // Each dropped process's own sentinel, by number and inode: the count of all this JVM's
        // descriptors also moves as the Cleaner closes what earlier tests dropped (seen in the
        // full suite: 29 after, 31 before).
        Map<Integer, String> sentinels = new java.util.HashMap<>();
        for (int i = 0; i < 2; i++) {
            Process p = new Process(() -> {});
            p.start();
            p.join(); // reaped, never closed, then dropped
            sentinels.put(p.sentinel(), inodeOf(p.sentinel()));
        }
        ForkServer.stopAll();
        java.util.function.Supplier<List<Integer>> open = () -> sentinels.entrySet().stream()
                .filter(e -> e.getValue().equals(inodeOf(e.getKey()))).map(Map.Entry::getKey).toList();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while ((!open.get().isEmpty() || openDescriptors() > before) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50);
        }
        assertEquals(List.of(), open.get(), "the sentinels of dropped processes are closed");
        assertTrue(openDescriptors() <= before, "descriptors: " + openDescriptors() + " after, "
                + before + " before");
    }

    @Test
    void misuseIsRefusedClearly() throws Exception {
        Process p = new Process(() -> Thread.sleep(60_000));
        IllegalStateException e = assertThrows(IllegalStateException.class, p::join);
        assertTrue(e.getMessage().contains("started"), e.getMessage());
        p.start();
        try {
            e = assertThrows(IllegalStateException.class, p::start);
            assertTrue(e.getMessage().contains("twice"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> p.daemon(true));
            assertThrows(IllegalStateException.class,
                    () -> Multiprocessing.currentProcess().join());
            assertThrows(IllegalStateException.class,
                    () -> Multiprocessing.currentProcess().start());
        } finally {
            p.kill();
            p.join();
            p.close();
        }
    }

    /**
     * terminate() ends a stopped process (SIGSTOP, a debugger, a job control stop), which keeps
     * a bare SIGTERM pending until it resumes: a pool's terminate() waited for such a worker
     * for good (attack 45).
     */
    @Test
    void terminateEndsAStoppedProcess() throws Exception {
        Process p = new Process(() -> Thread.sleep(60_000));
        p.start();
        try {
            long pid = p.pid();
            assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(pid))
                    .inheritIO().start().waitFor());
            long deadline = System.nanoTime() + 10_000_000_000L;
            String state = "";
            while (System.nanoTime() < deadline) {
                String stat = java.nio.file.Files.readString(
                        java.nio.file.Path.of("/proc/" + pid + "/stat"));
                state = stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
                if (state.equals("T")) {
                    break;
                }
                Thread.sleep(10);
            }
            assertEquals("T", state, "the child stopped");
            p.terminate();
            p.join(Duration.ofSeconds(20));
            assertEquals(-15, p.exitCode(), "a stopped child's exit code after terminate()");
        } finally {
            p.kill();
            p.join();
            p.close();
        }
    }

    /** Holds a start in its serialization until the test lets it go on. */
    static final class HoldsTheStart implements java.io.Serializable {
        static volatile java.util.concurrent.CountDownLatch serializing;
        static volatile java.util.concurrent.CountDownLatch release;
        /** Whether the start then fails, as a target that cannot be sent makes it. */
        static volatile boolean refuse;

        /** Makes the next serialization wait for {@link #release}, then fail if {@code refuse}. */
        static void arm(boolean refuse) {
            serializing = new java.util.concurrent.CountDownLatch(1);
            release = new java.util.concurrent.CountDownLatch(1);
            HoldsTheStart.refuse = refuse;
        }

        private Object writeReplace() throws java.io.ObjectStreamException {
            serializing.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (refuse) {
                throw new java.io.NotSerializableException("refused this time");
            }
            return "let go";
        }
    }

    /** Starts {@code p} on a thread of its own, which puts what start() threw in {@code failure}. */
    private static Thread startElsewhere(Process p,
            java.util.concurrent.atomic.AtomicReference<Throwable> failure) {
        Thread starter = new Thread(() -> {
            try {
                p.start();
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        starter.start();
        return starter;
    }

    /**
     * A terminate() during a start that then fails is not kept for the next start of the same
     * object: that child ran its target and exited 0 (it was SIGTERMed at birth, attack 46).
     */
    @Test
    void aTerminateDuringAFailedStartIsNotSentToTheNextStart() throws Exception {
        HoldsTheStart.arm(true);
        Object held = new HoldsTheStart();
        Process p = new Process(() -> System.out.print(held.toString().isEmpty() ? "" : ""));
        java.util.concurrent.atomic.AtomicReference<Throwable> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        Thread starter = startElsewhere(p, failure);
        try {
            assertTrue(HoldsTheStart.serializing.await(60, java.util.concurrent.TimeUnit.SECONDS));
            p.terminate();
        } finally {
            HoldsTheStart.release.countDown();
            starter.join();
        }
        assertInstanceOf(IllegalArgumentException.class, failure.get());
        HoldsTheStart.refuse = false;
        p.start();
        p.join();
        assertEquals(0, p.exitCode(), "the second start's child");
        p.close();
    }

    /**
     * A start takes tens of milliseconds (a forkserver one may wait for a warm JVM): another
     * thread's isAlive, exitCode, terminate or toString meanwhile answers at once, as before
     * the start, and a second start or a close is refused. The terminate is not lost: the
     * process gets it as soon as it exists (review 49: it ran on).
     */
    @Test
    void anotherThreadIsNotKeptWaitingByAStart() throws Exception {
        HoldsTheStart.arm(false);
        Object held = new HoldsTheStart();
        Process p = new Process(() -> Thread.sleep(held.toString().isEmpty() ? 0 : 60_000));
        java.util.concurrent.atomic.AtomicReference<Throwable> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        Thread starter = startElsewhere(p, failure);
        try {
            assertTrue(HoldsTheStart.serializing.await(60, java.util.concurrent.TimeUnit.SECONDS));
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> {
                        assertFalse(p.isAlive());
                        assertNull(p.exitCode());
                        assertNull(p.pid());
                        p.terminate();
                        assertTrue(p.toString().contains("initial"), p.toString());
                        IllegalStateException e = assertThrows(IllegalStateException.class,
                                p::start);
                        assertTrue(e.getMessage().contains("twice"), e.getMessage());
                        e = assertThrows(IllegalStateException.class, p::close);
                        assertTrue(e.getMessage().contains("starting"), e.getMessage());
                        assertThrows(IllegalStateException.class, () -> p.daemon(true));
                    });
        } finally {
            HoldsTheStart.release.countDown();
            starter.join();
            if (failure.get() == null) {
                p.join();
            }
        }
        assertNull(failure.get());
        assertEquals(-15, p.exitCode()); // SIGTERM
        p.close();
    }

    @Test
    void anUnserializableTargetFailsStartAndStartsNothing() {
        Object notSerializable = new Thread(() -> {});
        Process p = new Process(() -> System.out.println(notSerializable));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, p::start);
        assertTrue(e.getMessage().contains("cannot send"), e.getMessage());
        assertFalse(p.isAlive());
        assertNull(p.pid());
        assertFalse(Multiprocessing.activeChildren().contains(p));
    }

    @Test
    void aTerminatedChildLeavesNoAttachSocketFileBehind() throws Exception {
        try (Pipe pipe = Pipe.open(false)) {
            Connection up = pipe.right();
            Process p = new Process(() -> {
                up.send("up");
                Thread.sleep(60_000);
            });
            p.start();
            assertEquals("up", pipe.left().recv());
            // Under -Xrs a JVM opens its attach listener at start; one ended by a signal never
            // removes the socket file.
            java.nio.file.Path attach = java.nio.file.Path.of("/tmp/.java_pid" + p.pid());
            p.terminate();
            p.join();
            assertEquals(-15, p.exitCode());
            assertFalse(java.nio.file.Files.exists(attach), attach + " left behind");
            p.close();
        }
    }

    @Test
    void aGrandchildIsNamedAfterItsParentGetsAConnectionPassedOnAndIsJoinedAtItsExit()
            throws Exception {
        try (Pipe pipe = Pipe.open(false)) {
            Connection out = pipe.right();
            Process child = new Process(() -> {
                // The child first met a Connection while reading its own process; it must still
                // write one its own child can read.
                Process grandchild = new Process(() -> {
                    Thread.sleep(500);
                    out.send(Multiprocessing.currentProcess().name() + " of "
                            + Multiprocessing.parentProcess().orElseThrow().name());
                });
                grandchild.start();
                out.send(grandchild.name());
                // No join: the child's exit waits for its non-daemon child, as Python's does.
            });
            child.start();
            out.close();
            assertEquals(child.name() + ":1", pipe.left().recv());
            assertEquals(child.name() + ":1 of " + child.name(), pipe.left().recv());
            child.join();
            assertEquals(0, child.exitCode());
            // The grandchild had sent its message before it ended, and the child outlived it.
            assertThrows(java.io.EOFException.class, () -> pipe.left().recv());
            child.close();
        }
    }

    @Test
    void aDaemonMayNotStartChildren() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection toParent = pipe.right();
            Process daemon = Process.builder().daemon(true).target(() -> {
                try {
                    new Process(() -> {}).start();
                    toParent.send("started a child");
                } catch (IllegalStateException e) {
                    toParent.send(e.getMessage());
                }
            }).build();
            assertTrue(daemon.daemon());
            assertTrue(daemon.toString().endsWith(" daemon>"), daemon.toString());
            daemon.start();
            assertEquals("daemonic processes are not allowed to have children", pipe.left().recv());
            daemon.join();
            assertEquals(0, daemon.exitCode());
        }
    }

    @Test
    void aChildMayUseTheMachinesMemory() throws Exception {
        // The library's child options leave the heap limit at the JVM's default (a quarter of
        // the machine): a worker must be able to hold a gibibyte.
        Process p = new Process(() -> {
            byte[] big = new byte[1 << 30];
            for (int i = 0; i < big.length; i += 4096) {
                big[i] = 1;
            }
        });
        p.start();
        p.join();
        assertEquals(0, p.exitCode(), "a child allocated and touched 1 GiB");
        p.close();
    }

    @Test
    void contextsNameTheirStartMethods() {
        assertEquals(List.of("spawn", "forkserver"), Multiprocessing.getAllStartMethods());
        assertEquals("spawn", Multiprocessing.getContext("spawn").getStartMethod());
        assertInstanceOf(SpawnContext.class, Multiprocessing.getContext("spawn"));
        assertEquals("forkserver", Multiprocessing.getContext("forkserver").getStartMethod());
        assertInstanceOf(ForkServerContext.class, Multiprocessing.getContext("forkserver"));
        assertEquals(method, Multiprocessing.getStartMethod());
        IllegalArgumentException fork = assertThrows(IllegalArgumentException.class,
                () -> Multiprocessing.getContext("fork"));
        assertTrue(fork.getMessage().contains("fork") && fork.getMessage().contains("forkserver"),
                fork.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> Multiprocessing.getContext("teleport"));
        assertTrue(unknown.getMessage().contains("spawn"), unknown.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Multiprocessing.setStartMethod("fork"));
        assertTrue(Multiprocessing.cpuCount() >= 1);
        assertFalse(Multiprocessing.parentProcess().isPresent());
        Process main = Multiprocessing.currentProcess();
        assertEquals("MainProcess", main.name());
        assertTrue(main.isAlive());
        assertEquals(ProcessHandle.current().pid(), main.pid());
        assertTrue(new Process(() -> {}).name().matches("Process-\\d+"));
        Multiprocessing.setForkserverPreload(List.of("java.util.ArrayList"));
        assertEquals(List.of("java.util.ArrayList"), Multiprocessing.getForkserverPreload());
        assertThrows(IllegalArgumentException.class,
                () -> Multiprocessing.setForkserverPreload(List.of("no.such.Clazz")));
        NullPointerException nullName = assertThrows(NullPointerException.class,
                () -> Multiprocessing.setForkserverPreload(
                        java.util.Arrays.asList("java.lang.String", null)));
        assertTrue(nullName.getMessage().contains("preload"), nullName.getMessage());
        // An empty option would be taken for the class to run; a null one fails at once.
        for (Context c : List.of(Multiprocessing.getContext("spawn"),
                Multiprocessing.getContext("forkserver"),
                multiprocessing.dummy.Dummy.context())) {
            IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                    () -> c.withJvmOptions("-Da=1", " "));
            assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
            NullPointerException none = assertThrows(NullPointerException.class,
                    () -> c.withJvmOptions((String) null));
            assertTrue(none.getMessage().contains("null"), none.getMessage());
            IllegalArgumentException word = assertThrows(IllegalArgumentException.class,
                    () -> c.withJvmOptions("-Da=1", "Main"));
            assertTrue(word.getMessage().contains("'Main' is no JVM option"), word.getMessage());
            // A value in an argument of its own, after an option that takes one, is fine.
            c.withJvmOptions("--add-opens", "java.base/java.lang=ALL-UNNAMED", "-Db=2");
            c.withJvmOptions("@jvm.options"); // an argument file, which the launcher reads
            // An option whose value does not follow: the launcher would take the library's
            // class path for it, and every child would fail to start (review 48).
            IllegalArgumentException dangling = assertThrows(IllegalArgumentException.class,
                    () -> c.withJvmOptions("-Db=2", "--add-opens"));
            assertTrue(dangling.getMessage().contains("'--add-opens' takes the next argument"),
                    dangling.getMessage());
            IllegalArgumentException skipped = assertThrows(IllegalArgumentException.class,
                    () -> c.withJvmOptions("--add-opens", "-Xmx256m"));
            assertTrue(skipped.getMessage().contains("'-Xmx256m' is an option"),
                    skipped.getMessage());
            for (String other : List.of("-jar", "-m", "--module")) {
                IllegalArgumentException runs = assertThrows(IllegalArgumentException.class,
                        () -> c.withJvmOptions(other));
                assertTrue(runs.getMessage().contains("something else"), runs.getMessage());
            }
        }
    }
}
