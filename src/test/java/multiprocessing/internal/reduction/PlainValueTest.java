package multiprocessing.internal.reduction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.fory.memory.MemoryBuffer;
import org.junit.jupiter.api.Test;

/** Plain values as messages: exact round trips, Fory's messages told apart, bad bytes refused. */
class PlainValueTest {

    @Test
    void everyPlainValueRoundTripsAsTheSameClassAndBits() {
        List<Object> values = Arrays.asList(null, true, false, 0, -7, Integer.MIN_VALUE,
                Long.MAX_VALUE, 3.5, Double.NaN, -0.0, 1.5f, (short) -2, (byte) 9, 'x', '\uffff',
                "", "plain", "\u00e9t\u00e9", "snow \u2603", "lone \ud800 surrogate",
                java.time.Duration.ofMillis(5), java.time.Duration.ofSeconds(-3, 999_999_999),
                java.time.Duration.ZERO);
        for (Object v : values) {
            byte[] bytes = Serialization.serialize(v);
            assertEquals(PlainValue.MARK, bytes[0], "written without Fory: " + v);
            Object back = Serialization.deserialize(bytes);
            if (v == null) {
                assertEquals(null, back);
            } else {
                assertEquals(v.getClass(), back.getClass());
                assertEquals(v, back);
            }
        }
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(
                (Double) Serialization.deserialize(Serialization.serialize(-0.0))));
        byte[] big = new byte[3 << 20];
        big[big.length - 1] = 5;
        assertArrayEquals(big, (byte[]) Serialization.deserialize(Serialization.serialize(big)));
    }

    @Test
    void aMessageWrittenAfterALargerOneHoldsItselfOnly() throws Exception {
        // The process keeps one buffer for plain writes, whichever thread wrote last: what a
        // larger message left in it must not come out with the next one (here or on another
        // thread), nor a byte of the next go into the first's array.
        ArrayList<Object> large = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            large.add(i);
        }
        byte[] first = Serialization.serialize(large);
        byte[] copy = first.clone();
        byte[] small = Serialization.serialize(new ArrayList<>(List.of(7)));
        byte[][] fresh = new byte[1][];
        Thread other = new Thread(() -> fresh[0] = Serialization.serialize(
                new ArrayList<>(List.of(7))));
        other.start();
        other.join();
        assertArrayEquals(fresh[0], small);
        assertArrayEquals(copy, first);
        assertEquals(List.of(7), Serialization.deserialize(small));
        assertEquals(large, Serialization.deserialize(first));
    }

    @Test
    void otherValuesGoThroughForyAndAreToldApart() {
        // An Object[] holding the same byte array twice (Fory keeps its identity), a longer
        // one, one of another element type, one holding an object of another class, an
        // ArrayList holding a list or a mutable object, a subclass of ArrayList: all Fory's.
        Object[] many = new Object[PlainValue.MAX_OBJECTS + 1];
        byte[] once = new byte[1];
        ArrayList<Object> nested = new ArrayList<>(List.of(1, new ArrayList<>(List.of(2))));
        ArrayList<Object> mutable = new ArrayList<>(List.of(new StringBuilder("sb")));
        ArrayList<Object> sub = new ArrayList<>() { };
        for (Object v : List.of(java.util.Set.of(1, 2), new float[] {1}, new Object[] {"a", once, once},
                many, new String[] {"a"}, new Object[] {1, List.of(new ArrayList<>())}, nested,
                mutable, sub,
                java.math.BigInteger.TEN, new StringBuilder("sb"))) {
            assertFalse(PlainValue.writes(v), v.getClass().getName());
            byte[] bytes = Serialization.serialize(v);
            assertTrue(bytes[0] != PlainValue.MARK, "a Fory message cannot start as a plain one");
            Object back = Serialization.deserialize(bytes);
            if (v != sub) { // an anonymous class: Fory rebuilds it as another
                assertEquals(v.getClass(), back.getClass());
            }
        }
        Object[] twice = (Object[]) Serialization.deserialize(
                Serialization.serialize(new Object[] {"a", once, once}));
        assertSame(twice[1], twice[2], "the same array arrives as one");
        // Into a buffer from a writer index past its start, as a queue's scratch buffer is.
        MemoryBuffer buffer = MemoryBuffer.newHeapBuffer(8);
        buffer.writeInt32(77);
        Serialization.serialize("after", Handles.refusing("none"), buffer);
        MemoryBuffer written = MemoryBuffer.fromByteArray(buffer.getBytes(0, buffer.writerIndex()));
        written.readerIndex(4);
        assertEquals("after", Serialization.deserialize(written, Handles.received(new int[0])));
    }

    /** Arrays of ints, longs and doubles, alone or in a short array, bit for bit. */
    @Test
    void arraysOfNumbersRoundTripWithoutFory() {
        int[] ints = {0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE};
        long[] longs = {Long.MIN_VALUE, 0, 42, Long.MAX_VALUE};
        double[] doubles = {-0.0, Double.longBitsToDouble(0x7ff8_0000_0000_1234L), 1e300};
        int[] large = new int[1 << 20];
        large[large.length - 1] = 7;
        for (Object v : List.of(ints, longs, doubles, new int[0], new long[0], new double[0],
                large)) {
            byte[] bytes = Serialization.serialize(v);
            assertEquals(PlainValue.MARK, bytes[0], "written without Fory: " + v.getClass());
            Object back = Serialization.deserialize(bytes);
            assertEquals(v.getClass(), back.getClass());
            if (v instanceof int[] a) {
                assertArrayEquals(a, (int[]) back);
            } else if (v instanceof long[] a) {
                assertArrayEquals(a, (long[]) back);
            } else {
                double[] a = (double[]) v;
                double[] b = (double[]) back;
                assertEquals(a.length, b.length);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(Double.doubleToRawLongBits(a[i]), Double.doubleToRawLongBits(b[i]));
                }
            }
        }
        Object[] mixed = (Object[]) Serialization.deserialize(
                Serialization.serialize(new Object[] {1, ints, longs, "s"}));
        assertArrayEquals(ints, (int[]) mixed[1]);
        assertArrayEquals(longs, (long[]) mixed[2]);
        // A length beyond what is left is refused, not allocated.
        byte[] bytes = Serialization.serialize(ints);
        byte[] cut = Arrays.copyOf(bytes, bytes.length - 1);
        assertThrows(IllegalStateException.class, () -> Serialization.deserialize(cut));
    }

    /** A short array of immutable values, as a pool's worker says it is ready, without Fory. */
    @Test
    void shortObjectArraysOfImmutableValuesRoundTrip() {
        Object[][] arrays = {
            {}, {1}, {null, null}, {4, 1_000_000_000_000L, -2.5, "\u00e9t\u00e9", 'c', true, null},
            new Object[PlainValue.MAX_OBJECTS],
        };
        for (Object[] a : arrays) {
            assertTrue(PlainValue.writes(a), Arrays.toString(a));
            byte[] bytes = Serialization.serialize(a);
            assertEquals(PlainValue.MARK, bytes[0], "written without Fory: " + Arrays.toString(a));
            Object back = Serialization.deserialize(bytes);
            assertEquals(Object[].class, back.getClass());
            assertArrayEquals(a, (Object[]) back);
            for (int i = 0; i < a.length; i++) {
                if (a[i] != null) {
                    assertEquals(a[i].getClass(), ((Object[]) back)[i].getClass());
                }
            }
        }
    }

    /**
     * A pool's messages without Fory: a chunk's items and results (an ArrayList of immutable
     * values, of any length) and a task (an array holding the function's bytes and the items).
     */
    @Test
    void listsAndArraysHoldingThemRoundTripWithoutFory() {
        ArrayList<Object> items = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            items.add(i % 3 == 0 ? (Object) ("s" + i) : i % 3 == 1 ? (Object) (long) i : null);
        }
        for (ArrayList<Object> list : List.of(new ArrayList<>(), items)) {
            byte[] bytes = Serialization.serialize(list);
            assertEquals(PlainValue.MARK, bytes[0]);
            Object back = Serialization.deserialize(bytes);
            assertEquals(ArrayList.class, back.getClass());
            assertEquals(list, back);
        }
        byte[] fn = {1, 2, 3};
        Object[] task = {7L, 1, fn, items, true};
        byte[] bytes = Serialization.serialize(task);
        assertEquals(PlainValue.MARK, bytes[0]);
        Object[] back = (Object[]) Serialization.deserialize(bytes);
        assertEquals(7L, back[0]);
        assertArrayEquals(fn, (byte[]) back[2]);
        assertEquals(items, back[3]);
        assertEquals(ArrayList.class, back[3].getClass());
    }

    /**
     * A manager's snapshots (a dict's {@code HashMap}, {@code List.copyOf}'s lists) travel
     * without Fory and arrive as the classes Fory delivers; with a value Fory must write, or
     * a null in an immutable list, they go to Fory as before.
     */
    @Test
    void snapshotsOfListsAndMapsRoundTripAsForyDeliversThem() {
        java.util.HashMap<Object, Object> map = new java.util.HashMap<>();
        map.put("a", 1);
        map.put(2L, null);
        map.put(null, "n");
        List<Object> values = List.of(List.of(), List.of("x"), List.of(1, 2L),
                List.of(1, "two", 3.0, 'c'), List.copyOf(new ArrayList<>(List.of("s", "t"))),
                new java.util.HashMap<>(), map, new java.util.LinkedHashMap<>(map));
        for (Object v : values) {
            byte[] bytes = Serialization.serialize(v);
            assertEquals(PlainValue.MARK, bytes[0], "written without Fory: " + v);
            Object back = Serialization.deserialize(bytes);
            assertEquals(v, back);
            assertEquals(v.toString(), back.toString(), "in the same order");
            // As Fory delivers it, inside a message only it writes.
            Object[] viaFory = (Object[]) Serialization.deserialize(
                    Serialization.serialize(new Object[] {v, new StringBuilder()}));
            assertEquals(viaFory[0].getClass(), back.getClass(), v.toString());
        }
        java.util.HashMap<String, Object> holding = new java.util.HashMap<>(
                java.util.Map.of("a", new StringBuilder()));
        for (Object v : List.of(holding, List.of(new StringBuilder()),
                new java.util.TreeMap<>(java.util.Map.of("k", 1)))) {
            byte[] bytes = Serialization.serialize(v);
            assertTrue(bytes[0] != PlainValue.MARK, "through Fory: " + v);
            assertEquals(v.toString(), Serialization.deserialize(bytes).toString());
        }
        // Stream.toList's lists share List.of's class but may hold nulls: not written here.
        assertFalse(PlainValue.writes(java.util.stream.Stream.of(1, null).toList()));
    }

    /**
     * An address, which a manager's client asks its server for as it connects, travels without
     * Fory, as the server's reply (alone) and inside a message (an array of a few values).
     */
    @Test
    void addressesRoundTripWithoutFory() {
        for (multiprocessing.connection.Address a : List.of(
                multiprocessing.connection.Address.unix("/tmp/some.sock"),
                multiprocessing.connection.Address.inet("127.0.0.1", 4242))) {
            byte[] bytes = Serialization.serialize(a);
            assertEquals(PlainValue.MARK, bytes[0], "written without Fory: " + a);
            assertEquals(a, Serialization.deserialize(bytes));
            Object[] inside = (Object[]) Serialization.deserialize(
                    Serialization.serialize(new Object[] {1, a}));
            assertEquals(a, inside[1]);
        }
    }

    interface Combine extends java.util.function.BinaryOperator<Integer>, java.io.Serializable {}

    interface Make extends java.util.function.Supplier<Object>, java.io.Serializable {}

    /**
     * A manager call's function (a dict's {@code merge(key, 1, Integer::sum)}) among its
     * arguments: a lambda capturing immutable values, or such lambdas, travels without Fory.
     */
    @Test
    void lambdasOfImmutableValuesRoundTripWithoutFory() {
        int k = 40;
        String s = "s";
        Combine sum = Integer::sum;
        Combine plusK = (a, b) -> a + b + k;
        Make outer = () -> s + plusK.apply(1, 1) + sum.apply(0, 2);
        Object[] args = {"key", 1, sum};
        byte[] bytes = Serialization.serialize(args);
        assertEquals(PlainValue.MARK, bytes[0]);
        Object[] back = (Object[]) Serialization.deserialize(bytes);
        assertEquals(List.of("key", 1), List.of(back[0], back[1]));
        assertEquals(5, ((Combine) back[2]).apply(2, 3));
        for (Object v : List.of(plusK, outer)) {
            byte[] one = Serialization.serialize(v);
            assertEquals(PlainValue.MARK, one[0], "written without Fory");
            Object got = Serialization.deserialize(one);
            assertEquals(v == plusK ? 43 : "s422", v == plusK ? ((Combine) got).apply(1, 2)
                    : ((Make) got).get());
        }
        // Capturing what is not immutable (a list, a builder): Fory's, as before.
        List<Integer> list = new ArrayList<>(List.of(1));
        Make capturesList = () -> list.size();
        assertFalse(PlainValue.writes(capturesList));
        assertEquals(1, ((Make) Serialization.deserialize(Serialization.serialize(capturesList)))
                .get());
        // Bad bytes: a capturing class the policy denies is refused before it is loaded, and
        // lambdas nested past the bound are refused (a lambda tag, a string tag, 0 length...).
        byte[] denied = Serialization.serialize(plusK);
        String wrote = new String(denied, java.nio.charset.StandardCharsets.ISO_8859_1);
        String own = PlainValueTest.class.getName();
        int at = wrote.indexOf(own);
        byte[] renamed = wrote.substring(0, at).concat("java.lang.Runtime")
                .concat(wrote.substring(at + own.length()))
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        renamed[at - 4] = (byte) "java.lang.Runtime".length(); // its little-endian length
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Serialization.deserialize(renamed));
        assertTrue(e.getMessage().contains("polic"), e.getMessage());
    }

    /** A manager call's arguments: maps and lists among them ({@code putAll}, {@code addAll}). */
    @Test
    void mapsAndListsAmongACallsArgumentsRoundTripWithoutFory() {
        java.util.HashMap<String, Integer> hash = new java.util.HashMap<>(java.util.Map.of("a", 1));
        Object[] args = {"k", hash, java.util.Map.of("b", 2, "c", 3), java.util.Map.of(),
            java.util.Map.of("d", java.time.Duration.ofSeconds(4)), List.of(1, 2)};
        byte[] bytes = Serialization.serialize(args);
        assertEquals(PlainValue.MARK, bytes[0], "written without Fory");
        Object[] back = (Object[]) Serialization.deserialize(bytes);
        assertEquals(Arrays.asList(args), Arrays.asList(back));
        assertEquals(java.util.HashMap.class, back[1].getClass());
        for (int i = 2; i <= 4; i++) {
            @SuppressWarnings("unchecked")
            java.util.Map<Object, Object> immutable = (java.util.Map<Object, Object>) back[i];
            assertThrows(UnsupportedOperationException.class, () -> immutable.put("x", 1));
        }
        // The same map twice (Fory keeps its identity) and a map holding a list: Fory's.
        assertFalse(PlainValue.writes(new Object[] {hash, hash}));
        assertFalse(PlainValue.writes(new Object[] {java.util.Map.of("l", List.of(1))}));
    }

    /** Not the JDK's or the library's: its constructor is not trusted with a message. */
    public static final class OwnException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public OwnException(String message) {
            super(message);
        }
    }

    /**
     * An exception a manager call throws (a queue's timed get: EmptyException) travels
     * without Fory, its class, message, stack trace, cause and suppressed ones kept; one of
     * another class, or with fields of its own, goes to Fory as before.
     */
    @Test
    void exceptionsOfTheJdkAndTheLibraryRoundTripWithoutFory() {
        IllegalStateException cause = new IllegalStateException("the cause");
        cause.addSuppressed(new java.io.IOException("suppressed"));
        multiprocessing.EmptyException empty = new multiprocessing.EmptyException("no item");
        empty.initCause(cause);
        String npeMessage = null;
        try {
            Object o = null;
            o.hashCode();
        } catch (NullPointerException npe) {
            npeMessage = npe.getMessage();
            byte[] bytes = Serialization.serialize(npe);
            assertEquals(PlainValue.MARK, bytes[0]);
            assertEquals(npeMessage, ((Throwable) Serialization.deserialize(bytes)).getMessage());
        }
        assertTrue(npeMessage != null && npeMessage.contains("\"o\""), npeMessage);
        for (Object v : List.of(empty, new Object[] {"result", empty})) {
            byte[] bytes = Serialization.serialize(v);
            assertEquals(PlainValue.MARK, bytes[0], "written without Fory");
            Object back = Serialization.deserialize(bytes);
            Throwable got = (Throwable) (back instanceof Object[] a ? a[1] : back);
            assertEquals(multiprocessing.EmptyException.class, got.getClass());
            assertEquals("no item", got.getMessage());
            assertArrayEquals(empty.getStackTrace(), got.getStackTrace());
            assertEquals(IllegalStateException.class, got.getCause().getClass());
            assertArrayEquals(cause.getStackTrace(), got.getCause().getStackTrace());
            assertEquals("suppressed", got.getCause().getSuppressed()[0].getMessage());
            assertEquals(java.io.IOException.class, got.getCause().getSuppressed()[0].getClass());
        }
        // Another's class, fields of its own (bytesTransferred), a cause that is another's:
        // Fory's, and they arrive all the same.
        java.io.InterruptedIOException withField = new java.io.InterruptedIOException("io");
        withField.bytesTransferred = 3;
        for (Throwable t : List.of(new OwnException("own"), withField,
                new IllegalStateException("wraps", new OwnException("inner")))) {
            assertFalse(PlainValue.writes(t), t.toString());
            Throwable back = (Throwable) Serialization.deserialize(Serialization.serialize(t));
            assertEquals(t.getClass(), back.getClass());
            assertEquals(t.getMessage(), back.getMessage());
        }
        // A constructor that sets the cause for good (ClassNotFoundException's, with none), or
        // changes the message (RemoteTraceback's quotes it), and one exception reached twice
        // (suppressed by two others, a graph that written as a tree would grow 2^depth):
        // Fory's, all arriving as they were sent.
        Throwable shared = new IllegalStateException("shared");
        IllegalStateException first = new IllegalStateException("first");
        first.addSuppressed(shared);
        IllegalStateException second = new IllegalStateException("second");
        second.addSuppressed(shared);
        IllegalStateException both = new IllegalStateException("both", first);
        both.addSuppressed(second);
        for (Throwable t : List.of(new ClassNotFoundException("cnf", new IllegalStateException()),
                new ClassNotFoundException("cnf alone"), new multiprocessing.RemoteTraceback("tb"),
                both)) {
            assertFalse(PlainValue.writes(t), t.toString());
            Throwable back = (Throwable) Serialization.deserialize(Serialization.serialize(t));
            assertEquals(t.getClass(), back.getClass());
            assertEquals(t.getMessage(), back.getMessage());
            assertEquals(t.getCause() == null, back.getCause() == null, t.toString());
        }
        // One exception, or one lambda, reached from two elements of a call's arguments: Fory's,
        // which keeps it once.
        IllegalStateException inner = new IllegalStateException("inner");
        Object[] twice = {inner, new RuntimeException("outer", inner)};
        assertFalse(PlainValue.writes(twice));
        Object[] back2 = (Object[]) Serialization.deserialize(Serialization.serialize(twice));
        assertSame(back2[0], ((Throwable) back2[1]).getCause());
        Combine f = Integer::sum;
        Make g = () -> f.apply(1, 2);
        assertFalse(PlainValue.writes(new Object[] {f, g}));
        // Bad bytes: a class that is no exception, or one not rebuilt from its message, is
        // refused before any constructor runs.
        for (String name : List.of("java.lang.String", OwnException.class.getName())) {
            byte[] b = Serialization.serialize(new IllegalStateException("x"));
            String text = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
            String own = IllegalStateException.class.getName();
            int at = text.indexOf(own);
            byte[] renamed = (text.substring(0, at) + name + text.substring(at + own.length()))
                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
            renamed[at - 4] = (byte) name.length();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Serialization.deserialize(renamed));
            assertTrue(e.getMessage().contains("not an exception rebuilt from its message"),
                    e.getMessage());
        }
    }

    @Test
    void corruptPlainMessagesAreRefusedClearly() {
        byte[][] bad = {
            {PlainValue.MARK},                              // no tag
            {PlainValue.MARK, 99},                          // unknown tag
            {PlainValue.MARK, 3, 1, 2},                     // int cut short
            {PlainValue.MARK, 12, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f}, // 2 GiB claimed
            {PlainValue.MARK, 12, -1, -1, -1, -1},          // negative length
            {PlainValue.MARK, 0, 0},                        // trailing byte
            // Lengths are little-endian, as Fory's buffer writes them.
            {PlainValue.MARK, 13, 3, 0, 0, 0, 0, 0},        // array of 3, 2 given
            {PlainValue.MARK, 13, 1, 0, 0, 0, 15, 0, 0, 0, 0}, // array holding a string array
            {PlainValue.MARK, 13, 1, 0, 0, 0, 13, 0, 0, 0, 0}, // array holding an array
            {PlainValue.MARK, 16, 1, 0, 0, 0, 12, 0, 0, 0, 0}, // list holding a byte array
            {PlainValue.MARK, 16, 1, 0, 0, 0, 16, 0, 0, 0, 0}, // list holding a list
            {PlainValue.MARK, 16, 2, 0, 0, 0, 0},           // list of 2, 1 given
            {PlainValue.MARK, 16, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f}, // 2 G claimed
            {PlainValue.MARK, 13, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
            {PlainValue.MARK, 18, 1, 0, 0, 0, 0},           // immutable list holding null
            {PlainValue.MARK, 18, 1, 0, 0, 0, 19, 0, 0, 0, 0}, // immutable list holding a map
            {PlainValue.MARK, 19, 1, 0, 0, 0, 1, 16, 0, 0, 0, 0}, // map holding a list
            {PlainValue.MARK, 19, 1, 0, 0, 0, 1},           // map entry without its value
            {PlainValue.MARK, 20, 1, 0, 0, 0, 12, 0, 0, 0, 0, 1}, // map keyed by a byte array
            {PlainValue.MARK, 19, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x3f, 0, 0}, // 1 G
            {PlainValue.MARK, 24, 3, 1, 0, 0, 0},           // a lambda's class named by an int
            {PlainValue.MARK, 24, 10, 1, 0, 0, 0},          // a lambda's class name cut short
            {PlainValue.MARK, 25, 3, 1, 0, 0, 0},           // an exception's class named by an int
            // an immutable map with a key twice, then a duration of 0 s and 10^9 ns
            {PlainValue.MARK, 27, 2, 0, 0, 0, 3, 1, 0, 0, 0, 3, 2, 0, 0, 0, 3, 1, 0, 0, 0, 3, 3,
                0, 0, 0},
            {PlainValue.MARK, 26, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xca, (byte) 0x9a, 0x3b},
        };
        for (byte[] b : bad) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Serialization.deserialize(b), Arrays.toString(b));
            assertTrue(e.getMessage().contains("not a value this library serialized"),
                    e.getMessage());
        }
        assertSame(Boolean.TRUE, Serialization.deserialize(new byte[] {PlainValue.MARK, 1}));
    }
}
