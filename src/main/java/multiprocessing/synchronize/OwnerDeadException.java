package multiprocessing.synchronize;

import multiprocessing.ProcessError;

/**
 * The process that held a {@link Lock} or {@link RLock} died without releasing it (a robust
 * pthread mutex's {@code EOWNERDEAD}; CPython's locks would hang instead).
 *
 * <p>Thrown by a blocking acquire ({@code acquire()}, {@code acquire(Duration)}, {@code lock()},
 * {@code tryLock(time, unit)}, a Condition's re-acquire) whose wait found the owner gone. When
 * it is thrown <em>the calling thread holds the lock</em>, once, exactly as if the acquire had
 * returned {@code true}: whatever the lock protects may have been left half-updated by the dead
 * process, and the caller is the one who can repair it before anyone else sees it. Then it
 * releases the lock as usual; no other step is needed to make the lock usable again. A caller
 * that cannot repair the state should still release the lock (or hand it on), or every other
 * process waits for it:
 *
 * <pre>{@code
 * try {
 *     lock.acquire();
 * } catch (OwnerDeadException e) {
 *     repair(sharedState);          // we hold the lock here too
 * }
 * try {
 *     update(sharedState);
 * } finally {
 *     lock.release();
 * }
 * }</pre>
 *
 * Only one waiter gets the exception for one death; the others go on waiting for the new owner.
 * Non-blocking attempts ({@code acquire(false)}, {@code tryLock()}), and timed ones that time
 * out before a waiter's own look at the owner (it looks every 100 ms), look for a dead owner
 * too, at most every 100 ms, and throw this when they find one (then holding the lock, as
 * above): a caller that only polls, or retries short waits, would otherwise be refused for
 * good. A synchronized wrapper of {@code sharedctypes} ({@code Value}, {@code Array}) whose
 * access meets a dead holder throws it after releasing the lock again, since its caller never
 * asked for the lock.
 */
public class OwnerDeadException extends ProcessError {
    private static final long serialVersionUID = 1L;
    /** The pid of the dead owner. */
    private final long pid;

    /**
     * A lock whose owner died, now held by the calling thread (a semaphore has no owner:
     * it never throws this).
     *
     * @param pid  the pid of the dead owner
     * @param what what it held ("Lock", "RLock", a manager's "lock"), for the message
     */
    public OwnerDeadException(long pid, String what) {
        super("the process that held the " + what + ", pid " + pid
                + ", died without releasing it; the " + what
                + " is now held by this thread: repair what it protects, then release it");
        this.pid = pid;
    }

    /** {@return the pid of the dead owner} */
    public long pid() {
        return pid;
    }
}
