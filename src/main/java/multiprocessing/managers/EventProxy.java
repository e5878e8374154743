package multiprocessing.managers;

import java.time.Duration;

/** A shared event ({@link SyncManager#event()}). */
public interface EventProxy extends BaseProxy {
    /** Sets the flag and wakes every waiter. */
    void set();

    /** Clears the flag. */
    void clear();

    /** {@return whether the flag is set} */
    boolean isSet();

    /**
     * Waits until the flag is set.
     *
     * @return true
     */
    boolean await();

    /**
     * Waits up to {@code timeout} for the flag to be set.
     *
     * @param timeout how long to wait at most
     * @return false on timeout
     */
    boolean await(Duration timeout);
}
