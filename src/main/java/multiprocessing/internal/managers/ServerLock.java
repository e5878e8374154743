package multiprocessing.internal.managers;

/**
 * A manager's {@code Lock} (Python's {@code threading.Lock} in the server): not owned, so any
 * caller may release it, as a client's acquire and release may reach the server over different
 * connections and threads. The client whose caller took it is still noted, so that the lock is
 * given up if that client goes while it holds it ({@link Holdings}).
 */
public final class ServerLock extends Permits implements Ownable, Holdings.Held {
    private final LockHolder holder = new LockHolder(this);

    public ServerLock() {
        super(1);
    }

    @Override
    synchronized boolean taken(boolean waited) {
        if (!holder.taken(waited)) {
            permits.release();
            throw new LockHolder.CallerGone();
        }
        return true;
    }

    @Override
    public synchronized void release() {
        if (permits.availablePermits() > 0) {
            if (holder.releasedForTheDead()) {
                return; // any process may release a Lock, one a dead holder left it to too
            }
            throw new IllegalStateException("release of an unlocked lock");
        }
        holder.released();
        permits.release();
    }

    @Override
    public synchronized void holderGone(Holdings h) {
        if (permits.availablePermits() == 0 && holder.gone(h)) {
            permits.release();
        }
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
        acquire();
    }

    @Override
    public String toString() {
        return "<Lock " + (locked() ? "locked" : "unlocked") + ">";
    }
}
