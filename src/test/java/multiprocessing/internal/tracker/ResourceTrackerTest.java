package multiprocessing.internal.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The resource tracker, watched from outside a process tree started with ProcessBuilder. */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ResourceTrackerTest {

    private static String prefix(String what) {
        return "mpj_trk_" + what + "_" + ProcessHandle.current().pid() + "_" + System.nanoTime();
    }

    /**
     * Starts the harness with its output in files: the JDK closes a child's pipes once the
     * child has exited, and the tracker, which shares the harness's stderr, logs after that.
     */
    private static java.lang.Process harness(String mode, String prefix, Path dir)
            throws IOException {
        return harness(List.of(), mode, prefix, dir);
    }

    private static java.lang.Process harness(List<String> before, String mode, String prefix,
            Path dir) throws IOException {
        return harness(before, List.of(), mode, prefix, dir);
    }

    private static java.lang.Process harness(List<String> before, List<String> jvmOptions,
            String mode, String prefix, Path dir) throws IOException {
        List<String> command = new ArrayList<>(before);
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"));
        command.addAll(jvmOptions);
        command.addAll(List.of(
                "-cp", System.getProperty("java.class.path"), TrackerHarness.class.getName(),
                mode, prefix));
        return new ProcessBuilder(command).redirectOutput(dir.resolve("out").toFile())
                .redirectError(dir.resolve("err").toFile()).start();
    }

    /**
     * Waits up to 60 s for {@code file} to hold a line containing {@code text} (a JVM that
     * starts a child and a tracker takes seconds on a loaded 2-CPU machine; 10 s was missed at
     * load 140).
     */
    private static String awaitLine(Path file, String text) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            for (String line : Files.readAllLines(file)) {
                if (line.contains(text)) {
                    return line;
                }
            }
            if (System.nanoTime() > deadline) {
                fail("no line with '" + text + "' in " + file + ":\n" + Files.readString(file));
            }
            Thread.sleep(20);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static List<String> shm(String prefix) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/dev/shm"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix))
                    .sorted().toList();
        }
    }

    /**
     * Processes whose descriptor 3 is the tracker pipe {@code pipe} ("pipe:[inode]"): only
     * the tracker has it there. Found through /proc/PID/fd, never /proc/PID/cmdline, whose
     * reading waits for the process's memory map lock (seconds, for a process busy mapping).
     */
    private static List<Long> trackers(String pipe) throws IOException {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> {
                        try {
                            return Files.readSymbolicLink(p.resolve("fd/3")).toString().equals(pipe);
                        } catch (IOException | RuntimeException e) {
                            return false;
                        }
                    }).map(p -> Long.parseLong(p.getFileName().toString())).toList();
        }
    }

    private static void awaitGone(String prefix, String pipe) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!shm(prefix).isEmpty() || (pipe != null && !trackers(pipe).isEmpty())) {
            if (System.nanoTime() > deadline) {
                fail("left after the tree ended: segments " + shm(prefix) + ", trackers "
                        + (pipe == null ? "?" : trackers(pipe)));
            }
            Thread.sleep(20);
        }
    }

    @Test
    void sigkillOfTheWholeTreeLeavesNothingBehind(@TempDir Path dir) throws Exception {
        String prefix = prefix("kill");
        java.lang.Process parent = harness("kill-me", prefix, dir);
        String pipe;
        try {
            String ready = awaitLine(dir.resolve("out"), "ready ");
            assertEquals(List.of(prefix + "_a", prefix + "_b", prefix + "_c"), shm(prefix));
            pipe = ready.split(" ")[2];
            assertEquals(1, trackers(pipe).size(), "one tracker for the whole tree");
        } finally {
            // Killed in any case: a harness left running would fail the next class's check.
            parent.destroyForcibly();
            parent.waitFor();
        }
        awaitGone(prefix, pipe);
        // The tracker has exited (awaitGone): everything it logged is in the file.
        String err = Files.readString(dir.resolve("err"));
        for (String name : List.of("_a", "_b", "_c")) {
            long lines = err.lines().filter(l -> l.contains("'/" + prefix + name + "'")).count();
            assertEquals(1, lines, "one line for " + name + " in:\n" + err);
        }
        assertTrue(err.contains("WARNING: resource tracker: unlinked leaked shared memory"), err);
    }

    /**
     * The program's whole process group SIGKILLed at once ({@code kill -9 -PGID}, what
     * {@code timeout -s KILL} and a terminal's job control send): the tracker, in a process
     * group of its own, outlives it and unlinks what it left.
     */
    @Test
    void sigkillOfTheProgramsWholeProcessGroupLeavesNothingBehind(@TempDir Path dir)
            throws Exception {
        String prefix = prefix("group");
        // setsid: the harness leads a process group of its own, which the kill ends whole.
        java.lang.Process parent = harness(List.of("setsid"), "kill-me", prefix, dir);
        String pipe = null;
        long child = -1;
        try {
            String ready = awaitLine(dir.resolve("out"), "ready ");
            child = Long.parseLong(ready.split(" ")[1]);
            pipe = ready.split(" ")[2];
            assertEquals(3, shm(prefix).size());
            assertEquals(0, new ProcessBuilder("kill", "-KILL", "--", "-" + parent.pid())
                    .start().waitFor());
            assertTrue(parent.waitFor(30, TimeUnit.SECONDS));
            ProcessHandle daemon = ProcessHandle.of(child).orElse(null);
            assertTrue(daemon == null || daemon.onExit().get(30, TimeUnit.SECONDS) != null,
                    "the child was in the group too");
            awaitGone(prefix, pipe);
        } finally {
            parent.destroyForcibly();
            parent.waitFor();
            ProcessHandle.of(child).ifPresent(ProcessHandle::destroyForcibly);
            for (String name : shm(prefix)) {
                Files.deleteIfExists(Path.of("/dev/shm", name)); // a failed run's leftovers
            }
        }
    }

    /** SIGKILLs the tracker of {@code pipe} and waits until it is gone. */
    private static void killTracker(String pipe) throws Exception {
        List<Long> found = trackers(pipe);
        assertEquals(1, found.size(), "one tracker");
        ProcessHandle.of(found.get(0)).ifPresent(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!trackers(pipe).isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "the tracker outlived its SIGKILL");
            Thread.sleep(20);
        }
    }

    /**
     * A tracker killed while the program runs (it ignores the signals a program's end sends,
     * but not SIGKILL): the next registration starts another, told what the process holds, and
     * children started after report to it. It was not started again, and everything the
     * program then left stayed in /dev/shm.
     */
    @Test
    void aKilledTrackerIsStartedAgain(@TempDir Path dir) throws Exception {
        String prefix = prefix("restart");
        java.lang.Process harness = harness("tracker-killed", prefix, dir);
        String pipe;
        try {
            String first = awaitLine(dir.resolve("out"), "ready ").split(" ")[1];
            killTracker(first);
            harness.getOutputStream().write('\n');
            harness.getOutputStream().flush();
            pipe = awaitLine(dir.resolve("out"), "again ").split(" ")[1];
            assertFalse(pipe.equals(first), pipe);
            assertEquals(List.of(prefix + "_a", prefix + "_b", prefix + "_c"), shm(prefix));
            assertEquals(1, trackers(pipe).size(), "one tracker again");
        } finally {
            harness.destroyForcibly();
            harness.waitFor();
        }
        awaitGone(prefix, pipe);
        String err = Files.readString(dir.resolve("err"));
        assertTrue(err.contains("the resource tracker ended"), err);
        for (String name : List.of("_a", "_b", "_c")) {
            assertTrue(err.contains("'/" + prefix + name + "'"), name + " in:\n" + err);
        }
    }

    /**
     * A tracker killed after the program's last registration is started again all the same:
     * the program's root watches it. It was started again only at a later registration or
     * start, and a program that made none left everything in /dev/shm, with no word (attack 52).
     */
    @Test
    void aTrackerKilledAfterTheLastRegistrationIsStartedAgain(@TempDir Path dir)
            throws Exception {
        String prefix = prefix("idle");
        java.lang.Process harness = harness("idle-after", prefix, dir);
        try {
            killTracker(awaitLine(dir.resolve("out"), "ready ").split(" ")[1]);
            awaitLine(dir.resolve("err"), "the resource tracker ended");
            // The new tracker is told of _a; a moment for its JVM to read that.
            Thread.sleep(2000);
            assertEquals(List.of(prefix + "_a"), shm(prefix));
        } finally {
            harness.destroyForcibly();
            harness.waitFor();
        }
        awaitGone(prefix, null);
    }

    /**
     * A child that starts a tracker again (its parent's was killed) and leaves a segment for
     * its parent: its tracker unlinks it only once the parent has ended too. It was never
     * unlinked.
     */
    @Test
    void aTrackerAChildStartsAgainWaitsForItsParent(@TempDir Path dir) throws Exception {
        String prefix = prefix("childrestart");
        java.lang.Process harness = harness("child-restarts", prefix, dir);
        try {
            killTracker(awaitLine(dir.resolve("out"), "ready ").split(" ")[1]);
            harness.getOutputStream().write('\n');
            harness.getOutputStream().flush();
            assertEquals(0, harness.waitFor(), () -> read(dir.resolve("err")));
        } finally {
            harness.destroyForcibly();
            harness.waitFor();
        }
        assertEquals("kept true 0", awaitLine(dir.resolve("out"), "kept "),
                () -> read(dir.resolve("err")));
        // Its warning goes to the child's standard error, a pipe its parent read: lost.
        awaitGone(prefix, null);
        assertTrue(read(dir.resolve("err")).contains("the resource tracker ended"),
                () -> read(dir.resolve("err")));
    }

    @Test
    void unlinkUnregistersInParentAndChild(@TempDir Path dir) throws Exception {
        String prefix = prefix("tidy");
        java.lang.Process parent = harness("tidy", prefix, dir);
        assertEquals(0, parent.waitFor(), () -> read(dir.resolve("err")));
        assertEquals("exit 0", Files.readString(dir.resolve("out")).strip());
        awaitGone(prefix, null);
        // Give a tracker that would wrongly unlink something the time to say so.
        Thread.sleep(1500);
        String err = Files.readString(dir.resolve("err"));
        assertFalse(err.contains("resource tracker"), err);
    }

    /**
     * A process that leaves the tree (an AOT cache's trainer, once its tour is done) is no
     * longer waited for: what a SIGKILLed child left is unlinked while it lives on. One that
     * still holds a name of its own does not leave.
     */
    @Test
    void aProcessThatLeftIsNotWaitedFor(@TempDir Path dir) throws Exception {
        String prefix = prefix("leave");
        java.lang.Process harness = harness("leave", prefix, dir);
        try {
            assertEquals("holding false", awaitLine(dir.resolve("out"), "holding"),
                    () -> read(dir.resolve("err")));
            assertEquals("left true", awaitLine(dir.resolve("out"), "left"));
            awaitGone(prefix, null);
            assertTrue(harness.isAlive(), "unlinked while the process that left lives on");
            String line = awaitLine(dir.resolve("err"), "'/" + prefix + "_c'");
            assertTrue(line.startsWith("WARNING: resource tracker: unlinked leaked shared memory"),
                    line);
        } finally {
            harness.destroyForcibly().waitFor();
        }
    }

    /**
     * A process killed just after it created an object of a name of the library's own (an
     * arena, a large message): the name was told to the tracker before the object existed, so
     * the tracker unlinks it. Told after, such an object stayed in /dev/shm for good.
     */
    @Test
    void anObjectWhoseCreatorIsKilledAsItIsCreatedIsUnlinked(@TempDir Path dir) throws Exception {
        java.lang.Process harness = harness(List.of(),
                List.of("-Dmultiprocessing.shm.testCreatedStallMillis=60000"), "stalled-create",
                prefix("stalled"), dir);
        String name = null;
        String pipe;
        try {
            pipe = awaitLine(dir.resolve("out"), "ready ").split(" ")[1];
            long deadline = System.nanoTime() + 60_000_000_000L;
            while ((name = openObject(harness.pid())) == null) {
                assertTrue(System.nanoTime() < deadline, "no object was created");
                Thread.sleep(20);
            }
        } finally {
            harness.destroyForcibly();
            harness.waitFor();
        }
        assertTrue(Files.exists(Path.of("/dev/shm", name)), name);
        awaitGone(name, pipe);
    }

    /** The name of a shared-memory object {@code pid} has open, or null. */
    private static String openObject(long pid) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    return "";
                }
            }).filter(l -> l.startsWith("/dev/shm/")).map(l -> l.substring("/dev/shm/".length()))
                    .findFirst().orElse(null);
        }
    }

    /**
     * Segments the program never unlinked are unlinked once it ends, a name holding a carriage
     * return too: the tracker ended its line there, registered a shorter name, and left the
     * segment (review 43).
     */
    @Test
    void aForgottenSegmentIsUnlinkedWhenTheProgramEnds(@TempDir Path dir) throws Exception {
        String prefix = prefix("forgot");
        java.lang.Process parent = harness(List.of("env", "LANG=C", "LC_ALL=C"), "forgotten",
                prefix, dir);
        assertEquals(0, parent.waitFor(), () -> read(dir.resolve("err")));
        awaitGone(prefix, null);
        String line = awaitLine(dir.resolve("err"), "'/" + prefix + "_a'");
        assertTrue(line.startsWith("WARNING: resource tracker: unlinked leaked shared memory"),
                line);
    }

    /**
     * An object the program registered, whose name another program unlinks and makes again
     * (its own object, of the same name): the tracker unlinked that one once the program ended,
     * as CPython's does; it is told the inode of what it was given and leaves another's alone
     * (review 50).
     */
    @Test
    void anotherProgramsObjectOfTheSameNameIsLeftAlone(@TempDir Path dir) throws Exception {
        String prefix = prefix("again");
        Path object = Path.of("/dev/shm", prefix + "_n");
        java.lang.Process harness = harness("made-again", prefix, dir);
        try {
            String pipe = awaitLine(dir.resolve("out"), "created").substring("created ".length());
            Files.delete(object);
            Files.writeString(object, "another program's");
            harness.getOutputStream().write('\n');
            harness.getOutputStream().flush();
            assertEquals(0, harness.waitFor(), () -> read(dir.resolve("err")));
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!trackers(pipe).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(List.of(), trackers(pipe), "the tracker did not end");
            assertTrue(Files.exists(object), "another program's object was unlinked: "
                    + read(dir.resolve("err")));
            assertEquals("another program's", Files.readString(object));
            assertFalse(read(dir.resolve("err")).contains("resource tracker"),
                    read(dir.resolve("err")));
        } finally {
            harness.destroyForcibly().waitFor();
            Files.deleteIfExists(object);
        }
    }

    /**
     * The tracker's book: a random name registered before its object existed (inode 0) is
     * taken off by an UNREGISTER that knows the inode; one registered with its inode by an
     * UNREGISTER by name alone (the receipts' unlinks: review 52, their registrations piled
     * up for the program's life); another object of the name takes off nothing; an
     * UNREGISTER that matches nothing leaves nothing behind.
     */
    @Test
    void theTrackersBookCountsObjectsNotNames() {
        java.util.Map<TrackerMain.Key, TrackerMain.Registration> book =
                new java.util.LinkedHashMap<>();
        TrackerMain.handle("REGISTER 11 0 /mp_random", book);
        TrackerMain.handle("UNREGISTER 12 91 /mp_random", book);
        assertEquals(java.util.Map.of(), book);

        TrackerMain.handle("REGISTER 11 55 /receipts", book);
        TrackerMain.handle("UNREGISTER 11 0 /receipts", book);
        assertEquals(java.util.Map.of(), book);

        TrackerMain.handle("UNREGISTER 12 77 /x", book);
        assertEquals(java.util.Map.of(), book, "an UNREGISTER of nothing leaves nothing");

        TrackerMain.handle("REGISTER 11 77 /y", book);
        TrackerMain.handle("UNREGISTER 12 78 /y", book); // another object of that name
        assertEquals(1, book.get(new TrackerMain.Key("/y", 77)).count);
        TrackerMain.handle("REGISTER 11 /malformed", book);
        TrackerMain.handle("REGISTER 11 x /malformed", book);
        assertEquals(1, book.size());
    }
}
