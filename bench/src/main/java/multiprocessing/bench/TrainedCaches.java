package multiprocessing.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import multiprocessing.Multiprocessing;
import multiprocessing.Process;
import multiprocessing.SerializableRunnable;

/**
 * Before a steady-state measurement: a child of each kind of AOT cache (the benchmark's no-op,
 * which maps the lean one, and one whose lambda captures an ArrayList, written by Fory, which
 * maps the full one), then a wait (at most 120 s) until both caches are in the cache directory and no
 * trainer holds a lock there. A trainer started in a measured window would count its CPU, and
 * its children's start without their cache, against the figures. The no-op is a lambda of
 * the benchmark's class, as a program's first child runs one of the program's: that class is
 * then in the caches (the library notes it for the trainers), as a program's is, and a
 * measured child of it has no reason to have its cache trained again.
 */
final class TrainedCaches {
    private TrainedCaches() {
    }

    static void await(SerializableRunnable programsNoop) throws Exception {
        List<Integer> forFory = new ArrayList<>(List.of(1));
        for (int i = 0; i < 2; i++) {
            for (Process p : List.of(new Process(programsNoop),
                    new Process(() -> forFory.size()))) {
                p.start();
                p.join();
                p.close();
            }
        }
        Path dir = directory();
        if (dir == null) {
            System.out.println("# AOT cache: not waited for (JDK < 25)");
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            boolean full = false;
            boolean lean = false;
            boolean lock = false;
            if (Files.isDirectory(dir)) {
                try (var s = Files.list(dir)) {
                    for (Path f : (Iterable<Path>) s::iterator) {
                        String name = f.getFileName().toString();
                        lean |= name.endsWith("-lean.aot");
                        full |= name.endsWith(".aot") && !name.endsWith("-lean.aot");
                        lock |= name.endsWith(".lock");
                    }
                }
            }
            if (full && lean && !lock) {
                System.out.println("# AOT cache: trained");
                Thread.sleep(1000); // the trainers reaped
                return;
            }
            Thread.sleep(500);
        }
        System.out.println("# AOT cache: not written within 120 s");
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
