package multiprocessing.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import multiprocessing.Multiprocessing;
import multiprocessing.Process;
import multiprocessing.SerializableRunnable;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;

/**
 * Before a steady-state measurement: a child of each kind of AOT cache (the benchmark's no-op,
 * which maps the lean one; one whose lambda captures an object of a class of its own, which
 * only Fory writes, and so maps the full one; one that holds a connection, which maps the
 * channels one), again until each
 * says it mapped its own (its command line names it) and no trainer holds a lock in the cache
 * directory (at most 120 s). A trainer started in a measured window would count its CPU, and
 * its children's start without their cache, against the figures. (Looking for the cache files
 * did not do: the directory holds other jars' caches, and between one kind's trainer and the
 * next no lock is held.) The no-op is a lambda of the benchmark's class, as a program's first
 * child runs one of the program's: that class is then in the caches (the library notes it for
 * the trainers), as a program's is, and a measured child of it has no reason to have its cache
 * trained again.
 */
final class TrainedCaches {
    private TrainedCaches() {
    }

    /** An object only Fory writes (a class the process's own stream does not know). */
    static final class ForForyOnly implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        int x = 1; // not a constant: the lambda must capture the object
    }

    /** The exit code of a child that did not map the cache of its kind. */
    private static final int OTHER_CACHE = 3;

    static void await(SerializableRunnable programsNoop) throws Exception {
        run(new Process(programsNoop));
        Path dir = directory();
        if (dir == null) {
            System.out.println("# AOT cache: not waited for (JDK < 25)");
            return;
        }
        // Not a list or map of plain values: the process's own stream writes those since the
        // twenty-first session, and this child then mapped the lean cache, never the full one.
        ForForyOnly forFory = new ForForyOnly();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            boolean lean = run(new Process(() -> exitMapping("lean")));
            boolean full = run(new Process(() -> exitMapping(forFory.x == 1 ? "full" : "?")));
            boolean channels;
            try (Pipe pipe = Pipe.open()) {
                Connection end = pipe.right();
                channels = run(new Process(() -> exitMapping(end.closed() ? "?" : "channels")));
            }
            if (lean && full && channels && !locked(dir)) {
                System.out.println("# AOT cache: trained");
                Thread.sleep(1000); // the trainers reaped
                return;
            }
            Thread.sleep(500);
        }
        System.out.println("# AOT cache: not written within 120 s");
    }

    /** Starts and joins {@code p}: whether it exited 0. */
    private static boolean run(Process p) throws InterruptedException {
        p.start();
        p.join();
        boolean ok = Integer.valueOf(0).equals(p.exitCode());
        p.close();
        return ok;
    }

    /** In a child: exits 0 if it maps the AOT cache of {@code kind}, else 3. */
    private static void exitMapping(String kind) throws java.io.IOException {
        String cmdline = Files.readString(Path.of("/proc/self/cmdline"),
                java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = cmdline.indexOf("\0-XX:AOTCache=");
        String cache = at < 0 ? "" : cmdline.substring(at + 1, cmdline.indexOf('\0', at + 1));
        String mapped = cache.isEmpty() ? "none" : cache.endsWith("-lean.aot") ? "lean"
                : cache.endsWith("-channels.aot") ? "channels" : "full";
        System.exit(mapped.equals(kind) ? 0 : OTHER_CACHE);
    }

    private static boolean locked(Path dir) throws java.io.IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var s = Files.list(dir)) {
            return s.anyMatch(f -> f.getFileName().toString().endsWith(".lock"));
        }
    }

    /** The library's cache directory (its default, unless the property names one). */
    private static Path directory() {
        if (Runtime.version().feature() < 25) {
            return null;
        }
        String d = System.getProperty("multiprocessing.cacheDir");
        if (d != null && !d.isEmpty()) {
            return Path.of(d);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute()
                ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("multiprocessing-java");
    }
}
