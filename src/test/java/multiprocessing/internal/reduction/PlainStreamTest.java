package multiprocessing.internal.reduction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

/** The payload stream a child reads without Fory: what it writes, what it refuses, bad bytes. */
class PlainStreamTest {
    interface Source extends Supplier<Object>, Serializable {}

    record Point(int x, int y) implements Serializable {}

    private static Object roundTrip(Object value) {
        byte[] data = Serialization.serializeForStart(value, Handles.collecting());
        return Serialization.deserializeAtStart(data, Handles.received(new int[0]));
    }

    private static byte format(Object value) {
        return Serialization.serializeForStart(value, Handles.collecting())[0];
    }

    @Test
    void aLambdaAndTheValuesItCapturesArriveWhole() {
        String text = "zwölf \u00e9t\u00e9 \ud83d\ude00";
        int[] ints = {1, -2, Integer.MAX_VALUE};
        long[] longs = {Long.MIN_VALUE, 0};
        double[] doubles = {Math.PI, Double.NaN};
        byte[] bytes = {0, -1, 127};
        List<Object> list = List.of("a", 7, List.of(8L));
        Source inner = () -> "inner " + text.length();
        Source outer = () -> Arrays.asList(text, ints.clone(), longs.clone(), doubles.clone(),
                bytes.clone(), list, inner.get(), (short) 3, (byte) 4, 'c', 2.5f, true, null);
        assertEquals('P', format(outer));
        List<?> got = (List<?>) ((Source) roundTrip(outer)).get();
        assertEquals(text, got.get(0));
        assertArrayEquals(ints, (int[]) got.get(1));
        assertArrayEquals(longs, (long[]) got.get(2));
        assertArrayEquals(doubles, (double[]) got.get(3));
        assertArrayEquals(bytes, (byte[]) got.get(4));
        assertEquals(list, got.get(5));
        assertEquals("inner " + text.length(), got.get(6));
        assertEquals(List.of((short) 3, (byte) 4, 'c', 2.5f, true), got.subList(7, 12));
        assertNull(got.get(12));
    }

    /** The program's list of files or map of settings, captured: plain, and as Fory delivers. */
    @Test
    void listsAndMapsOfPlainValuesArriveWithoutFory() {
        ArrayList<Object> files = new ArrayList<>(List.of("a.txt", "b.txt"));
        files.add(null);
        java.util.HashMap<String, Object> settings = new java.util.HashMap<>();
        settings.put("n", 4);
        settings.put("files", files);
        java.util.LinkedHashMap<String, Integer> ordered = new java.util.LinkedHashMap<>();
        for (int i = 9; i >= 0; i--) {
            ordered.put("k" + i, i);
        }
        java.util.Map<String, Integer> fixed = java.util.Map.of("x", 1, "y", 2);
        Source s = () -> Arrays.asList(files, settings, ordered, fixed, java.util.Map.of());
        assertEquals('P', format(s));
        List<?> got = (List<?>) ((Source) roundTrip(s)).get();
        assertEquals(files, got.get(0));
        assertEquals(ArrayList.class, got.get(0).getClass());
        assertEquals(settings, got.get(1));
        assertSame(got.get(0), ((java.util.Map<?, ?>) got.get(1)).get("files"), "one list");
        assertEquals(new ArrayList<>(ordered.keySet()),
                new ArrayList<>(((java.util.Map<?, ?>) got.get(2)).keySet()), "its order");
        assertEquals(fixed, got.get(3));
        assertThrows(UnsupportedOperationException.class,
                () -> ((java.util.Map<Object, Object>) got.get(3)).put("z", 3));
        assertEquals(java.util.Map.of(), got.get(4));
        // A subclass, and a list holding what is not plain: Fory's.
        ArrayList<Object> sub = new ArrayList<>() { };
        ArrayList<Object> holdsPoint = new ArrayList<>(List.of(new Point(1, 2)));
        Source other = () -> List.of(sub, holdsPoint).size();
        assertEquals('F', format(other));
    }

