package multiprocessing.internal.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.ProcessIdentity;
import multiprocessing.internal.spawn.SweepHarness;

/**
 * The private directories that JVMs killed before their exit hooks left in the temporary
 * directory are removed by the next JVM that creates one of the same kind, and nothing else
 * is: not a live process's, not one that holds more than socket files, not a link, not
 * another user's. Each test sweeps a leftover that must go beside those that must stay, so
 * that it cannot pass by a sweep that does nothing.
 */
@Timeout(120)
@ExtendWith(NoLeftoverProcesses.class)
class TempDirSweeperTest {
    @org.junit.jupiter.api.io.TempDir
    Path tmp;

    private static final int SELF = (int) ProcessHandle.current().pid();
    /** pid_max itself: pids are below it, so no process ever holds it. */
    private static final int DEAD = deadPid();

    private static int deadPid() {
        try {
            // Not readString: it reads a sysctl file one byte first, and the kernel answers a
            // read past its start with nothing ("3" of 32768).
            return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/kernel/pid_max"))
                    .get(0).trim());
        } catch (IOException e) {
            throw new IllegalStateException("no /proc/sys/kernel/pid_max", e);
        }
    }

    /** What follows {@code tag} on the harness's one line that starts with it. */
    private static String line(List<String> out, String tag) {
        List<String> found = out.stream().filter(l -> l.startsWith(tag)).toList();
        assertEquals(1, found.size(), tag + "in " + out);
        return found.get(0).substring(tag.length());
    }

    /** A name as this library gives it, on this host. */
    private static String named(String prefix, int pid, long start, String random) {
        return prefix + pid + "-" + start + "-h" + ProcessIdentity.HOST + "-" + random;
    }

    @Test
    void theDirectoriesOfProcessesThatAreGoneAreRemovedWithTheirSockets() throws Exception {
        Path dead = leftover(named("jmp-", DEAD, 123456, "987654321"));
        socket(dead, "listener-1a2b");
        socket(dead, "sharer-3c4d");
        Path empty = leftover(named("jmp-", DEAD, 123456, "12"));
        Path classes = leftover(named("multiprocessing-classes-", DEAD, 123456, "x9y8z7"));
        socket(classes, "s");
        assertEquals(2, TempDirSweeper.sweep(tmp, "jmp-", TempDirSweeper.ANY_PID));
        assertFalse(Files.exists(dead), dead.toString());
        assertFalse(Files.exists(empty), empty.toString());
        assertTrue(Files.exists(classes), "another kind's sweep took " + classes);
        assertEquals(1, TempDirSweeper.sweep(tmp, "multiprocessing-classes-",
                TempDirSweeper.ANY_PID));
        assertFalse(Files.exists(classes), classes.toString());
    }

    @Test
    void aPidTakenSinceByAnotherProcessDoesNotKeepADirectory() throws Exception {
        Assumptions.assumeTrue(ProcessIdentity.START != 0, "/proc tells no start time here");
        Path reused = leftover(named("jmp-", SELF, ProcessIdentity.START - 1, "77"));
        socket(reused, "listener-5e6f");
        Path mine = leftover(named("jmp-", SELF, ProcessIdentity.START, "78"));
        socket(mine, "listener-7a8b");
        assertEquals(1, TempDirSweeper.sweep(tmp, "jmp-", TempDirSweeper.ANY_PID));
        assertFalse(Files.exists(reused), reused.toString());
        assertTrue(Files.exists(mine.resolve("listener-7a8b"), LinkOption.NOFOLLOW_LINKS),
                "a live process's socket was removed");
    }

    @Test
    void aDirectoryHoldingAnythingButSocketsIsLeftWhole() throws Exception {
        Path gone = leftover(named("jmp-", DEAD, 1, "1"));
        Path withFile = leftover(named("jmp-", DEAD, 1, "2"));
        socket(withFile, "listener-1");
        Files.writeString(withFile.resolve("notes.txt"), "someone's");
        Path withDirectory = leftover(named("jmp-", DEAD, 1, "3"));
        Files.createDirectory(withDirectory.resolve("sub"));
        Path withLink = leftover(named("jmp-", DEAD, 1, "4"));
        Path elsewhere = Files.createDirectory(tmp.resolve("elsewhere"));
        socket(elsewhere, "s");
        Files.createSymbolicLink(withLink.resolve("s"), elsewhere.resolve("s"));
        assertEquals(1, TempDirSweeper.sweep(tmp, "jmp-", TempDirSweeper.ANY_PID));
        assertFalse(Files.exists(gone), gone.toString());
        assertEquals("someone's", Files.readString(withFile.resolve("notes.txt")));
        assertTrue(Files.exists(withFile.resolve("listener-1"), LinkOption.NOFOLLOW_LINKS),
                "a socket beside a file was removed");
        assertTrue(Files.isDirectory(withDirectory.resolve("sub")), withDirectory.toString());
        assertTrue(Files.isSymbolicLink(withLink.resolve("s")), withLink.toString());
        assertTrue(Files.exists(elsewhere.resolve("s"), LinkOption.NOFOLLOW_LINKS),
                "a link's target was removed");
    }

    @Test
    void aDirectoryThatIsNotPrivateOrIsALinkIsLeft() throws Exception {
        Path gone = leftover(named("multiprocessing-classes-", DEAD, 1, "a"));
        Path open = leftover(named("multiprocessing-classes-", DEAD, 1, "b"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path target = leftover("target");
        socket(target, "s");
        Path link = Files.createSymbolicLink(tmp.resolve(named("multiprocessing-classes-", DEAD,
                1, "c")), target);
        assertEquals(1, TempDirSweeper.sweep(tmp, "multiprocessing-classes-",
                TempDirSweeper.ANY_PID));
        assertFalse(Files.exists(gone), gone.toString());
        assertTrue(Files.isDirectory(open), open.toString());
        assertTrue(Files.isSymbolicLink(link), link.toString());
        assertTrue(Files.exists(target.resolve("s"), LinkOption.NOFOLLOW_LINKS),
                "the socket a link led to was removed");
    }

    @Test
    void anotherUsersDirectoryIsLeft() throws Exception {
        Assumptions.assumeTrue(Posix.geteuid() == 0, "only root can give a directory away");
        Path gone = leftover(named("jmp-", DEAD, 1, "1"));
        Path theirs = leftover(named("jmp-", DEAD, 1, "2"));
        Files.setAttribute(theirs, "unix:uid", 65534, LinkOption.NOFOLLOW_LINKS);
        assertEquals(1, TempDirSweeper.sweep(tmp, "jmp-", TempDirSweeper.ANY_PID));
        assertFalse(Files.exists(gone), gone.toString());
        assertTrue(Files.isDirectory(theirs), theirs.toString());
    }

    /**
     * A pid means nothing in another pid namespace or on another machine sharing the
     * directory, and names without a host (this library's before it had them) cannot say
     * where they come from: none of those is judged.
     */
    @Test
    void namesOfAnotherHostOrWithoutOneAreLeft() throws Exception {
        Path gone = leftover(named("jmp-", DEAD, 1, "1"));
        String otherHost = ProcessIdentity.HOST.equals("00000000") ? "00000001" : "00000000";
        Path foreign = leftover("jmp-" + DEAD + "-1-h" + otherHost + "-2");
        socket(foreign, "listener-1");
        Path oldJmp = leftover("jmp-" + DEAD + "-1-3");
        Path oldClasses = leftover("multiprocessing-classes-" + DEAD + "-3w5e11264sgsg");
        Path noPid = leftover("multiprocessing-classes-14805485817807062934");
        assertEquals(1, TempDirSweeper.sweep(tmp, "jmp-", TempDirSweeper.ANY_PID));
        assertEquals(0, TempDirSweeper.sweep(tmp, "multiprocessing-classes-",
                TempDirSweeper.ANY_PID));
        assertFalse(Files.exists(gone), gone.toString());
        assertTrue(Files.exists(foreign.resolve("listener-1"), LinkOption.NOFOLLOW_LINKS),
                "another host's directory was judged by its pid");
        for (Path kept : List.of(oldJmp, oldClasses, noPid)) {
            assertTrue(Files.isDirectory(kept), kept.toString());
        }
    }

    @Test
    void aTemporaryDirectoryTooLongForASocketPathGivesWayToTmp() {
        assertEquals(Path.of("/var/tmp"), TempDir.base("/var/tmp"));
        String deep = "/var/tmp/" + "d".repeat(60);
        assertEquals(Path.of("/tmp"), TempDir.base(deep), "a socket path under it is too long");
    }

    @Test
    void aDirectoryWhereOthersMayRenameEntriesIsNotSwept() throws Exception {
        Path gone = leftover(named("jmp-", DEAD, 1, "1"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertEquals(0, TempDirSweeper.sweep(tmp, "jmp-", TempDirSweeper.ANY_PID));
        assertTrue(Files.isDirectory(gone), gone.toString());
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx------"));
        assertEquals(1, TempDirSweeper.sweep(tmp, "jmp-", TempDirSweeper.ANY_PID));
    }

    /** What a parent removes of a child it reaped passes the same checks as a sweep. */
    @Test
    void aReapedChildsDirectoriesAreRemovedAndNoOtherProcessNorOneHoldingAFile()
            throws Exception {
        Path child = leftover(named("jmp-", DEAD, 5, "1"));
        socket(child, "listener-1");
        Path childWithFile = leftover(named("jmp-", DEAD, 5, "3"));
        Files.writeString(childWithFile.resolve("f"), "x");
        Path other = leftover(named("jmp-", SELF, ProcessIdentity.START + 1, "2"));
        assertEquals(1, TempDirSweeper.sweep(tmp, "jmp-", DEAD));
        assertFalse(Files.exists(child), child.toString());
        assertEquals("x", Files.readString(childWithFile.resolve("f")));
        assertTrue(Files.isDirectory(other), other.toString());
    }

    /**
     * What a parent removes of a child it reaped, looked up by its own name: that directory
     * only (another of the same child, named at random because its own name was taken, is left
     * to the sweeps), and only past the same checks as a sweep.
     */
    @Test
    void aReapedChildsOwnDirectoryIsRemovedByNameAndNothingElse() throws Exception {
        Path own = leftover(named("jmp-", DEAD, 5, TempDir.OWN_PART));
        socket(own, "listener-1");
        Path random = leftover(named("jmp-", DEAD, 5, "k3"));
        Path ownWithFile = leftover(named("jmp-", DEAD, 6, TempDir.OWN_PART));
        Files.writeString(ownWithFile.resolve("f"), "x");
        TempDirSweeper.removeOfEnded(tmp, own.getFileName().toString());
        TempDirSweeper.removeOfEnded(tmp, ownWithFile.getFileName().toString());
        TempDirSweeper.removeOfEnded(tmp, named("jmp-", DEAD, 7, TempDir.OWN_PART)); // none
        assertFalse(Files.exists(own), own.toString());
        assertTrue(Files.isDirectory(random), random.toString());
        assertEquals("x", Files.readString(ownWithFile.resolve("f")));
    }

    @Test
    void onlyNamesThisLibraryGivesTellAnOwner() {
        assertEquals(new TempDirSweeper.Owner(12, 34, "0a1b2c3d"),
                TempDirSweeper.owner("12-34-h0a1b2c3d-5z"));
        for (String rest : List.of("", "12", "12-", "12-5z", "12-34-5z", "-34-h0a1b2c3d-5",
                "12-34-h0a1b2c3d-", "12-34-h0a1b2c3-5", "12-34-h0a1b2c3d-5-6", "0-1-h0a1b2c3d-2",
                "12-34-h0a1b2c3d-5Z", "99999999999-1-h0a1b2c3d-2",
                "12-99999999999999999999-h0a1b2c3d-2", "a-b")) {
            assertNull(TempDirSweeper.owner(rest), rest);
        }
    }

    /**
     * A JVM sweeps when it creates its socket directory and when it starts its class server,
     * and names its class server's directory with its pid and start time.
     */
    @Test
    void aJvmCreatingItsDirectoriesSweepsTheirKinds() throws Exception {
        Path jmp = leftover(named("jmp-", DEAD, 42, "1"));
        socket(jmp, "listener-1");
        Path classes = leftover(named("multiprocessing-classes-", DEAD, 42, "abc"));
        socket(classes, "s");
        Path kept = leftover(named("jmp-", DEAD, 42, "2"));
        Files.writeString(kept.resolve("f"), "x");
        java.lang.Process jvm = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=" + tmp,
                // its child trains no AOT cache: a trainer would outlive the harness
                "-Dmultiprocessing.aotCache=false",
                "-cp", System.getProperty("java.class.path"), SweepHarness.class.getName())
                .redirectErrorStream(true).start();
        List<String> out;
        try {
            out = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                    .lines().toList();
            assertTrue(jvm.waitFor(60, TimeUnit.SECONDS), "the harness did not end");
        } finally {
            jvm.destroyForcibly();
        }
        assertEquals(0, jvm.exitValue(), String.join("\n", out));
        assertFalse(Files.exists(jmp), jmp.toString());
        assertFalse(Files.exists(classes), classes.toString());
        assertEquals("x", Files.readString(kept.resolve("f")));
        assertEquals(List.of("child " + tmp), out.stream().filter(l -> l.startsWith("child "))
                .toList(), "a child's temporary directory is its parent's: " + out);
        Path server = Path.of(line(out, "address ")).getParent();
        assertEquals(tmp, server.getParent());
        assertEquals(new TempDirSweeper.Owner((int) jvm.pid(), Long.parseLong(line(out, "start ")),
                ProcessIdentity.HOST), TempDirSweeper.owner(server.getFileName().toString()
                        .substring("multiprocessing-classes-".length())), server.toString());
    }

    /** A directory as this library makes one: mode 0700. */
    private Path leftover(String name) throws IOException {
        return Files.createDirectory(tmp.resolve(name),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /** A socket file, as a listener that was never closed leaves it. */
    private static void socket(Path dir, String name) throws IOException {
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(dir.resolve(name)));
        }
    }
}
