package multiprocessing.internal.managers;

import multiprocessing.synchronize.OwnerDeadException;

/**
 * Which client holds a manager's lock, and whether the last one went holding it
 * ({@link Holdings}): one per {@link ServerLock} and {@link ServerRLock}, guarded by that
 * lock's monitor.
 */
final class LockHolder {
    private static final long NONE = Long.MIN_VALUE;

    private final Holdings.Held lock;
    /** The client whose caller holds the lock; null if none, or the server's own JVM. */
    private Holdings holder;
    /** The pid of a client that went holding it, told to the next acquirer; else NONE. */
    private long deadHolder = NONE;

    LockHolder(Holdings.Held lock) {
        this.lock = lock;
    }

    /**
     * The lock was just taken for the current call's caller, after a wait if {@code waited}:
     * notes its client. Returns false, noting nothing, if that client is gone, and the lock
     * must be given up again at once; throws {@link OwnerDeadException}, the lock held, if the
     * last holder went holding it. A caller that waited is looked at again: its process may
     * have died in the wait, before the server saw its connection end, and the lock given to
     * it would have reached the next acquirer as an OwnerDeadException for a critical section
     * nobody entered (review 51).
     */
    boolean taken(boolean waited) {
        Holdings h = Caller.holdings();
        if (h != null && (waited && Caller.abandoned() || !h.add(lock))) {
            return false;
        }
        holder = h;
        long dead = deadHolder;
        if (dead != NONE) {
            deadHolder = NONE;
            throw new OwnerDeadException(dead, "lock");
        }
        return true;
    }

    /** The lock was released. */
    void released() {
        if (holder != null) {
            holder.remove(lock);
            holder = null;
        }
    }

    /**
     * {@code h}'s client went: true if it held the lock, which the caller then gives up, its
     * next acquirer to be told.
     */
    boolean gone(Holdings h) {
        if (holder != h || h == null) {
            return false;
        }
        holder = null;
        deadHolder = h.pid();
        return true;
    }

    /**
     * A release of the lock while free: true if it was given up for a client that went and
     * not taken since, the release that client left to another (the note is cleared).
     */
    boolean releasedForTheDead() {
        if (deadHolder == NONE) {
            return false;
        }
        deadHolder = NONE;
        return true;
    }

    /** A lock was taken for a caller whose client is gone, and given up again at once. */
    static final class CallerGone extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        CallerGone() {
            super("the caller's process is gone");
        }
    }
}
