package multiprocessing.internal.sync;

import static multiprocessing.internal.sync.SyncLayout.BOUND;
import static multiprocessing.internal.sync.SyncLayout.STATE;

/**
 * A counting semaphore whose state is its value. {@code bound} holds a BoundedSemaphore's maximum
 * plus one, so that the zero of a fresh block means unbounded (a maximum of Integer.MAX_VALUE,
 * as SEM_VALUE_MAX is CPython's) and a BoundedSemaphore(0) can still be told apart.
 */
public final class SemaphoreSync extends Synchronizer {
    public SemaphoreSync(SyncMemory memory) {
        super(memory);
    }

    /** Sets up a freshly allocated block. */
    public void init(int value, boolean bounded) {
        STATE.setVolatile(block, value);
        BOUND.setVolatile(block, bounded && value < Integer.MAX_VALUE ? value + 1 : 0);
    }

    @Override
    protected boolean tryAcquire(int arg) {
        while (true) {
            int c = (int) STATE.getVolatile(block);
            if (c <= 0) {
                return false;
            }
            if (STATE.compareAndSet(block, c, c - 1)) {
                return true;
            }
        }
    }

    @Override
    protected boolean available(int s, int arg) {
        return s > 0;
    }

    public void release() {
        int max = bound();
        while (true) {
            int c = (int) STATE.getVolatile(block);
            if (c >= max) {
                throw new IllegalStateException("semaphore or lock released too many times");
            }
            if (STATE.compareAndSet(block, c, c + 1)) {
                break;
            }
        }
        wakeWaiters(1);
    }

    public int value() {
        return (int) STATE.getVolatile(block);
    }

    /** The maximum value. */
    public int bound() {
        int b = (int) BOUND.getVolatile(block);
        return b == 0 ? Integer.MAX_VALUE : b - 1;
    }
}
