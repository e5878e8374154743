package multiprocessing.internal.util;

import java.lang.ref.Cleaner;

/**
 * The library's one {@link Cleaner}: what an object holds outside the Java heap (a descriptor,
 * a mapping, a reference counted in a server, a feeder thread) is given back when a program
 * drops the object without closing it. One thread for all of them, started on first use; every
 * action is short and never blocks (closing a descriptor, unmapping, a message queued), so none
 * holds up another.
 */
public final class Cleaning {
    private Cleaning() {}

    private static final class Holder {
        static final Cleaner CLEANER = Cleaner.create();
    }

    /**
     * Runs {@code action} once {@code object} is unreachable, unless the returned cleanable's
     * {@code clean()} ran it first. The action must not hold {@code object}.
     *
     * @param object the object whose unreachability starts the action
     * @param action what to give back
     * @return the registration, to run the action early
     */
    public static Cleaner.Cleanable register(Object object, Runnable action) {
        return Holder.CLEANER.register(object, action);
    }
}
