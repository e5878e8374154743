package multiprocessing.internal.managers;

/**
 * A manager's {@code Lock} (Python's {@code threading.Lock} in the server): not owned, so any
 * caller may release it, as a client's acquire and release may reach the server over different
 * connections and threads.
 */
public final class ServerLock extends Permits implements Ownable {
    public ServerLock() {
        super(1);
    }

    @Override
    public synchronized void release() {
        if (permits.availablePermits() > 0) {
            throw new IllegalStateException("release of an unlocked lock");
        }
        permits.release();
    }

    public boolean locked() {
        return permits.availablePermits() == 0;
    }

    @Override
    public boolean isOwned() {
        return locked();
    }

    @Override
    public int releaseSave() {
        release();
        return 1;
    }

    /** Interruptibly: a waiter whose caller gives up meanwhile must not take it (attack 36). */
    @Override
    public void acquireRestore(int saved) throws InterruptedException {
        permits.acquire();
    }

    @Override
    public String toString() {
        return "<Lock " + (locked() ? "locked" : "unlocked") + ">";
    }
}
