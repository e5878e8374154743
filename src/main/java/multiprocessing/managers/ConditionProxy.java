package multiprocessing.managers;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * A shared condition ({@link SyncManager#condition()}); Python's {@code wait} is
 * {@code await}, {@code notify}/{@code notify_all} are {@code signal}/{@code signalAll}.
 *
 * <p>A waiter that gives up (its thread interrupted) or dies (SIGKILL included) while it waits
 * for a signal, or for the lock back after one, does not get the lock back: it stays free for
 * the others (Python's server leaves such a wait waiting, and takes the lock back for a dead
 * waiter that is signalled); a signal it was granted and can no longer take goes to the next
 * waiter. An interrupted waiter learns which way its wait ended: {@code await} throws
 * {@link multiprocessing.ProcessError} if the lock was not taken back, and returns, holding it
 * and with its thread's interrupt status set, if the server had taken it back before the
 * interrupt reached it (as {@code java.util.concurrent}'s conditions do when interrupted after
 * a signal). A waiter that dies just after the lock was taken back for it (before the server
 * saw its connection end) holds the lock as a dead process holds any lock of a manager: the
 * next acquirer gets it, with {@link multiprocessing.synchronize.OwnerDeadException}, and the
 * signal it was given is spent, as a thread's that returned from its wait and then died. So {@code await} (and {@code waitFor},
 * which passes it on without looking at its predicate again) may throw that too, when the
 * process holding the lock as the waiter took it back died: the waiter then holds the lock,
 * and repairs what it protects (see {@link AcquirerProxy}).
 *
 * <p>After a {@code ProcessError} from {@code await} other than {@code OwnerDeadException},
 * then, the waiter does not hold the lock: a reply that comes after the waiter gave up (from a
 * server stalled for seconds) gives the lock back too (see {@link BaseProxy}'s interrupts),
 * with one exception: an {@code RLock} the waiter held more than once when it began to wait is
 * given back one level only, and stays held by the waiter's thread at the levels below.
 * Timeouts stop a wait without an interrupt's cost.
 */
public interface ConditionProxy extends AcquirerProxy {
    /** Releases the lock, waits for a signal, and takes the lock back (Python's {@code wait()}). */
    void await();

    /**
     * Releases the lock, waits up to {@code timeout} for a signal, and takes the lock back.
     *
     * @param timeout how long to wait at most
     * @return false on timeout
     */
    boolean await(Duration timeout);

    /** Wakes one waiter (Python's {@code notify()}). */
    void signal();

    /**
     * Wakes up to {@code n} waiters (Python's {@code notify(n)}).
     *
     * @param n the most waiters woken
     */
    void signal(int n);

    /** Wakes every waiter (Python's {@code notify_all()}). */
    void signalAll();

    /**
     * Waits until {@code predicate} holds; the predicate runs here, with the lock held.
     *
     * @param predicate the state waited for
     * @return true, once it holds
     */
    default boolean waitFor(BooleanSupplier predicate) {
        while (!predicate.getAsBoolean()) {
            await();
        }
        return true;
    }

    /**
     * As {@link #waitFor(BooleanSupplier)}, up to {@code timeout}; the predicate's last value.
     *
     * @param predicate the state waited for
     * @param timeout   how long to wait at most
     * @return the predicate's last value
     */
    default boolean waitFor(BooleanSupplier predicate, Duration timeout) {
        long deadline = multiprocessing.internal.util.Durations.deadline(timeout);
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
