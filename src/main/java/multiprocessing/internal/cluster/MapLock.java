package multiprocessing.internal.cluster;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

import com.hazelcast.map.IMap;

/**
 * A cluster-wide lock: the per-key lock of one Hazelcast map, the key being the lock's name
 * (Hazelcast's FencedLock belongs to its CP subsystem, which its open-source edition no longer
 * has). Held by a thread of a member or client, reentrant, released by Hazelcast when its
 * holder's member or client leaves or dies (once the cluster sees it gone: under half a second
 * for a member's JVM killed, a few seconds for a client's, the heartbeat timeout for a machine
 * that vanishes). It has no conditions.
 */
final class MapLock implements Lock {
    private final IMap<String, byte[]> locks;
    private final String name;

    MapLock(IMap<String, byte[]> locks, String name) {
        this.locks = locks;
        this.name = name;
    }

    @Override
    public void lock() {
        locks.lock(name);
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        while (!locks.tryLock(name, 1, TimeUnit.HOURS)) {
            // waits on, an hour at a time, interruptible
        }
    }

    @Override
    public boolean tryLock() {
        return locks.tryLock(name);
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        return locks.tryLock(name, Math.max(0, time), unit);
    }

    /** @throws IllegalMonitorStateException if this thread does not hold it */
    @Override
    public void unlock() {
        locks.unlock(name);
    }

    @Override
    public Condition newCondition() {
        throw new UnsupportedOperationException("a cluster lock has no conditions: Hazelcast's "
                + "map locks, under it, have none");
    }

    @Override
    public String toString() {
        return "<cluster lock '" + name + "'" + (locks.isLocked(name) ? " locked" : "") + ">";
    }
}
