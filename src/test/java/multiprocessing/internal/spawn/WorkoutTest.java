package multiprocessing.internal.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
    @Timeout(60)
    void theLeanTourGoesThrough() {
        assertEquals(List.of(), Workout.leanTour());
        assertEquals(List.of(), Workout.leanTour(), "and again");
    }
}
