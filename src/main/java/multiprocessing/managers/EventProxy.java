package multiprocessing.managers;

import java.time.Duration;

/** A shared event ({@link SyncManager#event()}). */
public interface EventProxy extends BaseProxy {
    void set();

    void clear();

    boolean isSet();

    boolean await();

    /** False on timeout. */
    boolean await(Duration timeout);
}
