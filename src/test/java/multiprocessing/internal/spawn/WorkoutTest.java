package multiprocessing.internal.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;

/**
 * The AOT trainer's tour goes through every part in one JVM: a part that failed would leave its
 * classes out of the cache, silently (the trainer logs it at DEBUG). AotCacheTest's end-to-end
 * tests run it in a real trainer.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
class WorkoutTest {
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // its reads ignore interrupts
    void everyPartOfTheTourGoesThrough() {
        assertEquals(List.of(), Workout.tour());
        assertEquals(List.of(), Workout.tour(), "and again: it leaves nothing that stops a second");
    }

    @Test
    void theLeanTrainersProcessTakesNoNumberOfTheProgramsProcesses() {
        multiprocessing.Process before = new multiprocessing.Process(() -> { });
        multiprocessing.Process trainer = (multiprocessing.Process) Workout.leanProcess(false);
        multiprocessing.Process after = new multiprocessing.Process(() -> { });
        int n = Integer.parseInt(before.name().substring(before.name().lastIndexOf('-') + 1));
        assertEquals("Process-" + (n + 1), after.name(), "as if no trainer had been made");
        assertEquals("multiprocessing-aot-trainer", trainer.name());
        for (multiprocessing.Process p : List.of(before, trainer, after)) {
            p.close();
        }
    }

    @Test
    void theCacheSettingsReachEveryChildOfTheTree() {
        String before = System.getProperty(AotCache.LEAN_PROPERTY);
        System.setProperty(AotCache.LEAN_PROPERTY, "false");
        try {
            List<String> options = Spawner.libraryOptions(List.of());
            assertTrue(options.contains("-D" + AotCache.LEAN_PROPERTY + "=false"), options.toString());
        } finally {
            if (before == null) {
                System.clearProperty(AotCache.LEAN_PROPERTY);
            } else {
                System.setProperty(AotCache.LEAN_PROPERTY, before);
            }
        }
    }

    /**
     * The channels tour (the lean one with it) runs in a JVM that has not built Fory and
     * leaves it so: what it loads is a cache without Fory, and its trainer would otherwise
     * mark the key as one whose lean children build Fory (sending them to the full cache).
     */
    @Test
    @Timeout(120)
    void theLeanTourNeverBuildsFory() throws Exception {
        try (multiprocessing.connection.Pipe report = multiprocessing.connection.Pipe.open(false)) {
            multiprocessing.connection.Connection up = report.right();
            multiprocessing.Process child = new multiprocessing.Process(() -> {
                boolean before = multiprocessing.internal.reduction.Serialization.built();
                List<String> failed = Workout.channelsTour();
                up.send(before + " " + failed + " "
                        + multiprocessing.internal.reduction.Serialization.built());
            });
            child.start();
            Object got;
            try {
                got = report.left().recv();
            } finally {
                child.join();
            }
            assertEquals("false [] false", got);
            assertEquals(0, child.exitCode());
            child.close();
        }
    }

    /**
     * Every class of the library that a manager's server process, a pool's worker or a child
     * holding a queue and a lock loads, the channels tour loads too, so that its cache holds them: one read from the jar instead has the server
     * open the jar and read its index (a server's target, once no lambda, did: ~7 ms more).
     */
    @Test
    @Timeout(120)
    void theChannelsTourLoadsWhatItsChildrenLoad(@TempDir Path tmp) throws Exception {
        // Told where to mark a miss, as the channels cache's trainer is (AotCache.Training).
        Path tourLog = tmp.resolve("tour.log");
        multiprocessing.Context tourCtx = multiprocessing.Multiprocessing.getContext("spawn")
                .withJvmOptions("-Xlog:class+load=info:file=" + tourLog,
                        "-D" + AotCache.LEAN_MISS_PROPERTY + "=" + tmp.resolve("tour.miss"));
        multiprocessing.Process tour = tourCtx.process(() -> {
            if (!Workout.channelsTour().isEmpty()) {
                throw new IllegalStateException("the tour failed");
            }
        });
        tour.start();
        tour.join();
        assertEquals(0, tour.exitCode());
        tour.close();
        // Started as when it maps the channels cache: told where to mark a miss, it builds no
        // Fory ahead (the test's class path may have no cache).
        Path serverLog = tmp.resolve("server.log");
        multiprocessing.Context serverCtx = multiprocessing.Multiprocessing.getContext("spawn")
                .withJvmOptions("-Xlog:class+load=info:file=" + serverLog,
                        "-D" + AotCache.LEAN_MISS_PROPERTY + "=" + tmp.resolve("key.miss"));
        try (multiprocessing.managers.SyncManager manager =
                new multiprocessing.managers.SyncManager(null, null, serverCtx)) {
            manager.start();
            manager.dict().put("k", 1);
        }
        // And a pool's worker of plain tasks.
        Path workerLog = tmp.resolve("worker.log");
        multiprocessing.Context workerCtx = multiprocessing.Multiprocessing.getContext("spawn")
                .withJvmOptions("-Xlog:class+load=info:file=" + workerLog,
                        "-D" + AotCache.LEAN_MISS_PROPERTY + "=" + tmp.resolve("key.miss"));
        try (multiprocessing.pool.Pool pool = multiprocessing.pool.Pool.builder().processes(1)
                .context(workerCtx).build()) {
            assertEquals(List.of(2, 3), pool.map(x -> x + 1, List.of(1, 2)));
        }
        // And a child holding a queue and a lock, putting a string.
        Path childLog = tmp.resolve("child.log");
        multiprocessing.Context childCtx = multiprocessing.Multiprocessing.getContext("spawn")
                .withJvmOptions("-Xlog:class+load=info:file=" + childLog,
                        "-D" + AotCache.LEAN_MISS_PROPERTY + "=" + tmp.resolve("key.miss"));
        try (multiprocessing.Queue<Object> queue = childCtx.queue()) {
            multiprocessing.synchronize.Lock lock = childCtx.lock();
            multiprocessing.Process child = childCtx.process(() -> {
                lock.acquire();
                lock.release();
                queue.put("put");
            });
            child.start();
            assertEquals("put", queue.get(java.time.Duration.ofSeconds(60)));
            child.join();
            assertEquals(0, child.exitCode());
            child.close();
        }
        Set<String> toured = libraryClasses(tourLog);
        List<String> missing = libraryClasses(serverLog).stream()
                .filter(c -> !toured.contains(c)).sorted().toList();
        assertEquals(List.of(), missing, "classes a server loads and the tour does not");
        // The server writes the proxies of the objects it makes, and makes none (generating a
        // DictProxy's class took ~17 ms of its first dict()).
        assertFalse(Files.readString(serverLog).contains("$Proxy"),
                "the server generated a proxy class");
        missing = libraryClasses(workerLog).stream()
                .filter(c -> !toured.contains(c)).sorted().toList();
        assertEquals(List.of(), missing, "classes a worker loads and the tour does not");
        missing = libraryClasses(childLog).stream()
                .filter(c -> !toured.contains(c)).sorted().toList();
        assertEquals(List.of(), missing, "classes a queue's child loads and the tour does not");
        assertTrue(Files.notExists(tmp.resolve("key.miss")), "the server built Fory");
        assertTrue(Files.notExists(tmp.resolve("tour.miss")), "the tour built Fory");
    }

    /** The library's classes a class-load log names (not the lambdas' hidden classes). */
    private static Set<String> libraryClasses(Path log) throws java.io.IOException {
        try (var lines = Files.lines(log)) {
            return lines.map(l -> l.split(" "))
                    .filter(f -> f.length > 1 && f[1].startsWith("multiprocessing.")
                            && !f[1].contains("$$Lambda") && !f[1].contains("Test"))
                    .map(f -> f[1]).collect(java.util.stream.Collectors.toSet());
        }
    }

    @Test
    @Timeout(60)
    void theLeanTourGoesThrough() {
        assertEquals(List.of(), Workout.leanTour());
        assertEquals(List.of(), Workout.leanTour(), "and again");
        assertEquals(List.of(), Workout.channelsTour());
    }
}
