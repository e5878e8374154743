package multiprocessing.internal.sync;

import static multiprocessing.internal.sync.SyncLayout.STATE;

/**
 * An event flag: the state's bit 0 is the flag, the bits above count the times it was set. A
 * waiter remembers the state it started from and returns once the flag is up or the count has
 * moved, so a {@code set()} followed at once by {@code clear()} still releases everyone who was
 * waiting (threading.Event's behaviour), though the flag is down again by the time they look.
 */
public final class EventSync extends Synchronizer {
    public EventSync(SyncMemory memory) {
        super(memory);
    }

    @Override
    protected boolean tryAcquire(int startState) {
        return available((int) STATE.getVolatile(block), startState);
    }

    @Override
    protected boolean available(int s, int startState) {
        return (s & 1) != 0 || (s >>> 1) != (startState >>> 1);
    }

    public boolean isSet() {
        return ((int) STATE.getVolatile(block) & 1) != 0;
    }

    public void set() {
        while (true) {
            int s = (int) STATE.getVolatile(block);
            if ((s & 1) != 0) {
                return;
            }
            if (STATE.compareAndSet(block, s, (((s >>> 1) + 1) << 1) | 1)) {
                break;
            }
        }
        wakeWaiters(Integer.MAX_VALUE);
    }

    public void clear() {
        while (true) {
            int s = (int) STATE.getVolatile(block);
            if ((s & 1) == 0 || STATE.compareAndSet(block, s, s & ~1)) {
                return;
            }
        }
    }

    /** Waits for the flag; true if it was set (now or during the wait). */
    public boolean await(long timeoutNanos) {
        int start = state();
        if ((start & 1) != 0) {
            return true;
        }
        return acquire(start, timeoutNanos) || isSet();
    }
}