    /**
     * Shared lists: one the writer numbers is looked at and written once however often it is
     * reached (a list of two references to one list, 40 deep, took the check 2^40 steps); an
     * immutable one reached twice goes to Fory, which keeps it once.
     */
    @Test
    void sharedListsAreLookedAtOnceAndImmutableOnesSharedGoToFory() {
        ArrayList<Object> level = new ArrayList<>(List.of(0));
        for (int i = 0; i < 40; i++) {
            ArrayList<Object> next = new ArrayList<>();
            next.add(level);
            next.add(level);
            level = next;
        }
        ArrayList<Object> top = level;
        Source numbered = () -> top;
        assertEquals('P', format(numbered));
        List<?> got = (List<?>) ((Source) roundTrip(numbered)).get();
        assertSame(got.get(0), got.get(1), "one list, as Fory delivers it");
        Object immutable = List.of(1);
        java.util.Map<String, Object> map = java.util.Map.of("m", 1);
        for (int i = 0; i < 40; i++) {
            immutable = List.of(immutable, immutable);
            map = java.util.Map.of("a", map, "b", map);
        }
        Object list40 = immutable;
        java.util.Map<String, Object> map40 = map;
        assertEquals('F', format((Source) () -> list40));
        assertEquals('F', format((Source) () -> map40));
        java.util.Map<?, ?> back = (java.util.Map<?, ?>) ((Source) roundTrip(
                (Source) () -> map40)).get();
        assertSame(back.get("a"), back.get("b"));
    }

    /**
     * A lambda's captured values are checked at the depth they are written at: a list nested
     * just past the bound beside a lock (whose reducer counts what it sends) goes to Fory whole,
     * where the check from depth 0 let it through and the writer then refused it midway.
     */
    @Test
    void capturedValuesAreCheckedAtTheDepthTheyAreWrittenAt() {
        ArrayList<Object> deep = new ArrayList<>();
        ArrayList<Object> inner = deep;
        for (int i = 0; i < PlainStream.MAX_DEPTH - 1; i++) {
            ArrayList<Object> next = new ArrayList<>();
            inner.add(next);
            inner = next;
        }
        multiprocessing.synchronize.Lock lock = new multiprocessing.synchronize.Lock();
        Source s = () -> List.of(lock, deep).size();
        assertEquals('F', format(s));
        assertEquals(2, ((Source) roundTrip(s)).get());
    }

    @Test
    void anObjectCapturedTwiceArrivesOnce() {
        Source shared = () -> "shared";
        // Two lambdas that each capture it: written once, then as a reference back to it.
        Source a = () -> shared;
        Source b = () -> shared;
        Source both = () -> new Object[] {a.get(), b.get(), a, b};
        assertEquals('P', format(both));
        Object[] got = (Object[]) ((Source) roundTrip(both)).get();
        assertSame(got[0], got[1]);
        assertEquals("shared", ((Source) got[0]).get());
        assertEquals(got[0], ((Source) got[2]).get());
    }

    @Test
    void valuesArriveExactlyAsForyDeliversThem() {
        String loneSurrogate = "a\uD800b";
        double nan = Double.longBitsToDouble(0x7ff8_0000_0000_1234L);
        float nanF = Float.intBitsToFloat(0x7fc0_0123);
        double[] doubles = {nan, -0.0};
        int[] shared = {1, 2};
        Source a = () -> shared;
        Source b = () -> shared;
        Source all = () -> new Object[] {loneSurrogate, nan, nanF, doubles, a.get(), b.get()};
        assertEquals('P', format(all));
        Object[] got = (Object[]) ((Source) roundTrip(all)).get();
        assertEquals(loneSurrogate, got[0]);
        assertEquals(0x7ff8_0000_0000_1234L, Double.doubleToRawLongBits((Double) got[1]));
        assertEquals(0x7fc0_0123, Float.floatToRawIntBits((Float) got[2]));
        assertEquals(0x7ff8_0000_0000_1234L, Double.doubleToRawLongBits(((double[]) got[3])[0]));
        assertEquals(Double.doubleToRawLongBits(-0.0),
                Double.doubleToRawLongBits(((double[]) got[3])[1]));
        assertSame(got[4], got[5], "an array two lambdas capture arrives once");
    }

