package multiprocessing.internal.managers;

/** A lock a {@link ServerCondition} can release while it waits and take back after. */
interface Ownable {
    /** Whether the current caller may wait on a condition of this lock. */
    boolean isOwned();

    /** Releases the lock completely; returns what {@link #acquireRestore} needs. */
    int releaseSave();

    void acquireRestore(int saved) throws InterruptedException;
}
