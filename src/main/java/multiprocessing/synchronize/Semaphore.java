package multiprocessing.synchronize;

import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.sync.SemaphoreSync;
import multiprocessing.internal.sync.SyncMemory;

/**
 * A counting semaphore shared by processes and threads (Python's
 * {@code multiprocessing.Semaphore}): {@code acquire} takes one unit, waiting while the value is
 * 0; {@code release} gives one back, from any thread or process. Acquires are not interruptible,
 * as in Python.
 *
 * <p>A unit has no owner (any thread may release it), so a unit whose taker is killed before
 * it gives it back is gone for good, as in Python: where the taker's death must give it back,
 * use a {@link Lock}, whose owner is known ({@link OwnerDeadException}).
 */
public class Semaphore extends Acquirable<SemaphoreSync> {
    static {
        Serialization.register(Semaphore.class, new Reducer<Semaphore>() {
            @Override
            public void reduce(Semaphore value, Out out) {
                value.sync.memory().writeTo(out);
            }

            @Override
            public Semaphore rebuild(In in) {
                return new Semaphore(SyncMemory.readFrom(in));
            }
        });
    }

    /** A semaphore of value 1. */
    public Semaphore() {
        this(1);
    }

    /**
     * A semaphore of value {@code value}.
     *
     * @param value the initial value
     * @throws IllegalArgumentException if {@code value} is negative
     */
    public Semaphore(int value) {
        this(value, false);
    }

    Semaphore(int value, boolean bounded) {
        super(newSync(value, bounded));
    }

    private static SemaphoreSync newSync(int value, boolean bounded) {
        if (value < 0) {
            throw new IllegalArgumentException("semaphore initial value must be >= 0: " + value);
        }
        SemaphoreSync sync = new SemaphoreSync(SyncMemory.allocate());
        sync.init(value, bounded);
        return sync;
    }

    Semaphore(SyncMemory memory) {
        super(new SemaphoreSync(memory));
    }

    /** Adds one to the value and wakes one waiter. */
    public void release() {
        sync.release();
    }

    /** {@return the value now (Python's {@code get_value()})} */
    public int getValue() {
        return sync.value();
    }

    @Override
    public String toString() {
        return "<Semaphore(value=" + getValue() + ")>";
    }
}
