package multiprocessing.managers;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * A shared condition ({@link SyncManager#condition()}); Python's {@code wait} is
 * {@code await}, {@code notify}/{@code notify_all} are {@code signal}/{@code signalAll}.
 */
public interface ConditionProxy extends AcquirerProxy {
    void await();

    /** False on timeout. */
    boolean await(Duration timeout);

    void signal();

    void signal(int n);

    void signalAll();

    /** Waits until {@code predicate} holds; the predicate runs here, with the lock held. */
    default boolean waitFor(BooleanSupplier predicate) {
        while (!predicate.getAsBoolean()) {
            await();
        }
        return true;
    }

    /** As {@link #waitFor(BooleanSupplier)}, up to {@code timeout}; the predicate's last value. */
    default boolean waitFor(BooleanSupplier predicate, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean result = predicate.getAsBoolean();
        while (!result) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            await(Duration.ofNanos(left));
            result = predicate.getAsBoolean();
        }
        return result;
    }
}
