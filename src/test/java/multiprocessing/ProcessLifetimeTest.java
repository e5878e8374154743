package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What happens to children when their parent ends: a parent JVM ({@link ParentHarness}) is
 * started here so that the test can kill it or watch it exit.
 */
@ExtendWith(NoLeftoverProcesses.class)
@Timeout(120)
class ProcessLifetimeTest {

    private static java.lang.Process harness(String... args) throws IOException {
        return harnessWith("spawn", args);
    }

    private static java.lang.Process harnessWith(String method, String... args)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // What the module's Javadoc tells a program on the class path to give: the
                // traceback test below checks that parent and child then print no warning.
                "--enable-native-access=ALL-UNNAMED",
                "--add-opens", "java.base/java.lang.invoke=ALL-UNNAMED",
                "-Dharness.method=" + method,
                "-cp", System.getProperty("java.class.path"), ParentHarness.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
    }

    private static long childPid(java.lang.Process parent) throws IOException {
        BufferedReader out = new BufferedReader(
                new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertTrue(line != null && line.startsWith("child "), "harness printed " + line);
        return Long.parseLong(line.substring("child ".length()));
    }

    private static boolean endsWithin(long pid, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < deadline) {
            if (ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void aDaemonChildAndTheWaitingJvmsEndWhenTheParentIsKilled(String method) throws Exception {
        java.lang.Process parent = harnessWith(method, "daemon-child");
        BufferedReader out = new BufferedReader(
                new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8));
        String first = out.readLine();
        assertTrue(first != null && first.startsWith("child "), "harness printed " + first);
        long child = Long.parseLong(first.substring("child ".length()));
        String line = out.readLine();
        assertTrue(line != null && line.startsWith("waiting"), "harness printed " + line);
        List<Long> waiting = java.util.Arrays.stream(line.substring("waiting".length()).trim()
                .split(" ")).filter(s -> !s.isEmpty()).map(Long::valueOf).toList();
        assertEquals(method.equals("forkserver"), !waiting.isEmpty(),
                "JVMs wait for the next process only with forkserver: " + waiting);
        assertTrue(ProcessHandle.of(child).isPresent(), "the daemon child runs");
        parent.destroyForcibly(); // SIGKILL: the parent runs no exit handler
        parent.waitFor();
        assertTrue(endsWithin(child, 10_000), "daemon child " + child + " outlived its parent");
        for (long pid : waiting) {
            assertTrue(endsWithin(pid, 10_000), "waiting JVM " + pid + " outlived its creator");
        }
    }

    /**
     * A JVM waiting in the fork server that never warmed up (its JVM options have it wait for
     * a debugger before it runs anything) ends with the program that booted it: it never looks
     * at its socket, and outlived the program for good, and its resource tracker with it
     * (attack 56).
     */
    @Test
    void aForkserverJvmThatNeverWarmedUpEndsWithTheProgram() throws Exception {
        java.lang.Process parent = harnessWith("spawn", "hung-forkserver-jvm");
        List<Long> waiting = List.of();
        try {
            BufferedReader out = new BufferedReader(
                    new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            while (line != null && line.startsWith("Listening for transport")) {
                line = out.readLine(); // the debugger agent of the process it spawned
            }
            assertTrue(line != null && line.startsWith("waiting "), "harness printed " + line);
            waiting = java.util.Arrays.stream(line.substring("waiting ".length()).trim()
                    .split(" ")).filter(s -> !s.isEmpty()).map(Long::valueOf).toList();
            assertFalse(waiting.isEmpty(), "the fork server booted a JVM");
            assertTrue(parent.waitFor(60, java.util.concurrent.TimeUnit.SECONDS),
                    "the program exits");
            for (long pid : waiting) {
                assertTrue(endsWithin(pid, 10_000), "waiting JVM " + pid + " outlived its creator");
            }
        } finally {
            parent.destroyForcibly();
            for (long pid : waiting) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /**
     * A run-time image without the jdk.jfr module (here {@code --limit-modules}): the library
     * goes on without its events; every contended wait, manager call, pool task and start
     * threw NoClassDefFoundError (review 48).
     */
    @Test
    void withoutFlightRecorderTheLibraryWorksWithoutEvents() throws Exception {
        assertEquals("events false, exit 0", harnessOutput(List.of(), List.of("--limit-modules",
                "java.base,java.logging,java.management,jdk.unsupported"), "no-flight-recorder"));
    }

    /**
     * Runs {@link ParentHarness}'s {@code mode} in a JVM of its own, with {@code options}, its
     * command after {@code prefix} (a shell that lowers a limit first); its output, stripped.
     */
    private static String harnessOutput(List<String> prefix, List<String> options, String mode)
            throws Exception {
        List<String> command = new ArrayList<>(prefix);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(options);
        command.addAll(List.of("--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp",
                System.getProperty("java.class.path"), ParentHarness.class.getName(), mode));
        java.lang.Process harness = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(harness.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(harness.waitFor(120, TimeUnit.SECONDS));
        return out.strip();
    }

    /**
     * {@code getContext(method)} does not fix the default start method, as in Python (whose
     * documentation tells libraries to use it so as not to interfere with the program's
     * choice): the program's later {@code setStartMethod} threw "context has already been set"
     * (review 48).
     */
    @Test
    void getContextOfAMethodLeavesTheDefaultToBeSet() throws Exception {
        assertEquals("forkserver forkserver true",
                harnessOutput(List.of(), List.of(), "context-then-set"));
    }

    /**
     * A receive that must wait in the middle of a frame when no descriptor is left for the
     * eventfd its wait polls beside the connection: it failed with EMFILE and cut the frame
     * short, ending the connection's receiving for good, for a shortage that may pass
     * (review 47 #5). It now waits on the connection alone and gets the message whole.
     */
    @Test
    void aReceiveWithTheDescriptorTableFullWaitsAndGetsItsMessage() throws Exception {
        assertEquals("received whole", harnessOutput(List.of("sh", "-c",
                "ulimit -n 256 && exec \"$@\"", "harness"), List.of(), "full-table-receive"));
    }

    @Test
    void aStartTheMachineRefusesNamesTheLimitAndLeavesTheOthersRunning() throws Exception {
        // The harness runs under a low open-files limit (its children inherit it too, and a
        // JVM needs far fewer than 256 descriptors).
        List<String> java = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), ParentHarness.class.getName(),
                "refused-start"));
        List<String> command = new ArrayList<>(List.of("sh", "-c", "ulimit -n 256 && exec \"$@\"",
                "harness"));
        command.addAll(java);
        java.lang.Process parent = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(parent.waitFor(120, TimeUnit.SECONDS));
        assertTrue(out.contains("refused UncheckedIOException: cannot start Process-"), out);
        assertTrue(out.contains("RLIMIT_NOFILE is 256"), "the limit is named: " + out);
        String exits = out.substring(out.indexOf("exits ")).trim();
        assertTrue(exits.matches("exits \\[0(, 0)*\\]"), "the processes started before run to the end: " + exits);
    }

    /**
     * Runs prlimit (util-linux), which changes a limit of another process, as the user {@code
     * asUser} names (another user's limits need CAP_SYS_RESOURCE, which root may not have); its
     * output.
     */
    private static String prlimit(List<String> asUser, String... args) throws Exception {
        List<String> command = new ArrayList<>(asUser);
        command.add("prlimit");
        command.addAll(List.of(args));
        java.lang.Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "prlimit " + String.join(" ", args) + ": " + out);
        return out.strip();
    }

    @Test
    void aStartRefusedForWantOfProcessesNamesTheLimitAndLeavesTheOthersRunning(@TempDir Path dir)
            throws Exception {
        assumeTrue(Stream.of(System.getenv("PATH").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "prlimit"))), "no prlimit here");
        String testPath = System.getProperty("surefire.test.class.path",
                System.getProperty("java.class.path"));
        List<String> asUser = List.of();
        if ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0) {
            // The kernel does not hold root to RLIMIT_NPROC: the harness runs as nobody, from a
            // copy of the jars of the class path that user may read (~/.m2 may be private).
            assumeTrue(Stream.of(System.getenv("PATH").split(":"))
                    .anyMatch(d -> Files.isExecutable(Path.of(d, "setpriv"))), "no setpriv here");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            List<String> readable = new ArrayList<>();
            for (String entry : testPath.split(File.pathSeparator)) {
                Path from = Path.of(entry);
                if (Files.isRegularFile(from)) {
                    Path to = dir.resolve(readable.size() + "-" + from.getFileName());
                    Files.copy(from, to);
                    Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
                    readable.add(to.toString());
                } else {
                    readable.add(entry);
                }
            }
            testPath = String.join(File.pathSeparator, readable);
            asUser = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups");
        }
        List<String> command = new ArrayList<>(asUser);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                // Not about start-up speed: no cache to train, nor a directory to keep it in.
                "-Dmultiprocessing.aotCache=false",
                "-cp", testPath, ParentHarness.class.getName(), "refused-nproc"));
        java.lang.Process parent = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(
                new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8));
        java.io.Writer in = new java.io.OutputStreamWriter(parent.getOutputStream(),
                StandardCharsets.UTF_8);
        try {
            String ready = out.readLine();
            assertTrue(ready != null && ready.startsWith("ready "), "harness printed " + ready);
            String pid = ready.substring("ready ".length());
            String[] was = prlimit(asUser, "--pid", pid, "--nproc", "--raw", "--noheadings",
                    "--output=SOFT,HARD").trim().split("\\s+");
            // A soft limit of 1 refuses every new process or thread of the harness, whatever
            // else its user runs; the processes it started before keep their own limits.
            prlimit(asUser, "--pid", pid, "--nproc=1:" + was[1]);
            in.write("limited\n");
            in.flush();
            List<String> lines = new ArrayList<>();
            for (String line = out.readLine(); line != null && !line.equals("limited");
                    line = out.readLine()) {
                lines.add(line);
            }
            prlimit(asUser, "--pid", pid, "--nproc=" + was[0] + ":" + was[1]);
            in.write("restored\n");
            in.flush();
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                lines.add(line);
            }
            assertTrue(parent.waitFor(120, TimeUnit.SECONDS));
            String all = String.join("\n", lines);
            assertTrue(all.contains("refused UncheckedIOException: cannot start Process-"), all);
            assertTrue(all.contains("RLIMIT_NPROC is 1 "), "the limit is named: " + all);
            assertTrue(all.contains("descriptors left 0"), "a refused start closes all: " + all);
            assertTrue(all.contains("exits [0, 0, 0]"),
                    "the processes started before run to the end: " + all);
            assertTrue(all.contains("again 0"), "a start works again: " + all);
            assertEquals(0, parent.exitValue(), all);
        } finally {
            parent.destroyForcibly();
        }
    }

    /**
     * A daemon child whose threads are all interrupted (a program may interrupt every thread it
     * finds) still ends with its SIGKILLed parent: an interrupted watcher used to stop watching.
     */
    @Test
    void aDaemonChildWhoseThreadsAreInterruptedStillEndsWithItsKilledParent() throws Exception {
        java.lang.Process parent = harness("daemon-child-interrupted");
        long child = childPid(parent);
        assertTrue(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false),
                "the daemon child runs");
        parent.destroyForcibly(); // SIGKILL
        parent.waitFor();
        assertTrue(endsWithin(child, 10_000), "daemon child " + child + " outlived its parent");
    }

    /**
     * A daemon child with a thread blocked in a receive (a native wait of the library's) ends
     * promptly with its SIGKILLed parent: its halt made HotSpot wait 300 ms for the thread
     * inside a native call, as an exit does unless the library's waits leave the kernel first.
     * The best of three rounds, each from the parent's death to the child's.
     */
    @Test
    void aDaemonChildBlockedInReadsEndsPromptlyWithItsKilledParent() throws Exception {
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 3; round++) {
            java.lang.Process parent = harness("daemon-child-reading");
            long child = childPid(parent);
            parent.destroyForcibly(); // SIGKILL
            parent.waitFor();
            long died = System.nanoTime();
            while (isRunning(child) && System.nanoTime() - died < 10_000_000_000L) {
                Thread.sleep(2);
            }
            assertFalse(isRunning(child), "daemon child " + child + " outlived its parent");
            best = Math.min(best, (System.nanoTime() - died) / 1_000_000);
        }
        assertTrue(best < 250, "the daemon child ended " + best + " ms after its parent at best");
    }

    /** Whether {@code pid} runs: neither gone nor a zombie waiting to be reaped. */
    private static boolean isRunning(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void aParentJoinsItsNonDaemonChildrenAtExitAndTerminatesItsDaemons(@TempDir Path dir)
            throws Exception {
        Path marker = dir.resolve("marker");
        java.lang.Process parent = harness("non-daemon-child", marker.toString());
        long child = childPid(parent);
        assertTrue(parent.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, parent.exitValue());
        // The parent's exit waited for the child, which wrote the marker just before it ended.
        assertEquals("done", Files.readString(marker));
        assertTrue(endsWithin(child, 5_000));

        java.lang.Process other = harness("daemon-at-exit");
        long daemon = childPid(other);
        assertTrue(other.waitFor(60, TimeUnit.SECONDS));
        assertTrue(endsWithin(daemon, 10_000), "daemon child survived its parent's exit");
    }

    /**
     * A start another thread makes as the JVM exits is waited for, and its child joined as
     * the others are: it was left out of the exit handler's list and outlived its parent
     * (attack 46).
     */
    @Test
    void aStartUnderWayAsTheJvmExitsHasItsChildJoined(@TempDir Path dir) throws Exception {
        Path marker = dir.resolve("marker");
        java.lang.Process parent = harness("exit-while-a-start-runs", marker.toString());
        long child = childPid(parent);
        assertTrue(parent.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, parent.exitValue());
        assertTrue(Files.exists(marker), "the parent exited before its second child ended");
        assertTrue(endsWithin(child, 5_000));
    }

    /**
     * A program's own shutdown hook may start a process and join it, as Python's atexit
     * handlers may: it was refused once the library's exit handler had begun (attack 47).
     */
    @Test
    void aShutdownHookMayStartAProcess(@TempDir Path dir) throws Exception {
        Path marker = dir.resolve("marker");
        java.lang.Process parent = harness("start-in-shutdown-hook", marker.toString());
        childPid(parent);
        assertTrue(parent.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, parent.exitValue());
        assertEquals("done", Files.readString(marker));
    }

    /**
     * The parent killed (SIGKILL) while its exit joins a child that has not yet used the
     * parent's Lock and Value: the child still maps and uses them (a killed parent unlinks
     * nothing), and once it has ended the resource tracker removes the parent's arenas.
     */
    @Test
    void aParentKilledWhileItsExitJoinsAChildLeavesItsSharedStateToTheChild(@TempDir Path dir)
            throws Exception {
        java.util.Set<String> shmBefore = NoLeftoverSharedMemory.names();
        Path marker = dir.resolve("marker");
        java.lang.Process parent = harness("shared-after-main-slow", marker.toString());
        long child = childPid(parent);
        Thread.sleep(1000); // main has returned: the exit waits for the child
        assertTrue(parent.isAlive(), "the parent did not wait for its non-daemon child");
        parent.destroyForcibly();
        assertTrue(parent.waitFor(30, TimeUnit.SECONDS));
        assertTrue(endsWithin(child, 60_000), "the child never ended");
        assertEquals("42", Files.exists(marker) ? Files.readString(marker) : "no marker");
        NoLeftoverSharedMemory.assertNoneLeft(shmBefore);
    }

    @Test
    void aChildStartedJustBeforeMainReturnsStillMapsTheParentsLockAndValue(@TempDir Path dir)
            throws Exception {
        java.util.Set<String> shmBefore = NoLeftoverSharedMemory.names();
        Path marker = dir.resolve("marker");
        java.lang.Process parent = harness("shared-after-main", marker.toString());
        long child = childPid(parent);
        assertTrue(parent.waitFor(60, TimeUnit.SECONDS));
        String stderr = new String(parent.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, parent.exitValue(), stderr);
        assertTrue(endsWithin(child, 5_000));
        // The parent's exit released its arenas only after the child had used them.
        assertEquals("42", Files.exists(marker) ? Files.readString(marker) : "no marker: " + stderr);
        NoLeftoverSharedMemory.assertNoneLeft(shmBefore);
    }

    @Test
    void aLibraryOnTheModulePathStartsItsChildrenThere() throws Exception {
        // Under surefire java.class.path is a manifest-only jar; the real entries are here.
        String testPath = System.getProperty("surefire.test.class.path",
                System.getProperty("java.class.path"));
        List<String> modulePath = new ArrayList<>();
        List<String> classPath = new ArrayList<>();
        for (String entry : testPath.split(java.io.File.pathSeparator)) {
            if (entry.endsWith("test-classes")) {
                classPath.add(entry);
            } else if (entry.endsWith("classes") || entry.contains("fory") || entry.contains("janino")
                    || entry.contains("commons-compiler")) {
                modulePath.add(entry);
            }
        }
        java.lang.Process parent = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // What the module's Javadoc tells a program on the module path to give.
                "--enable-native-access=multiprocessing",
                "--add-opens", "java.base/java.lang.invoke=org.apache.fory.core",
                "--module-path", String.join(java.io.File.pathSeparator, modulePath),
                "--add-modules", "multiprocessing",
                "-cp", String.join(java.io.File.pathSeparator, classPath),
                "mptest.ModulePathHarness").redirectErrorStream(true).start();
        String out = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(parent.waitFor(60, TimeUnit.SECONDS));
        assertTrue(out.contains("child said: Process-1 in module multiprocessing"), out);
        assertTrue(out.contains("exit 0"), out);
        // The child resolves the parent's modules and opens no other jar: with the whole
        // module path, it also resolved Janino's two jars (which Fory declares but does not
        // use), one signed, and paid for checking its signature at every start.
        String parents = out.lines().filter(l -> l.startsWith("parent modules: ")).findFirst()
                .orElseThrow().substring("parent modules: ".length());
        String child = out.lines().filter(l -> l.startsWith("child modules: ")).findFirst()
                .orElseThrow().substring("child modules: ".length());
        assertEquals("[multiprocessing, org.apache.fory.core]", parents, out);
        assertTrue(child.startsWith(parents + " from "), out);
        assertFalse(child.contains("janino") || child.contains("commons-compiler"), out);
        assertTrue(out.contains("janino child modules: [multiprocessing, org.apache.fory.core, "
                + "org.codehaus.commons.compiler, org.codehaus.janino]"), out);
        assertFalse(out.contains("WARNING"), "no JVM warnings in parent or child: " + out);
    }

    /** What a harness run printed, once it has ended. */
    private record Printed(String stdout, String stderr) {}

    private static Printed printedBy(String mode) throws Exception {
        java.lang.Process parent = harness(mode);
        String stderr = new String(parent.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        String stdout = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(parent.waitFor(60, TimeUnit.SECONDS));
        return new Printed(stdout, stderr);
    }

    /** logToStderr at INFO shows a child's life as Python's does (attack 35: it showed none). */
    @Test
    void aChildOfAParentThatLogsSaysWhenItRunsAndHowItExits() throws Exception {
        Printed printed = printedBy("logged");
        String stderr = printed.stderr();
        assertEquals("exit 0", printed.stdout().strip());
        assertTrue(stderr.contains("[INFO/logged] child process calling self.run()"), stderr);
        assertTrue(stderr.contains("[INFO/logged] process exiting with exitcode 0"), stderr);
    }

    @Test
    void anUncaughtExceptionPrintsItsTracebackOnTheChildsStderr() throws Exception {
        Printed printed = printedBy("traceback");
        String stderr = printed.stderr();
        assertEquals("exit 1", printed.stdout().strip());
        assertTrue(stderr.contains("Process failing:"), stderr);
        assertTrue(stderr.contains("java.lang.IllegalStateException: boom in the child"), stderr);
        assertTrue(stderr.contains("ParentHarness"), "the child's frames are shown: " + stderr);
        assertFalse(stderr.contains("WARNING"), "no JVM warnings in a child: " + stderr);
    }

    /**
     * An interrupt ends a platform thread's join of a process, and a child's join of its
     * parent, at once: both wait in poll(2), which an interrupt does not end by itself. In
     * this child their slices are 10 minutes, so only the interrupt's own wake can end them
     * within the test.
     */
    @Test
    void anInterruptEndsJoinsInPollWithoutWaitingForTheirNextLook() throws Exception {
        Process p = Multiprocessing.getContext("spawn")
                .withJvmOptions("-Dmultiprocessing.wait.recheckMillis=600000")
                .process(() -> {
                    Process grandchild = Process.builder().daemon(true).target(() -> {
                        try {
                            Thread.sleep(120_000);
                        } catch (InterruptedException e) {
                            // killed below
                        }
                    }).build();
                    grandchild.start();
                    java.util.concurrent.atomic.AtomicInteger ended =
                            new java.util.concurrent.atomic.AtomicInteger();
                    Thread joiner = new Thread(() -> {
                        try {
                            grandchild.join();
                        } catch (InterruptedException e) {
                            ended.addAndGet(1);
                        }
                    });
                    Thread parentJoiner = new Thread(() -> {
                        try {
                            Multiprocessing.parentProcess().orElseThrow().join();
                        } catch (InterruptedException e) {
                            ended.addAndGet(2);
                        }
                    });
                    joiner.start();
                    parentJoiner.start();
                    try {
                        Thread.sleep(500); // both asleep in poll(2)
                        joiner.interrupt();
                        parentJoiner.interrupt();
                        joiner.join(30_000);
                        parentJoiner.join(30_000);
                        grandchild.kill();
                        grandchild.join();
                    } catch (InterruptedException e) {
                        System.exit(9);
                    }
                    System.exit(ended.get() == 3 ? 0 : 10 + ended.get());
                });
        p.start();
        p.join(java.time.Duration.ofSeconds(90));
        Integer code = p.exitCode();
        if (code == null) {
            p.kill();
            p.join();
        }
        p.close();
        assertEquals(0, code, "10 + which joins ended: 1 the process's, 2 the parent's");
    }

    /**
     * A parent whose standard error has gone (its reader quit: {@code java App 2>&1 | head})
     * still sees its children run: the tap of a child's standard error stopped reading at the
     * first write it could not pass on, and missed the child's "running" marker, so a child
     * that wrote a warning before it ran, and exited 0, was reported as never ran.
     */
    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void aParentWhoseStandardErrorIsGoneStillSeesItsChildrenRun(String method)
            throws Exception {
        java.lang.Process parent = harnessWith(method, "stderr-gone");
        parent.getErrorStream().close(); // writes to its standard error now fail (EPIPE)
        String out = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(parent.waitFor(90, TimeUnit.SECONDS), "the harness hangs");
        assertEquals(List.of("ran", "exit 0", "ran", "exit 0"), out.lines().toList(), out);
        assertEquals(0, parent.exitValue(), out);
    }
}
