package multiprocessing.sharedctypes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.synchronize.Lock;
import multiprocessing.synchronize.RLock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The objects within one process: typecodes, conversions, errors, locks, copies. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedctypesTest {

    /**
     * A segment got from a shared array keeps its memory when the array itself is dropped:
     * the array's space was freed at the next GC, zeroed and handed to the next objects made
     * (a Lock's word among them) while the program still wrote through the segment (review
     * 43). Arrays of both kinds: small ones share an arena, large ones (256 KiB and more) have
     * one of their own, which was unmapped under the segment.
     */
    @Test
    void aSegmentKeepsItsArraysMemory() throws Exception {
        for (int length : new int[] {64, 1 << 17}) {
            java.lang.foreign.MemorySegment kept = RawArray.ofInts(length).segment();
            for (int i = 0; i < length; i++) {
                kept.setAtIndex(ValueLayout.JAVA_INT, i, i + 1);
            }
            List<Object> made = new ArrayList<>();
            for (int round = 0; round < 10; round++) {
                System.gc();
                Thread.sleep(20);
                for (int k = 0; k < 50; k++) {
                    SharedIntArray other = RawArray.ofInts(length);
                    other.set(0, -1);
                    made.add(other);
                }
            }
            for (int i = 0; i < length; i++) {
                assertEquals(i + 1, kept.getAtIndex(ValueLayout.JAVA_INT, i),
                        "element " + i + " of an array of " + length);
            }
            made.clear();
        }
    }
    private final Context ctx = Multiprocessing.getContext();

    /** Sizes of the C types on Linux x86_64 (LP64, 4-byte wchar_t), as Python's ctypes has them. */
    @Test
    void typecodesHaveTheirCSizes() {
        Map<String, Long> sizes = Map.ofEntries(Map.entry("b", 1L), Map.entry("B", 1L),
                Map.entry("h", 2L), Map.entry("H", 2L), Map.entry("i", 4L), Map.entry("I", 4L),
                Map.entry("l", 8L), Map.entry("L", 8L), Map.entry("q", 8L), Map.entry("Q", 8L),
                Map.entry("f", 4L), Map.entry("d", 8L), Map.entry("c", 1L), Map.entry("u", 4L),
                Map.entry("?", 1L));
        sizes.forEach((code, size) -> {
            RawValue v = ctx.rawValue(code, null);
            assertEquals(size, v.segment().byteSize(), code);
            assertEquals(code, v.typecode());
            assertEquals(0, v.segment().address() % size, code + " aligned");
            RawArray a = ctx.rawArray(code, 5);
            assertEquals(5 * size, a.segment().byteSize(), code);
            assertEquals(5, a.length());
        });
    }

    @Test
    void valuesComeBackAsTheDocumentedTypes() {
        assertEquals((byte) -5, ctx.rawValue("b", -5).value());
        assertEquals((short) 200, ctx.rawValue("B", 200).value());
        assertEquals((short) -300, ctx.rawValue("h", (short) -300).value());
        assertEquals(65535, ctx.rawValue("H", 65535).value());
        assertEquals(7, ctx.rawValue("i", 7).value());
        assertEquals(4_000_000_000L, ctx.rawValue("I", 4_000_000_000L).value());
        assertEquals(-9L, ctx.rawValue("l", -9).value());
        assertEquals(Long.MAX_VALUE, ctx.rawValue("q", Long.MAX_VALUE).value());
        assertEquals(5L, ctx.rawValue("L", (byte) 5).value());
        BigInteger max = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
        assertEquals(max, ctx.rawValue("Q", max).value());
        assertEquals(1.5f, ctx.rawValue("f", 1.5).value());
        assertEquals(2.25, ctx.rawValue("d", 2.25f).value());
        assertEquals(3.0, ctx.rawValue("d", 3).value());
        assertEquals(true, ctx.rawValue("?", true).value());
        assertEquals("é", ctx.rawValue("u", 'é').value());
        assertEquals("\uD83D\uDE00", ctx.rawValue("u", "\uD83D\uDE00").value());
        assertEquals(0, ctx.rawValue("i", null).value());

        RawValue c = ctx.rawValue("c", (byte) 'x');
        assertEquals((byte) 'x', c.value());
        c.value('y');
        assertEquals((byte) 'y', c.value());
        c.value("z");
        assertEquals((byte) 'z', c.value());
        c.value(new byte[] {'w'});
        assertEquals((byte) 'w', c.value());

        RawValue q = ctx.rawValue("q", 7L);
        q.value(8L);
        assertEquals(8L, q.value());
        q.value(new java.util.concurrent.atomic.AtomicInteger(9));
        assertEquals(9L, q.value());
    }

    @Test
    void badTypecodesAndValuesThatDoNotFitAreRefused() {
        for (String bad : new String[] {"x", "", "ii", null}) {
            assertThrows(IllegalArgumentException.class, () -> ctx.rawValue(bad, 0), bad);
            assertThrows(IllegalArgumentException.class, () -> ctx.rawArray(bad, 3), bad);
            assertThrows(IllegalArgumentException.class, () -> ctx.value(bad, 0), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("b", 300));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("b", -129));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("B", -1));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("H", 65536));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("i", 1L << 31));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("I", -1));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("Q", -1L));
        assertThrows(IllegalArgumentException.class,
                () -> ctx.rawValue("q", BigInteger.ONE.shiftLeft(63)));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("i", "5"));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("i", 1.5));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("d", "1.5"));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("c", "ab"));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("c", 'Ā'));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("u", "ab"));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawValue("?", "yes"));

        RawValue v = ctx.rawValue("b", 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> v.value(300));
        assertTrue(e.getMessage().contains("300"), e.getMessage());
        assertEquals((byte) 1, v.value(), "a refused value leaves the old one");
        assertThrows(IllegalArgumentException.class, () -> v.value(null));
    }

    @Test
    void arraysGetSetSliceAndCheckIndices() {
        RawArray a = ctx.rawArray("i", new int[] {1, 2, 3});
        assertEquals(List.of(1, 2, 3), a.toList());
        a.set(0, 5);
        assertEquals(5, a.get(0));
        assertEquals(List.of(2, 3), a.slice(1, 3));
        assertEquals(List.of(), a.slice(3, 3));
        a.setSlice(1, List.of(20, 30L));
        assertEquals(List.of(5, 20, 30), a.toList());
        assertThrows(IndexOutOfBoundsException.class, () -> a.get(3));
        assertThrows(IndexOutOfBoundsException.class, () -> a.get(-1));
        assertThrows(IndexOutOfBoundsException.class, () -> a.set(3, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> a.slice(2, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> a.slice(2, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> a.setSlice(2, List.of(1, 2)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> a.setSlice(0, List.of(7, "eight")));
        assertTrue(e.getMessage().contains("eight"), e.getMessage());
        assertEquals(List.of(5, 20, 30), a.toList(), "a refused slice writes nothing");
        assertThrows(IllegalArgumentException.class, () -> a.set(0, 1L << 40));

        assertEquals(List.of(1.0, 2.5), ctx.rawArray("d", new double[] {1.0, 2.5}).toList());
        assertEquals(List.of(1L, 2L), ctx.rawArray("q", new long[] {1, 2}).toList());
        assertEquals(List.of((short) 1, (short) 2), ctx.rawArray("h", new short[] {1, 2}).toList());
        assertEquals(List.of(1.5f), ctx.rawArray("f", new float[] {1.5f}).toList());
        assertEquals(List.of(true, false), ctx.rawArray("?", new boolean[] {true, false}).toList());
        assertEquals(List.of(1, 2, 3), ctx.rawArray("i", List.of(1, 2, 3)).toList());
        assertEquals(List.of(4, 5), ctx.rawArray("i", new Integer[] {4, 5}).toList());
        assertEquals(4, ctx.rawArray("i", (Object) 4).length(), "an Integer is a size");
        assertEquals(List.of((byte) 'h', (byte) 'i'), ctx.rawArray("c", "hi").toList());
        assertEquals(List.of((byte) 'h', (byte) 'i'), ctx.rawArray("c", "hi".getBytes()).toList());
        assertEquals(List.of("a", "\uD83D\uDE00"), ctx.rawArray("u", "a\uD83D\uDE00").toList());
        assertEquals(0, ctx.rawArray("d", 0).length());
        assertEquals(0, ctx.rawArray("d", 0).segment().byteSize());
        assertThrows(IllegalArgumentException.class, () -> ctx.rawArray("i", -1));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawArray("b", new int[] {1, 300}));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawArray("i", List.of(1, "x")));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawArray("i", "text"));
        assertThrows(IllegalArgumentException.class, () -> ctx.rawArray("i", (Object) null));
    }

    @Test
    void typedViewsAreAtomicAndBoxFree() throws Exception {
        SharedInt i = RawValue.ofInt(5);
        assertEquals(5, i.get());
        assertEquals(5, i.getAndAdd(3));
        assertEquals(10, i.addAndGet(2));
        assertTrue(i.compareAndSet(10, 11));
        assertFalse(i.compareAndSet(10, 12));
        assertEquals(11, i.getAndSet(1));
        i.set(-4);
        assertEquals(-4, i.get());
        assertEquals(4, i.segment().byteSize());

        SharedLong l = RawValue.ofLong(Long.MAX_VALUE - 1);
        assertEquals(Long.MAX_VALUE - 1, l.getAndAdd(1));
        assertTrue(l.compareAndSet(Long.MAX_VALUE, 3));
        assertEquals(3, l.get());
        SharedDouble d = RawValue.ofDouble(1.5);
        assertEquals(1.5, d.getAndAdd(1.0));
        assertEquals(2.5, d.get());
        assertTrue(d.compareAndSet(2.5, -0.0));
        assertFalse(d.compareAndSet(0.0, 1.0), "bit for bit: -0.0 is not 0.0");

        // Threads racing on the same words: exact totals only if the updates are atomic.
        SharedInt counter = RawValue.ofInt(0);
        SharedLongArray cells = RawArray.ofLongs(2);
        SharedDouble sum = RawValue.ofDouble(0);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int k = 0; k < 20_000; k++) {
                    counter.getAndAdd(1);
                    cells.getAndAdd(1, 2);
                    sum.getAndAdd(0.5);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(80_000, counter.get());
        assertEquals(160_000, cells.get(1));
        assertEquals(0, cells.get(0));
        assertEquals(40_000.0, sum.get());

        SharedDoubleArray ds = RawArray.ofDoubles(4);
        assertEquals(4, ds.length());
        ds.set(3, 2.5);
        assertEquals(2.5, ds.get(3));
        assertEquals(32, ds.segment().byteSize());
        assertThrows(IndexOutOfBoundsException.class, () -> ds.get(4));
        assertThrows(IndexOutOfBoundsException.class, () -> ds.set(-1, 0));
        ds.copyFrom(0, new double[] {9, 8, 7}, 1, 2);
        assertArrayEquals(new double[] {8, 7, 0, 2.5}, ds.toArray());
        double[] out = new double[2];
        ds.copyTo(2, out, 0, 2);
        assertArrayEquals(new double[] {0, 2.5}, out);
        assertThrows(IndexOutOfBoundsException.class, () -> ds.copyTo(3, out, 0, 2));

        SharedIntArray is = RawArray.ofInts(3);
        assertEquals(0, is.getAndAdd(2, 5));
        assertTrue(is.compareAndSet(2, 5, 6));
        is.setVolatile(0, 1);
        assertEquals(1, is.getVolatile(0));
        assertArrayEquals(new int[] {1, 0, 6}, is.toArray());
        assertThrows(IndexOutOfBoundsException.class, () -> is.getAndAdd(3, 1));
        SharedByteArray bs = RawArray.ofBytes(3);
        bs.set(1, (byte) -1);
        assertArrayEquals(new byte[] {0, -1, 0}, bs.toArray());
    }

    static final MemoryLayout POINT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("x"),
            ValueLayout.JAVA_INT.withName("y"),
            ValueLayout.JAVA_DOUBLE.withName("weight"),
            MemoryLayout.structLayout(ValueLayout.JAVA_SHORT.withName("id"),
                    MemoryLayout.paddingLayout(6)).withName("tag"));

    @Test
    void structsHaveNamedFields() {
        MemoryLayout wide = MemoryLayout.structLayout(ValueLayout.JAVA_LONG.withName("a"))
                .withByteAlignment(256);
        RawValue aligned = ctx.rawValue(wide);
        assertEquals(0, aligned.segment().address() % 256);
        assertTrue(aligned.segment().byteSize() >= wide.byteSize());

        RawValue p = ctx.rawValue(POINT);
        assertEquals(POINT.byteSize(), p.segment().byteSize());
        assertEquals(0, p.segment().address() % POINT.byteAlignment());
        assertEquals(null, p.typecode());
        assertSame(POINT, p.layout());
        assertEquals(0, p.get("x"));
        p.set("x", 3);
        p.set("y", (short) -4);
        p.set("weight", 2);
        p.set("tag.id", 9);
        assertEquals(3, p.get("x"));
        assertEquals(-4, p.get("y"));
        assertEquals(2.0, p.get("weight"));
        assertEquals((short) 9, p.get("tag.id"));
        assertEquals(3, p.segment().get(ValueLayout.JAVA_INT, 0));
        assertThrows(IllegalArgumentException.class, () -> p.set("x", 1L << 40));
        assertThrows(IllegalArgumentException.class, () -> p.set("x", "3"));
        assertThrows(IllegalArgumentException.class, () -> p.get("z"));
        assertThrows(UnsupportedOperationException.class, p::value);
    }

    @Test
    void valueAndArrayCarryTheirLock() throws Exception {
        Value v = ctx.value("i", 1);
        assertInstanceOf(RLock.class, v.getLock());
        assertEquals(1, v.value());
        v.value(2);
        assertEquals(2, v.getObj().value());
        assertEquals(v.segment(), v.getObj().segment());
        v.getLock().lock();
        try {
            v.value((Integer) v.value() + 1);  // reentrant: the default lock is an RLock
        } finally {
            v.getLock().unlock();
        }
        assertEquals(3, v.value());

        Lock lock = ctx.lock();
        Value withLock = ctx.value("d", 0.5, lock);
        assertSame(lock, withLock.getLock());
        assertEquals(lock, withLock.getLock());
        RLock rLock = ctx.rLock();
        assertSame(rLock, ctx.value("q", 1L, rLock).getLock());
        RawValue raw = ctx.value("i", 4, false);
        assertFalse(raw instanceof Value);
        assertEquals(4, raw.value());
        assertInstanceOf(Value.class, ctx.value("i", 4, true));

        // A value guarded by a plain Lock blocks while another thread holds it.
        lock.acquire();
        Thread reader = Thread.ofPlatform().start(() -> withLock.value(1.5));
        reader.join(200);
        assertTrue(reader.isAlive(), "the write waits for the lock");
        assertEquals(0.5, withLock.getObj().value());
        lock.release();
        reader.join();
        assertEquals(1.5, withLock.value());

        Array a = ctx.array("d", new double[] {1, 2});
        assertInstanceOf(RLock.class, a.getLock());
        assertEquals(List.of(1.0, 2.0), a.slice(0, 2));
        a.set(1, 3);
        assertEquals(3.0, a.getObj().get(1));
        a.setSlice(0, List.of(4, 5));
        assertEquals(List.of(4.0, 5.0), a.toList());
        assertThrows(IndexOutOfBoundsException.class, () -> a.get(2));
        assertFalse(a.getLock() instanceof RLock r && r.isHeldByCurrentThread(),
                "an access that throws releases the lock");
        assertEquals(8, ctx.array("i", 8).length());
        assertSame(lock, ctx.array("i", 2, lock).getLock());
        assertSame(rLock, ctx.array("i", new int[] {1}, rLock).getLock());
        assertFalse(ctx.array("i", 3, false) instanceof Array);

        Value struct = Value.of(POINT);
        struct.set("x", 5);
        assertEquals(5, struct.get("x"));
        a.acquire();
        a.release();
    }

    @Test
    void copyAndSynchronized() {
        RawValue v = ctx.rawValue("h", 12);
        RawValue c = Sharedctypes.copy(v);
        assertEquals((short) 12, c.value());
        c.value(13);
        assertEquals((short) 12, v.value(), "a copy has its own memory");
        assertNotEquals(v.segment().address(), c.segment().address());
        assertEquals((short) 5, Sharedctypes.copy(ctx.value("h", 5)).value());

        RawArray a = ctx.rawArray("i", new int[] {1, 2});
        RawArray ac = Sharedctypes.copy(a);
        ac.set(0, 9);
        assertEquals(List.of(1, 2), a.toList());
        assertEquals(List.of(9, 2), ac.toList());
        assertEquals(List.of(1, 2), Sharedctypes.copy(ctx.array("i", List.of(1, 2))).toList());

        RawValue struct = ctx.rawValue(POINT);
        struct.set("y", 6);
        assertEquals(6, Sharedctypes.copy(struct).get("y"));

        Value s = Sharedctypes.synchronized_(v);
        assertInstanceOf(RLock.class, s.getLock());
        assertSame(v, s.getObj());
        s.value(40);
        assertEquals((short) 40, v.value(), "the wrapper shares the object's memory");
        Lock lock = ctx.lock();
        assertSame(lock, Sharedctypes.synchronized_(v, lock).getLock());
        assertSame(v, Sharedctypes.synchronize(s).getObj(), "a wrapper is not wrapped twice");
        ReentrantLock local = new ReentrantLock();
        assertSame(local, Sharedctypes.synchronize(v, local).getLock());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Serialization.serialize(Sharedctypes.synchronize(v, local)));
        assertTrue(e.getMessage().contains("ReentrantLock"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Serialization.serialize(Sharedctypes.synchronize(a, local)));
        Array sa = Sharedctypes.synchronized_(a);
        sa.set(1, 7);
        assertEquals(7, a.get(1));
        assertSame(lock, Sharedctypes.synchronize(a, lock).getLock());
        assertSame(a, Sharedctypes.synchronize(sa).getObj());
    }

    @Test
    void serializedObjectsAreTheSameMemory() {
        RawValue v = ctx.rawValue("q", 3L);
        RawValue v2 = roundTrip(v);
        assertEquals(v.segment().address(), v2.segment().address());
        v2.value(4L);
        assertEquals(4L, v.value());

        RawValue p = ctx.rawValue(POINT);
        RawValue p2 = roundTrip(p);
        p2.set("tag.id", 3);
        assertEquals((short) 3, p.get("tag.id"));
        assertEquals(POINT.byteSize(), p2.layout().byteSize());
        assertEquals(POINT.byteAlignment(), p2.layout().byteAlignment());

        Value val = ctx.value("i", 1);
        Value val2 = roundTrip(val);
        val2.value(2);
        assertEquals(2, val.value());
        assertInstanceOf(RLock.class, val2.getLock());

        Array arr = ctx.array("d", 3);
        Array arr2 = roundTrip(arr);
        arr2.set(2, 1.25);
        assertEquals(1.25, arr.get(2));
        assertEquals(3, arr2.length());

        // Two wrappers sharing a lock arrive sharing it.
        Lock lock = ctx.lock();
        Object[] pair = roundTrip(new Object[] {ctx.value("i", 0, lock), ctx.array("i", 2, lock)});
        assertSame(((Value) pair[0]).getLock(), ((Array) pair[1]).getLock());

        SharedInt i = RawValue.ofInt(1);
        roundTrip(i).getAndAdd(5);
        assertEquals(6, i.get());
        SharedIntArray ia = RawArray.ofInts(2);
        roundTrip(ia).set(1, 3);
        assertEquals(3, ia.get(1));
        SharedDoubleArray da = RawArray.ofDoubles(2);
        roundTrip(da).set(0, 3);
        assertEquals(3.0, da.get(0));
        SharedByteArray ba = RawArray.ofBytes(2);
        roundTrip(ba).set(0, (byte) 3);
        assertEquals(3, ba.get(0));
        SharedLong sl = RawValue.ofLong(1);
        roundTrip(sl).set(9);
        assertEquals(9, sl.get());
        SharedDouble sd = RawValue.ofDouble(1);
        roundTrip(sd).set(9);
        assertEquals(9.0, sd.get());
        SharedLongArray la = RawArray.ofLongs(1);
        roundTrip(la).set(0, 9);
        assertEquals(9, la.get(0));
        RawArray big = ctx.rawArray("b", 1 << 20);
        roundTrip(big).set((1 << 20) - 1, 1);
        assertEquals((byte) 1, big.get((1 << 20) - 1));
    }

    @Test
    void toStringsNameTheTypecode() {
        assertEquals("RawValue('i', 5)", ctx.rawValue("i", 5).toString());
        assertEquals("<Synchronized wrapper for RawValue('u', 'a')>", ctx.value("u", "a").toString());
        assertEquals("RawArray('d', [1.0, 2.0])", ctx.rawArray("d", new double[] {1, 2}).toString());
        assertTrue(ctx.rawArray("b", 100).toString().contains("100 elements"));
        assertEquals("SharedInt(3)", RawValue.ofInt(3).toString());
        assertTrue(Arrays.asList(ctx.array("i", 1).toString().split(" ")).contains("wrapper"));
    }

    @SuppressWarnings("unchecked")
    private static <T> T roundTrip(T value) {
        return (T) Serialization.deserialize(Serialization.serialize(value));
    }
}
