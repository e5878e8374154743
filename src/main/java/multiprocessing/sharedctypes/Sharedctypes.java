package multiprocessing.sharedctypes;

import java.util.Objects;
import java.util.concurrent.locks.Lock;

import multiprocessing.synchronize.RLock;

/**
 * The functions of Python's {@code multiprocessing.sharedctypes} that are not constructors:
 * {@link #copy} and {@link #synchronized_} (also spelled {@link #synchronize}). The constructors
 * are {@link RawValue#of}, {@link RawArray#of}, {@link Value#of}, {@link Array#of} and the
 * {@link multiprocessing.Context} factories.
 */
public final class Sharedctypes {
    private Sharedctypes() {}

    /**
     * A new raw value in shared memory holding a copy of {@code obj}'s bytes (Python's
     * {@code copy(obj)}); a {@link Value}'s bytes are copied under its lock.
     *
     * @param obj the value copied
     * @return the copy, without a lock
     */
    public static RawValue copy(RawValue obj) {
        RawValue fresh = new RawValue(RawValue.allocate(obj.layout), obj.type, obj.layout);
        if (obj instanceof Value v) {
            Locked.take(v.getLock());
            try {
                fresh.segment.copyFrom(obj.segment);
            } finally {
                v.getLock().unlock();
            }
        } else {
            fresh.segment.copyFrom(obj.segment);
        }
        return fresh;
    }

    /**
     * A new raw array in shared memory holding a copy of {@code obj}'s elements.
     *
     * @param obj the array copied
     * @return the copy, without a lock
     */
    public static RawArray copy(RawArray obj) {
        RawArray fresh = new RawArray(RawArray.allocate(obj.type.layout, obj.length), obj.type,
                obj.length);
        if (obj instanceof Array a) {
            Locked.take(a.getLock());
            try {
                fresh.segment.copyFrom(obj.segment);
            } finally {
                a.getLock().unlock();
            }
        } else {
            fresh.segment.copyFrom(obj.segment);
        }
        return fresh;
    }

    /**
     * {@code obj}'s memory wrapped with a new RLock (Python's {@code synchronized(obj)}).
     *
     * @param obj the value whose memory is shared, not copied
     * @return the value that takes the lock on every access
     */
    public static Value synchronized_(RawValue obj) {
        return synchronized_(obj, new RLock());
    }

    /**
     * {@code obj}'s memory wrapped with {@code lock}: a {@link multiprocessing.synchronize.Lock}
     * or {@link RLock} to share it between processes (a JDK lock serves threads of one process
     * only, and the value cannot then be sent).
     *
     * @param obj  the value whose memory is shared, not copied
     * @param lock the lock taken on every access
     * @return the value that takes the lock on every access
     */
    public static Value synchronized_(RawValue obj, Lock lock) {
        Objects.requireNonNull(obj, "obj");
        return new Value(raw(obj), lock);
    }

    /**
     * {@code obj}'s memory wrapped with a new RLock.
     *
     * @param obj the array whose memory is shared, not copied
     * @return the array that takes the lock on every access
     */
    public static Array synchronized_(RawArray obj) {
        return synchronized_(obj, new RLock());
    }

    /**
     * {@code obj}'s memory wrapped with {@code lock}.
     *
     * @param obj  the array whose memory is shared, not copied
     * @param lock the lock taken on every access
     * @return the array that takes the lock on every access
     */
    public static Array synchronized_(RawArray obj, Lock lock) {
        Objects.requireNonNull(obj, "obj");
        return new Array(raw(obj), lock);
    }

    /**
     * Same as {@link #synchronized_(RawValue)}.
     *
     * @param obj the value whose memory is shared, not copied
     * @return the value that takes the lock on every access
     */
    public static Value synchronize(RawValue obj) {
        return synchronized_(obj);
    }

    /**
     * Same as {@link #synchronized_(RawValue, Lock)}.
     *
     * @param obj  the value whose memory is shared, not copied
     * @param lock the lock taken on every access
     * @return the value that takes the lock on every access
     */
    public static Value synchronize(RawValue obj, Lock lock) {
        return synchronized_(obj, lock);
    }

    /**
     * Same as {@link #synchronized_(RawArray)}.
     *
     * @param obj the array whose memory is shared, not copied
     * @return the array that takes the lock on every access
     */
    public static Array synchronize(RawArray obj) {
        return synchronized_(obj);
    }

    /**
     * Same as {@link #synchronized_(RawArray, Lock)}.
     *
     * @param obj  the array whose memory is shared, not copied
     * @param lock the lock taken on every access
     * @return the array that takes the lock on every access
     */
    public static Array synchronize(RawArray obj, Lock lock) {
        return synchronized_(obj, lock);
    }

    private static RawValue raw(RawValue obj) {
        // Wrapping a wrapper would take both locks on every access; Python wraps the object.
        return obj instanceof Value v ? v.getObj() : obj;
    }

    private static RawArray raw(RawArray obj) {
        return obj instanceof Array a ? a.getObj() : obj;
    }
}