    @Test
    void whatForyWouldRefuseOrTreatOtherwiseGoesToFory() {
        // A list with a null in it (Stream.toList allows one, List.of does not).
        List<String> withNull = java.util.stream.Stream.of("x", (String) null).toList();
        Source capturesIt = () -> withNull;
        assertFalse(PlainStream.plain(capturesIt));
        // Nested deeper than Fory's bound: written by Fory, which refuses it the same way.
        Source deep = () -> 0;
        for (int i = 0; i < PlainStream.MAX_DEPTH + 5; i++) {
            Source inner = deep;
            deep = () -> inner.get();
        }
        assertFalse(PlainStream.plain(deep));
        try {
            assertEquals('F', format(deep), "Fory writes it");
        } catch (IllegalArgumentException refused) {
            assertTrue(refused.getMessage().startsWith("cannot send"), refused.getMessage());
        }
        assertEquals('F', format(capturesIt));
    }

    @Test
    void aReducerThatFailsIsReportedAsAnyWriteReportsIt() throws Exception {
        try (multiprocessing.connection.Pipe pipe = multiprocessing.connection.Pipe.open()) {
            multiprocessing.connection.Connection end = pipe.right();
            end.close();
            Source capturesAClosedConnection = () -> end;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Serialization.serializeForStart(capturesAClosedConnection,
                            Handles.spawning()));
            assertTrue(e.getMessage().startsWith("cannot send"), e.getMessage());
        }
    }

    @Test
    void whatItDoesNotWriteGoesToForyWhole() {
        Point point = new Point(3, 4);
        ArrayList<Object> holdsARecord = new ArrayList<>(List.of("x", point));
        Source capturesARecord = () -> point;
        Source capturesAListOfOne = () -> holdsARecord;
        Source deep = () -> capturesARecord.get();
        for (Source s : List.of(capturesARecord, capturesAListOfOne, deep)) {
            assertEquals('F', format(s), "refused, so written by Fory");
            assertEquals(s.get(), ((Source) roundTrip(s)).get());
        }
        assertEquals('F', format(point));
        assertEquals(point, roundTrip(point));
        assertFalse(PlainStream.plain(capturesARecord));
        assertTrue(PlainStream.plain((Source) () -> 1));
    }

    @Test
    void badBytesGetAClearErrorNotAHangOrAHugeAllocation() {
        Source s = () -> "abc";
        byte[] good = Serialization.serializeForStart(s, Handles.collecting());
        Handles none = Handles.received(new int[0]);
        for (int cut = 1; cut < good.length; cut += 7) {
            byte[] torn = Arrays.copyOf(good, cut);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Serialization.deserializeAtStart(torn, none));
            assertTrue(e.getMessage().contains("received"), e.getMessage());
        }
        byte[] trailing = Arrays.copyOf(good, good.length + 1);
        assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(trailing, none));
        // A string whose length says 2 GiB.
        byte[] huge = {'P', 10, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 'a'};
        assertTrue(assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(huge, none)).getMessage()
                .contains("announce"));
        assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(new byte[] {'P', 99}, none));
        // An immutable map holding null, and one with a key twice (Map.of refuses both).
        assertTrue(assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(new byte[] {'P', 23, 0, 0, 0, 1, 0, 0},
                        none)).getMessage().contains("holding null"));
        assertTrue(assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(new byte[] {'P', 23, 0, 0, 0, 2,
                    3, 0, 0, 0, 1, 3, 0, 0, 0, 1, 3, 0, 0, 0, 1, 3, 0, 0, 0, 2}, none))
                .getMessage().contains("a key twice"));
        // A map keyed by a list that holds itself: its hash recurses while the map is read.
        assertTrue(assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(new byte[] {'P', 21, 0, 0, 0, 1,
                    20, 0, 0, 0, 1, 18, 0, 0, 0, 1, 3, 0, 0, 0, 5}, none))
                .getMessage().contains("holds itself"));
        // A list announcing more elements than bytes follow.
        assertTrue(assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(new byte[] {'P', 20, 0x7f, 0, 0, 0}, none))
                .getMessage().contains("announce"));
        assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(new byte[] {'X', 0}, none));
        assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(new byte[0], none));
    }

    @Test
    void onlyTheLibrarysReducedClassesAndAllowedClassesAreLoaded() {
        Handles none = Handles.received(new int[0]);
        // A reduced object that names a class of the JDK's: refused before it is loaded.
        byte[] notALeaf = withString((byte) 16, "multiprocessing.internal.managers.ProxyHandler");
        assertTrue(assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(notALeaf, none)).getMessage()
                .contains("not one a payload may hold"));
        byte[] notReduced = withString((byte) 16, "java.lang.Thread");
        assertTrue(assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(notReduced, none)).getMessage()
                .contains("not one a payload may hold"));
        // A lambda whose capturing class the policy denies.
        byte[] denied = withString((byte) 17, "java.lang.ProcessBuilder");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(denied, none));
        assertTrue(e.getMessage().contains("polic"), e.getMessage());
        // A proxy: of no interface, of a count past the bytes, of an interface the policy
        // denies (refused before it is loaded, before any handler is read).
        assertTrue(assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(new byte[] {'P', 19, 0, 0, 0, 0}, none))
                .getMessage().contains("no interface"));
        assertTrue(assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(new byte[] {'P', 19, 0x7f, 0, 0, 0}, none))
                .getMessage().contains("announce"));
        byte[] oneName = withString((byte) 19, "java.lang.Runtime");
        byte[] deniedInterface = new byte[oneName.length + 4];
        deniedInterface[0] = 'P';
        deniedInterface[1] = 19;
        deniedInterface[5] = 1; // one interface
        System.arraycopy(oneName, 2, deniedInterface, 6, oneName.length - 2);
        e = assertThrows(IllegalStateException.class,
                () -> Serialization.deserializeAtStart(deniedInterface, none));
        assertTrue(e.getMessage().contains("polic"), e.getMessage());
    }

    /** 'P', a tag, then a string as the stream writes one (UTF-16 units; nothing after it). */
    private static byte[] withString(byte tag, String s) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(2 + 4 + 2 * s.length());
        b.put((byte) 'P').put(tag).putInt(s.length());
        for (char c : s.toCharArray()) {
            b.putChar(c);
        }
        return b.array();
    }

    @Test
    void aPayloadThatHoldsAChannelSaysSoAndArrivesAsAnyPlainOne() throws Exception {
        multiprocessing.synchronize.Event event = new multiprocessing.synchronize.Event();
        Source noChannel = () -> event.isSet() + " " + List.of(1, 2);
        byte[] data = Serialization.serializeForStart(noChannel, Handles.collecting());
        assertTrue(Serialization.startsWithoutSerializer(data), "an event sends no object");
        try (multiprocessing.connection.Pipe pipe = multiprocessing.connection.Pipe.open()) {
            multiprocessing.connection.Connection end = pipe.right();
            Source channel = () -> end;
            Handles sent = Handles.collecting();
            byte[] withChannel = Serialization.serializeForStart(channel, sent);
            assertEquals('C', withChannel[0], "still plain");
            assertFalse(Serialization.startsWithoutSerializer(withChannel),
                    "a connection carries objects");
            int[] fds = sent.fds();
            assertEquals(1, fds.length);
            int dup = multiprocessing.internal.posix.Posix.dup(fds[0]);
            Source got = (Source) Serialization.deserializeAtStart(withChannel,
                    Handles.received(new int[] {dup}));
            try (multiprocessing.connection.Connection rebuilt =
                    (multiprocessing.connection.Connection) got.get()) {
                assertEquals(dup, rebuilt.fileno(), "the received descriptor");
            }
        }
        assertFalse(Serialization.startsWithoutSerializer(
                Serialization.serializeForStart(new Point(1, 2), Handles.collecting())),
                "a payload Fory writes");
        for (String name : Serialization.CHANNEL_CLASSES) {
            assertTrue(PlainStream.LEAVES.contains(name), name + " is a leaf");
        }
    }

    @Test
    void everyReducedClassALambdaMayCaptureIsALibraryClassWithAReducer() throws Exception {
        assertTrue(PlainStream.LEAVES.contains("multiprocessing.synchronize.Lock"));
        for (String carrying : List.of("multiprocessing.Process", "multiprocessing.pool.Worker",
                "multiprocessing.internal.managers.ProxyHandler")) {
            assertFalse(PlainStream.LEAVES.contains(carrying), carrying + " holds the program's");
        }
        for (String name : PlainStream.LEAVES) {
            Class<?> type = Class.forName(name, true, PlainStream.class.getClassLoader());
            assertInstanceOf(Reducer.class, Serialization.reducerOf(type), name);
        }
    }
}
