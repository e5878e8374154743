package multiprocessing.sharedctypes;

import java.util.concurrent.locks.Lock;
import java.util.function.Supplier;

/** Runs a synchronized wrapper's access to its raw object under the wrapper's lock. */
final class Locked {
    private Locked() {}

    static <T> T call(Lock lock, Supplier<T> access) {
        lock.lock();
        try {
            return access.get();
        } finally {
            lock.unlock();
        }
    }

    static void run(Lock lock, Runnable access) {
        lock.lock();
        try {
            access.run();
        } finally {
            lock.unlock();
        }
    }
}
