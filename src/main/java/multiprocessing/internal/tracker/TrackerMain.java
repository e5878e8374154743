package multiprocessing.internal.tracker;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.SharedMemoryCalls;

/**
 * The resource tracker's JVM (CPython's {@code resource_tracker.main}): reads REGISTER and
 * UNREGISTER lines from descriptor 3 until every process of the program has closed the pipe,
 * then unlinks what is still registered, logging one line per name, and exits.
 *
 * <p>It needs neither Fory nor any downcall until there is something to unlink (but for the wait
 * on its parent's pidfd, in a tracker a child started again), and runs with
 * a small heap, C1 only and the serial collector: it costs little to start and to keep.
 *
 * <p>Implementation note. A name alone does not say which object it is: another process, of
 * this program or of another, may unlink a name and create it again, and the tracker must
 * never unlink an object it was not told of (review 50). So an object is registered by its
 * name and its inode, when the process knows it: an UNREGISTER takes off the registration of
 * that object only, and at the end a name is unlinked only while it still names the object
 * registered (compared through /dev/shm just before the unlink; a name another program takes
 * in the microseconds between is the one race left). An UNREGISTER may overtake its REGISTER
 * (an object created under a name of the caller's choosing is registered once it exists, and
 * another process may attach and unlink it first): the REGISTER then stays, but its object is
 * gone, so nothing is unlinked for it at the end. An UNREGISTER that matches nothing is
 * dropped, as before: kept, such notes grew the book for as long as the program ran. The
 * library's own objects, with random names, are registered before they exist, by name alone
 * (inode 0): such a name is nobody else's, the registration comes first in the pipe, and its
 * UNREGISTER, which may carry the inode, takes it off; an UNREGISTER by name alone takes off a
 * registration of that name whatever its inode.
 */
public final class TrackerMain {
    private TrackerMain() {}

    static final int PIPE_FD = 3;
    /**
     * A pidfd of a process to wait for too, if there: a tracker a child started again (its
     * parent's was killed) cleans up only once that parent has ended as well.
     */
    static final int AWAITED_FD = 4;

    /** The tracker's command line, without the first message (the launcher adds it). */
    static List<String> commandLine() {
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Its environment has none of the program's JVM options (ResourceTracker.launch): these
        // are all it runs with.
        argv.addAll(List.of("-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Xmx32m", "-Xss512k", "-XX:-UsePerfData",
                "-Djava.util.logging.SimpleFormatter.format=%4$s: %5$s%6$s%n"));
        boolean named = TrackerMain.class.getModule().isNamed();
        argv.add("--enable-native-access=" + (named ? "multiprocessing" : "ALL-UNNAMED"));
        // Absolute: the tracker runs from / (a working directory removed meanwhile would stop
        // its JVM from starting, and it may start long after the program's).
        multiprocessing.internal.spawn.BootModules.Selection boot =
                multiprocessing.internal.spawn.BootModules.fromModulePath();
        String modulePath = absolute(boot != null ? boot.modulePath()
                : System.getProperty("jdk.module.path"));
        String classPath = absolute(multiprocessing.internal.spawn.ClassReach.libraryClassPath());
        if (modulePath != null && !modulePath.isEmpty()) {
            argv.add("--module-path");
            argv.add(modulePath);
        }
        if (classPath != null && !multiprocessing.internal.spawn.LongArguments.fits(classPath)) {
            // Longer than one argument of exec may be (E2BIG: attack 48): the tracker needs
            // the library alone, and it is exec'd late (at the first registration), so an
            // argument file could be gone by then.
            String own = ownLocation();
            classPath = own != null ? own : classPath;
        }
        if (classPath != null && !classPath.isEmpty()) {
            argv.add("-cp");
            argv.add(classPath);
        }
        if (named) {
            argv.add("-m");
            argv.add("multiprocessing/" + TrackerMain.class.getName());
        } else {
            argv.add(TrackerMain.class.getName());
        }
        return argv;
    }

