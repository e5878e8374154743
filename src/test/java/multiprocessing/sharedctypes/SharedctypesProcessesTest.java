package multiprocessing.sharedctypes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;

import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;
import multiprocessing.synchronize.Event;
import multiprocessing.synchronize.Lock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Shared values and arrays between real processes: two child JVMs, each checking several things,
 * the objects reaching them captured by the target, as fields of a record, and through a Pipe.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedctypesProcessesTest {
    static final int INCREMENTS = 10_000;
    static final int VALUE_INCREMENTS = 5_000;

    /** One particle, declared once and shared by both sides. */
    static final MemoryLayout PARTICLE = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("id"),
            ValueLayout.JAVA_DOUBLE.withName("x"),
            ValueLayout.JAVA_INT.withName("hits"),
            ValueLayout.JAVA_BOOLEAN.withName("alive"),
            MemoryLayout.paddingLayout(3));

    /** Travels as the fields of one object: each must arrive as the same memory. */
    record Shared(SharedInt counter, Value total, SharedDoubleArray squares, RawArray codes,
            RawValue particle, Event go, Connection report) implements Serializable {}

    /** What the second child gets through the pipe. */
    record Parcel(Value total, Array letters, RawValue flag) implements Serializable {}

    @Test
    void twoChildrenShareCountersArraysAndAStruct() throws Exception {
        Context ctx = Multiprocessing.getContext();
        try (Pipe reports = ctx.pipe(false); Pipe parcels = ctx.pipe(true)) {
            Shared s = new Shared(RawValue.ofInt(0), ctx.value("q", 0L),
                    RawArray.ofDoubles(1000), ctx.rawArray("i", 4), ctx.rawValue(PARTICLE),
                    ctx.event(), reports.right());
            Process first = ctx.process(() -> {
                try {
                    s.go().await(Duration.ofSeconds(60));
                    for (int k = 0; k < INCREMENTS; k++) {
                        s.counter().getAndAdd(1);
                    }
                    for (int k = 0; k < VALUE_INCREMENTS; k++) {
                        s.total().getLock().lock();
                        try {
                            s.total().value((Long) s.total().value() + 1);
                        } finally {
                            s.total().getLock().unlock();
                        }
                    }
                    for (int k = 0; k < s.squares().length(); k++) {
                        s.squares().set(k, (double) k * k);
                    }
                    s.codes().setSlice(0, List.of(7, -7, Integer.MAX_VALUE, 42));
                    s.particle().set("id", 99L);
                    s.particle().set("x", 0.25);
                    s.particle().set("hits", 3);
                    s.particle().set("alive", true);
                    s.report().send("first done");
                } catch (Throwable e) {
                    s.report().send("first failed: " + e);
                }
            });
            Connection toSecond = parcels.left();
            Connection fromParent = parcels.right();
            Process second = ctx.process(() -> {
                try {
                    Parcel p = (Parcel) fromParent.recv();
                    for (int k = 0; k < VALUE_INCREMENTS; k++) {
                        p.total().getLock().lock();
                        try {
                            p.total().value((Long) p.total().value() + 1);
                        } finally {
                            p.total().getLock().unlock();
                        }
                    }
                    p.letters().setSlice(1, List.of('b', "c"));
                    // A value made here, sent the other way, read and changed by the parent.
                    SharedInt mine = RawValue.ofInt(41);
                    fromParent.send(mine);
                    fromParent.send(List.of(p.flag().value(), p.letters().toList()));
                    fromParent.recv(); // the parent has written 43
                    fromParent.send(mine.get());
                } catch (Throwable e) {
                    fromParent.send("second failed: " + e);
                }
            });
            first.start();
            second.start();

            Parcel parcel = new Parcel(s.total(), ctx.array("c", "a--"), ctx.rawValue("?", true));
            toSecond.send(parcel);
            Object childValue = toSecond.recv();
            assertTrue(childValue instanceof SharedInt, String.valueOf(childValue));
            SharedInt fromChild = (SharedInt) childValue;
            assertEquals(41, fromChild.get());
            assertEquals(List.of(true, List.of((byte) 'a', (byte) 'b', (byte) 'c')), toSecond.recv());
            fromChild.set(43);
            toSecond.send("go on");
            assertEquals(43, toSecond.recv(), "the child sees the parent's write");

            s.go().set();
            for (int k = 0; k < INCREMENTS; k++) {
                s.counter().getAndAdd(1);
            }
            assertEquals("first done", reports.left().recv());
            for (Process p : List.of(first, second)) {
                p.join(Duration.ofSeconds(60));
                assertEquals(0, p.exitCode());
                p.close();
            }

            assertEquals(2 * INCREMENTS, s.counter().get());
            assertEquals(2L * VALUE_INCREMENTS, s.total().value());
            assertTrue(s.total().getLock().tryLock(), "no child left the lock held");
            s.total().getLock().unlock();
            double[] squares = s.squares().toArray();
            for (int k = 0; k < squares.length; k++) {
                assertEquals((double) k * k, squares[k], "squares[" + k + "]");
            }
            assertEquals(List.of(7, -7, Integer.MAX_VALUE, 42), s.codes().toList());
            assertEquals(99L, s.particle().get("id"));
            assertEquals(0.25, s.particle().get("x"));
            assertEquals(3, s.particle().get("hits"));
            assertEquals(true, s.particle().get("alive"));
            assertArrayEquals(new byte[] {'a', 'b', 'c'},
                    parcel.letters().segment().toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /** A Value guarded by a given plain Lock: the child's lock is that lock, not a copy. */
    @Test
    void aGivenLockTravelsWithItsValue() throws Exception {
        Context ctx = Multiprocessing.getContext();
        Lock lock = ctx.lock();
        Value v = ctx.value("i", 0, lock);
        Array a = ctx.array("d", 2, lock);
        assertSame(lock, v.getLock());
        try (Pipe pipe = ctx.pipe(false)) {
            Connection out = pipe.right();
            lock.acquire();
            Process child = ctx.process(() -> {
                // Blocks until the parent releases the lock they share.
                v.value(1);
                a.set(1, 2.5);
                out.send(v.getLock() == a.getLock());
            });
            child.start();
            assertFalse(pipe.left().poll(Duration.ofMillis(500)), "the child waits for the lock");
            assertEquals(0, v.getObj().value());
            lock.release();
            assertEquals(true, pipe.left().recv(), "one lock in the child too");
            child.join(Duration.ofSeconds(60));
            assertEquals(0, child.exitCode());
            child.close();
            assertEquals(1, v.value());
            assertEquals(2.5, a.get(1));
        }
    }

    /**
     * A child SIGKILLed while it holds a Value's and an Array's lock: the next access of each
     * says so (OwnerDeadException) and leaves the lock free, where it used to leave the lock
     * held by the caller, who never took it, and every other access then waited for good.
     */
    @Test
    void anAccessThatFindsItsLocksHolderDeadLeavesTheLockFree() throws Exception {
        Context ctx = Multiprocessing.getContext();
        Value v = ctx.value("i", 5);
        Array a = ctx.array("i", 3);
        Event holding = ctx.event();
        Process holder = ctx.process(() -> {
            v.getLock().lock();
            a.getLock().lock();
            v.getObj().value(42);
            holding.set();
            try {
                Thread.sleep(120_000);
            } catch (InterruptedException e) {
                // killed first
            }
        });
        holder.start();
        try {
            assertTrue(holding.await(Duration.ofSeconds(60)), "the child holds the locks");
            holder.kill();
            holder.join();
            var dead = org.junit.jupiter.api.Assertions.assertThrows(
                    multiprocessing.synchronize.OwnerDeadException.class, v::value);
            assertEquals(holder.pid().longValue(), dead.pid());
            assertTrue(dead.getMessage().contains("the lock is free again"), dead.getMessage());
            org.junit.jupiter.api.Assertions.assertThrows(
                    multiprocessing.synchronize.OwnerDeadException.class, () -> a.get(0));
            // Free: another thread reads at once, and this one takes the locks as usual.
            var other = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> List.of(v.value(), a.get(0)));
            assertEquals(List.of(42, 0), other.get(30, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(v.getLock().tryLock());
            v.getLock().unlock();
            assertTrue(a.getLock().tryLock());
            a.getLock().unlock();
        } finally {
            holder.kill();
            holder.join();
            holder.close();
        }
    }
}
