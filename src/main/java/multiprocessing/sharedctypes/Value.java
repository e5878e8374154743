package multiprocessing.sharedctypes;

import java.lang.foreign.MemoryLayout;
import java.util.Objects;
import java.util.concurrent.locks.Lock;

import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.synchronize.RLock;

/**
 * A {@link RawValue} whose reads and writes take a lock (Python's {@code multiprocessing.Value},
 * the synchronized wrapper of {@code sharedctypes}): {@link #value()}, {@link #value(Object)},
 * {@link #get(String)} and {@link #set(String, Object)} each hold {@link #getLock()} while they
 * run. The lock is a new {@link RLock} unless one is given; it is reentrant then, so a compound
 * update is written as Python's {@code with v.get_lock(): v.value += 1}:
 *
 * <pre>{@code
 * v.getLock().lock();
 * try {
 *     v.value((Integer) v.value() + 1);
 * } finally {
 *     v.getLock().unlock();
 * }
 * }</pre>
 *
 * (a plain {@link multiprocessing.synchronize.Lock} given as the lock is not reentrant: with one,
 * go through {@link #getObj()} inside the locked region). The value travels to other processes
 * with its lock, both as the same shared memory.
 *
 * <p>An access whose lock was held by a process that died holding it (SIGKILL in the middle of
 * such an update) throws {@link multiprocessing.synchronize.OwnerDeadException}, makes no
 * access, and leaves the lock free: the next access proceeds. (Python's would wait for good.)
 */
public class Value extends RawValue {
    static {
        Serialization.register(Value.class, new Reducer<Value>() {
            @Override
            public void reduce(Value value, Out out) {
                requireProcessLock(value.lock);
                out.writeObject(value.obj);
                out.writeObject(value.lock);
            }

            @Override
            public Value rebuild(In in) {
                return new Value((RawValue) in.readObject(), (Lock) in.readObject());
            }
        });
    }

    private final RawValue obj;
    private final Lock lock;

    /**
     * A JDK lock would arrive as a serialized copy, guarding nothing shared with the sender:
     * refuse to send it rather than let two processes each hold "the" lock.
     */
    static void requireProcessLock(Lock lock) {
        if (!(lock instanceof multiprocessing.synchronize.Lock)
                && !(lock instanceof multiprocessing.synchronize.RLock)) {
            throw new IllegalArgumentException("a value or array guarded by a "
                    + lock.getClass().getName() + " cannot be sent to another process: guard it"
                    + " with a multiprocessing.synchronize.Lock or RLock");
        }
    }

    Value(RawValue obj, Lock lock) {
        super(obj);
        this.obj = Objects.requireNonNull(obj, "obj");
        this.lock = Objects.requireNonNull(lock, "lock");
    }

    /**
     * A new value of {@code typecode} holding {@code initial}, guarded by a new RLock.
     *
     * @param typecode a Python typecode
     * @param initial  the value it starts with, or null for zero
     * @return the value, which takes its lock on every access
     */
    public static Value of(String typecode, Object initial) {
        return new Value(RawValue.of(typecode, initial), new RLock());
    }

    /**
     * A new value of {@code typecode} holding {@code initial}, guarded by {@code lock}.
     *
     * @param typecode a Python typecode
     * @param initial  the value it starts with, or null for zero
     * @param lock     the lock taken on every access
     * @return the value
     */
    public static Value of(String typecode, Object initial, Lock lock) {
        return new Value(RawValue.of(typecode, initial), lock);
    }

    /**
     * A new zeroed struct of {@code layout} guarded by a new RLock.
     *
     * @param layout the struct's layout
     * @return the struct, which takes its lock on every access
     */
    public static Value of(MemoryLayout layout) {
        return new Value(RawValue.of(layout), new RLock());
    }

    /** {@return the lock every access takes: the one given, or the RLock made for this value} */
    public Lock getLock() {
        return lock;
    }

    /** {@return the raw value underneath, sharing the memory, taking no lock} */
    public RawValue getObj() {
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
    public Object value() {
        return Locked.call(lock, () -> obj.value());
    }

    @Override
    public void value(Object value) {
        Locked.run(lock, () -> obj.value(value));
    }

    @Override
    public Object get(String path) {
        return Locked.call(lock, () -> obj.get(path));
    }

    @Override
    public void set(String path, Object value) {
        Locked.run(lock, () -> obj.set(path, value));
    }

    @Override
    public String toString() {
        return "<Synchronized wrapper for " + obj + ">";
    }
}