    /** {@code path}'s entries made absolute against this JVM's working directory. */
    private static String absolute(String path) {
        if (path == null || path.isEmpty()) {
            return path;
        }
        List<String> entries = new ArrayList<>();
        for (String entry : path.split(java.io.File.pathSeparator, -1)) {
            entries.add(Path.of(entry).toAbsolutePath().toString());
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    /** The jar or directory the library's classes come from, or null if not a plain one. */
    private static String ownLocation() {
        try {
            Path own = Path.of(TrackerMain.class.getProtectionDomain().getCodeSource()
                    .getLocation().toURI());
            return Files.isRegularFile(own) || Files.isDirectory(own) ? own.toString() : null;
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    public static void main(String[] args) throws IOException {
        Map<Key, Registration> registered = new LinkedHashMap<>();
        if (args.length > 0) {
            handle(args[args.length - 1], registered);
        }
        try (Reader in = new BufferedReader(new InputStreamReader(
                new FileInputStream("/proc/self/fd/" + PIPE_FD), StandardCharsets.UTF_8))) {
            // Lines end at '\n' alone: a name may hold a '\r', at which readLine() would
            // have ended the line and registered a shorter name (another program's, maybe).
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) != -1; ) {
                if (c == '\n') {
                    handle(line.toString(), registered);
                    line.setLength(0);
                } else {
                    line.append((char) c);
                }
            }
        }
        awaitParent();
        System.Logger log = System.getLogger("multiprocessing");
        for (Map.Entry<Key, Registration> e : registered.entrySet()) {
            if (e.getValue().count > 0) {
                unlinkLeft(e.getKey(), e.getValue().creator, log);
            }
        }
        System.exit(0);
    }

    private static void awaitParent() {
        try {
            if (!Files.readSymbolicLink(Path.of("/proc/self/fd/" + AWAITED_FD)).toString()
                    .contains("pidfd")) {
                return;
            }
        } catch (IOException e) {
            return; // not there: the first tracker of a program
        }
        try {
            while (multiprocessing.internal.posix.Posix.pollOne(AWAITED_FD,
                    multiprocessing.internal.posix.Posix.POLLIN, -1) == 0) {
                // EINTR
            }
        } catch (ErrnoException e) {
            // cannot wait: clean up now, as a first tracker would
        }
    }

    /** An object by its name and inode (0: registered by name alone). */
    record Key(String name, long inode) {}

    /**
     * Unlinks what {@code key} registered, if the name is still that object's, and says so.
     * The inode is read by opening the name as shm_unlink takes it (its UTF-8 bytes): through
     * a Java path a name the JVM's locale cannot encode (é under LANG=C) looked gone, and was
     * never unlinked (attack 49).
     */
    static void unlinkLeft(Key key, long creator, System.Logger log) {
        String name = key.name();
        if (key.inode() != 0) {
            try {
                int fd = SharedMemoryCalls.shmOpen(name, SharedMemoryCalls.O_RDONLY, 0);
                try {
                    if (SharedMemoryCalls.status(fd).inode() != key.inode()) {
                        return; // another object has the name now: not ours to unlink
                    }
                } finally {
                    multiprocessing.internal.posix.Posix.closeQuietly(fd);
                }
            } catch (ErrnoException | RuntimeException gone) {
                return; // already unlinked (or not openable, so not one of ours)
            }
        }
        try {
            SharedMemoryCalls.shmUnlink(name);
            log.log(Level.WARNING, "resource tracker: unlinked leaked shared memory '" + name
                    + "' (created by pid " + creator
                    + ", never unlinked before every process of the program had exited)");
        } catch (ErrnoException x) {
            if (x.errno() != SharedMemoryCalls.ENOENT) {
                log.log(Level.WARNING, "resource tracker: cannot unlink leaked shared memory '"
                        + name + "': " + x.getMessage());
            }
        }
    }

    static final class Registration {
        final long creator;
        /** REGISTERs less UNREGISTERs. */
        int count;

        Registration(long creator) {
            this.creator = creator;
        }
    }

    /**
     * "VERB pid inode name"; a malformed line is ignored (nothing in the tree writes one).
     */
    static void handle(String line, Map<Key, Registration> registered) {
        int first = line.indexOf(' ');
        int second = first < 0 ? -1 : line.indexOf(' ', first + 1);
        int third = second < 0 ? -1 : line.indexOf(' ', second + 1);
        if (third < 0) {
            return;
        }
        String verb = line.substring(0, first);
        long pid;
        long inode;
        try {
            pid = Long.parseLong(line.substring(first + 1, second));
            inode = Long.parseLong(line.substring(second + 1, third));
        } catch (NumberFormatException e) {
            return;
        }
        String name = line.substring(third + 1);
        Key key = new Key(name, inode);
        if (verb.equals("REGISTER")) {
            registered.computeIfAbsent(key, k -> new Registration(pid)).count++;
        } else if (verb.equals("UNREGISTER")) {
            Key found = registered.containsKey(key) ? key : null;
            if (found == null) {
                for (Key k : registered.keySet()) {
                    // Registered before it existed (inode 0), or unregistered by name alone.
                    if (k.name().equals(name) && (k.inode() == 0 || inode == 0)) {
                        found = k;
                        break;
                    }
                }
            }
            if (found != null && --registered.get(found).count <= 0) {
                registered.remove(found);
            }
        }
    }
}
