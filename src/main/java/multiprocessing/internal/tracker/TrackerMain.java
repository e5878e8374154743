package multiprocessing.internal.tracker;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
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
 * <p>It needs neither Fory nor any downcall until there is something to unlink, and runs with
 * a small heap, C1 only and the serial collector: it costs little to start and to keep.
 *
 * <p>Names are counted, not just remembered: if one process unlinks a name and another
 * creates the same name again, their UNREGISTER and REGISTER may arrive in either order, and
 * the name must stay registered once.
 */
public final class TrackerMain {
    private TrackerMain() {}

    static final int PIPE_FD = 3;

    /** The tracker's command line, without the first message (the launcher adds it). */
    static List<String> commandLine() {
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.addAll(List.of("-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Xmx32m", "-Xss512k", "-XX:-UsePerfData",
                "-Djava.util.logging.SimpleFormatter.format=%4$s: %5$s%6$s%n"));
        boolean named = TrackerMain.class.getModule().isNamed();
        argv.add("--enable-native-access=" + (named ? "multiprocessing" : "ALL-UNNAMED"));
        String modulePath = System.getProperty("jdk.module.path");
        String classPath = multiprocessing.internal.spawn.ClassReach.libraryClassPath();
        if (modulePath != null && !modulePath.isEmpty()) {
            argv.add("--module-path");
            argv.add(modulePath);
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

    public static void main(String[] args) throws IOException {
        Map<String, Registration> registered = new LinkedHashMap<>();
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
        System.Logger log = System.getLogger("multiprocessing");
        for (Map.Entry<String, Registration> e : registered.entrySet()) {
            try {
                SharedMemoryCalls.shmUnlink(e.getKey());
                log.log(Level.WARNING, "resource tracker: unlinked leaked shared memory '"
                        + e.getKey() + "' (created by pid " + e.getValue().creator
                        + ", never unlinked before every process of the program had exited)");
            } catch (ErrnoException x) {
                if (x.errno() != SharedMemoryCalls.ENOENT) {
                    log.log(Level.WARNING, "resource tracker: cannot unlink leaked shared memory '"
                            + e.getKey() + "': " + x.getMessage());
                }
            }
        }
        System.exit(0);
    }

    private static final class Registration {
        final long creator;
        int count;

        Registration(long creator) {
            this.creator = creator;
        }
    }

    /** "VERB pid name"; a malformed line is ignored (nothing in the tree writes one). */
    private static void handle(String line, Map<String, Registration> registered) {
        int first = line.indexOf(' ');
        int second = first < 0 ? -1 : line.indexOf(' ', first + 1);
        if (second < 0) {
            return;
        }
        String verb = line.substring(0, first);
        long pid;
        try {
            pid = Long.parseLong(line.substring(first + 1, second));
        } catch (NumberFormatException e) {
            return;
        }
        String name = line.substring(second + 1);
        if (verb.equals("REGISTER")) {
            registered.computeIfAbsent(name, n -> new Registration(pid)).count++;
        } else if (verb.equals("UNREGISTER")) {
            Registration r = registered.get(name);
            if (r != null && --r.count <= 0) {
                registered.remove(name);
            }
        }
    }
}
