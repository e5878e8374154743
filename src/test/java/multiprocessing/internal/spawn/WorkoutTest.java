package multiprocessing.internal.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

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

    @Test
    @Timeout(60)
    void theLeanTourGoesThrough() {
        assertEquals(List.of(), Workout.leanTour());
        assertEquals(List.of(), Workout.leanTour(), "and again");
        assertEquals(List.of(), Workout.channelsTour());
    }
}
