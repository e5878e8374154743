package multiprocessing.synchronize;

import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.sync.SyncMemory;

/**
 * A {@link Semaphore} whose value may never exceed its initial value (Python's
 * {@code multiprocessing.BoundedSemaphore}): one release too many throws
 * {@link IllegalStateException} (Python's ValueError) and leaves the value unchanged.
 */
public class BoundedSemaphore extends Semaphore {
    static {
        Serialization.register(BoundedSemaphore.class, new Reducer<BoundedSemaphore>() {
            @Override
            public void reduce(BoundedSemaphore value, Out out) {
                value.sync.memory().writeTo(out);
            }

            @Override
            public BoundedSemaphore rebuild(In in) {
                return new BoundedSemaphore(SyncMemory.readFrom(in));
            }
        });
    }

    /** A bounded semaphore of value and maximum 1. */
    public BoundedSemaphore() {
        this(1);
    }

    /**
     * A bounded semaphore of value and maximum {@code value}.
     *
     * @param value the initial value, which releases may not exceed
     */
    public BoundedSemaphore(int value) {
        super(value, true);
    }

    private BoundedSemaphore(SyncMemory memory) {
        super(memory);
    }

    @Override
    public String toString() {
        return "<BoundedSemaphore(value=" + getValue() + ", maxvalue=" + sync.bound() + ")>";
    }
}
