package multiprocessing.internal.managers;

/** A lock a {@link ServerCondition} can release while it waits and take back after. */
interface Ownable {
    /** Whether the current caller may wait on a condition of this lock. */
    boolean isOwned();

    /** Releases the lock completely; returns what {@link #acquireRestore} needs. */
    int releaseSave();

    /** Takes the lock back; an interrupt ends the wait for it (the caller gave up). */
    void acquireRestore(int saved) throws InterruptedException;
}
