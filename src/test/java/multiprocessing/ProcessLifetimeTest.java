package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
        assertFalse(out.contains("WARNING"), "no JVM warnings in parent or child: " + out);
    }

    @Test
    void anUncaughtExceptionPrintsItsTracebackOnTheChildsStderr() throws Exception {
        java.lang.Process parent = harness("traceback");
        String stderr = new String(parent.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        String stdout = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(parent.waitFor(60, TimeUnit.SECONDS));
        assertEquals("exit 1", stdout.strip());
        assertTrue(stderr.contains("Process failing:"), stderr);
        assertTrue(stderr.contains("java.lang.IllegalStateException: boom in the child"), stderr);
        assertTrue(stderr.contains("ParentHarness"), "the child's frames are shown: " + stderr);
        assertFalse(stderr.contains("WARNING"), "no JVM warnings in a child: " + stderr);
    }
}
