package multiprocessing.sharedctypes;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.Lock;

import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.synchronize.RLock;

/**
 * A {@link RawArray} whose element accesses take a lock (Python's {@code multiprocessing.Array},
 * the synchronized wrapper of {@code sharedctypes}): {@link #get}, {@link #set}, {@link #slice}
 * and {@link #setSlice} each hold {@link #getLock()} while they run, so a slice is read or
 * written whole with respect to other locked accesses. Compound updates hold the lock around
 * them (it is a reentrant {@link RLock} unless another lock was given). The array travels to other
 * processes with its lock, both as the same shared memory. An access that finds its lock's
 * holder dead throws {@link multiprocessing.synchronize.OwnerDeadException} and leaves the lock
 * free, as {@link Value}'s do.
 */
public class Array extends RawArray {
    static {
        Serialization.register(Array.class, new Reducer<Array>() {
            @Override
            public void reduce(Array value, Out out) {
                Value.requireProcessLock(value.lock);
                out.writeObject(value.obj);
                out.writeObject(value.lock);
            }

            @Override
            public Array rebuild(In in) {
                return new Array((RawArray) in.readObject(), (Lock) in.readObject());
            }
        });
    }

    private final RawArray obj;
    private final Lock lock;

    Array(RawArray obj, Lock lock) {
        super(obj);
        this.obj = Objects.requireNonNull(obj, "obj");
        this.lock = Objects.requireNonNull(lock, "lock");
    }

    /**
     * A new zeroed array guarded by a new RLock.
     *
     * @param typecode the elements' Python typecode
     * @param size     how many elements
     * @return the array, which takes its lock on every access
     */
    public static Array of(String typecode, int size) {
        return new Array(RawArray.of(typecode, size), new RLock());
    }

    /**
     * A new array from {@code initializer} (see {@link RawArray#of(String, Object)}), guarded by a
     * new RLock.
     *
     * @param typecode    the elements' Python typecode
     * @param initializer the elements, or an {@code Integer} size for zeroed ones
     * @return the array, which takes its lock on every access
     */
    public static Array of(String typecode, Object initializer) {
        return new Array(RawArray.of(typecode, initializer), new RLock());
    }

    /**
     * A new array from {@code initializer} guarded by {@code lock}.
     *
     * @param typecode    the elements' Python typecode
     * @param initializer the elements, or an {@code Integer} size for zeroed ones
     * @param lock        the lock taken on every access
     * @return the array
     */
    public static Array of(String typecode, Object initializer, Lock lock) {
        return new Array(RawArray.of(typecode, initializer), lock);
    }

    /** {@return the lock every access takes: the one given, or the RLock made for this array} */
    public Lock getLock() {
        return lock;
    }

    /** {@return the raw array underneath, sharing the memory, taking no lock} */
    public RawArray getObj() {
        return obj;
    }

    /** Takes the lock (Python's {@code acquire()} on the wrapper). */
    public void acquire() {
        lock.lock();
    }

    /** Releases the lock. */
    public void release() {
        lock.unlock();
    }

    @Override
    public Object get(int index) {
        return Locked.call(lock, () -> obj.get(index));
    }

    @Override
    public void set(int index, Object value) {
        Locked.run(lock, () -> obj.set(index, value));
    }

    @Override
    public List<Object> slice(int from, int to) {
        return Locked.call(lock, () -> obj.slice(from, to));
    }

    @Override
    public void setSlice(int from, List<?> values) {
        Locked.run(lock, () -> obj.setSlice(from, values));
    }

    @Override
    public String toString() {
        return "<Synchronized wrapper for " + obj + ">";
    }
}
