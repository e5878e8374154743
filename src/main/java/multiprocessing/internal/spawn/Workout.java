package multiprocessing.internal.spawn;

import java.io.IOException;

import multiprocessing.Queue;
import multiprocessing.connection.Pipe;
import multiprocessing.sharedctypes.Value;
import multiprocessing.synchronize.Lock;

/**
 * What the AOT cache trainer does after the start-up path: drives the library's hot paths in
 * one process, so that their method profiles (JEP 515) are in the cache and a fresh child's JIT
 * compiles them early instead of after its first hundreds of thousands of calls.
 *
 * <p>Implementation note. Off unless the children's options carry
 * {@code -Dmultiprocessing.aotWorkout=true} (-D options are not in the cache key, so the
 * trainer gets it from the same options): measured on 2026-12-03 (bench/RESULTS.md ("Where a spawn's milliseconds go")), a
 * fresh producer child putting 200,000 Integers and 50,000 4 KiB items into a Queue read by its
 * parent ran no faster with the profile-carrying cache than with the plain one (0.16-1.16 M vs
 * 0.42-1.25 M small items/s over 20 children each, on a 2-vCPU machine at load 5-6), while the
 * cache grew by 3.6 MB (22.2 to 25.8) and the trainer ran 2-3 s longer. A quiet machine may
 * show a difference the noise hid there; until one does, it costs every user for nothing.
 *
 * <p>Everything is private to this process (a Queue put to and read by itself, both ends of a
 * Pipe), in batches smaller than a ring or a pipe holds, so nothing can block. The counts are
 * past the JIT's top-tier thresholds (Tier4CompileThreshold is 15,000 calls) so that the
 * recorded profiles are those of fully warmed code. No compiler flags are set: the JVM's own
 * thresholds were not tried against others (see the notes).
 */
final class Workout {
    private Workout() {}

    static final int SMALL = 30_000;
    static final int LARGE = 6_000;
    static final int MESSAGES = 4_000;
    static final int LOCKS = 30_000;
    static final int BATCH = 500;

    static void run() throws IOException {
        try (Queue<Object> q = new Queue<>()) {
            byte[] large = new byte[4096];
            for (int done = 0; done < SMALL; done += BATCH) {
                for (int i = 0; i < BATCH; i++) {
                    q.put(done + i);
                }
                for (int i = 0; i < BATCH; i++) {
                    q.get();
                }
            }
            for (int done = 0; done < LARGE; done += BATCH / 10) {
                for (int i = 0; i < BATCH / 10; i++) {
                    q.put(large);
                }
                for (int i = 0; i < BATCH / 10; i++) {
                    q.get();
                }
            }
        }
        try (Pipe pipe = Pipe.open()) {
            for (int done = 0; done < MESSAGES; done += 10) {
                for (int i = 0; i < 10; i++) {
                    pipe.right().send(done + i);
                }
                for (int i = 0; i < 10; i++) {
                    pipe.left().recv();
                }
            }
        }
        Lock lock = new Lock();
        Value value = Value.of("i", 0);
        for (int i = 0; i < LOCKS; i++) {
            lock.acquire();
            lock.release();
            value.acquire();
            value.getObj().value((Integer) value.getObj().value() + 1);
            value.release();
        }
    }
}
