package multiprocessing.synchronize;

import java.time.Duration;

import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.sync.EventSync;
import multiprocessing.internal.sync.SyncMemory;

/**
 * An event flag shared by processes and threads (Python's {@code multiprocessing.Event}, a clone
 * of threading.Event): {@link #set()} raises it and wakes every waiter, {@link #clear()} lowers
 * it, {@link #await()} waits until it is raised. A waiter that was waiting when the flag was
 * set returns true even if it was cleared again before the waiter ran (threading.Event's
 * behaviour). Waits are not interruptible, as in Python.
 */
public class Event {
    static {
        Serialization.register(Event.class, new Reducer<Event>() {
            @Override
            public void reduce(Event value, Out out) {
                value.sync.memory().writeTo(out);
            }

            @Override
            public Event rebuild(In in) {
                return new Event(SyncMemory.readFrom(in));
            }
        });
    }

    final EventSync sync;

    /** A new event, not set. */
    public Event() {
        this(SyncMemory.allocate());
    }

    private Event(SyncMemory memory) {
        this.sync = new EventSync(memory);
    }

    /** {@return whether the flag is set (Python's {@code is_set()})} */
    public boolean isSet() {
        return sync.isSet();
    }

    /** Sets the flag and wakes every waiter. */
    public void set() {
        sync.set();
    }

    /** Clears the flag; later waiters wait until it is set again. */
    public void clear() {
        sync.clear();
    }

    /**
     * Waits until the flag is set; always true.
     *
     * @return true
     */
    public boolean await() {
        return sync.await(Timeouts.FOREVER);
    }

    /**
     * Waits at most {@code timeout}; false if the flag was not set by then.
     *
     * @param timeout how long to wait at most
     * @return whether the flag was set
     */
    public boolean await(Duration timeout) {
        return sync.await(Timeouts.nanos(timeout));
    }

    @Override
    public String toString() {
        return "<Event " + (isSet() ? "set" : "unset") + ">";
    }
}
