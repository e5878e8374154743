package multiprocessing.sharedctypes;

import java.util.concurrent.locks.Lock;
import java.util.function.Supplier;

import multiprocessing.synchronize.OwnerDeadException;

/**
 * Runs a synchronized wrapper's access to its raw object under the wrapper's lock.
 *
 * <p>A lock whose holder died is handed to the next taker with an {@link OwnerDeadException}
 * (the taker holds it). The taker here is the wrapper, not the caller, who never asked for the
 * lock and could not know to release it: so the wrapper releases it, makes no access (what the
 * lock protects may be half-updated), and throws {@link Released}, which says so. The next
 * access takes the lock as usual.
 */
final class Locked {
    private Locked() {}

    static <T> T call(Lock lock, Supplier<T> access) {
        take(lock);
        try {
            return access.get();
        } finally {
            lock.unlock();
        }
    }

    static void run(Lock lock, Runnable access) {
        take(lock);
        try {
            access.run();
        } finally {
            lock.unlock();
        }
    }

    /** Takes {@code lock}; if its holder had died, gives it back and throws {@link Released}. */
    static void take(Lock lock) {
        try {
            lock.lock();
        } catch (OwnerDeadException dead) {
            lock.unlock(); // held by this thread now (see OwnerDeadException)
            throw new Released(dead);
        }
    }

    /**
     * A synchronized wrapper's access met its lock's holder dead: it released the lock again
     * and made no access.
     */
    static final class Released extends OwnerDeadException {
        private static final long serialVersionUID = 1L;

        Released(OwnerDeadException dead) {
            super(dead.pid(), "lock");
            initCause(dead);
        }

        @Override
        public String getMessage() {
            return "the process that held this object's lock, pid " + pid() + ", died without "
                    + "releasing it: the lock is free again, but what it protects may have been "
                    + "left half-updated, so this access was not made";
        }
    }
}
