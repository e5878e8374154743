package multiprocessing.internal.reduction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The JDK's immutable lists arrive as they were sent: {@code Stream.toList()}'s may hold nulls
 * and share {@code List.of}'s class, which Fory rebuilt with {@code List.of}, so such a list was
 * written and then could not be read (the message lost).
 */
@ExtendWith(NoLeftoverSharedMemory.class)
class ImmutableListsTest {

    record Holder(String name, List<String> items) implements Serializable {}

    static Object roundTrip(Object value) {
        return Serialization.deserialize(Serialization.serialize(value));
    }

    @Test
    void aStreamListHoldingNullsArrivesWithThemAndStaysImmutable() {
        for (int size = 1; size <= 5; size++) {
            String[] items = new String[size];
            for (int i = 0; i < size; i += 2) {
                items[i] = "item" + i;
            }
            List<String> sent = Arrays.stream(items).toList();
            @SuppressWarnings("unchecked")
            List<String> got = (List<String>) roundTrip(sent);
            assertEquals(sent, got);
            assertThrows(UnsupportedOperationException.class, () -> got.add("more"));
            if (size > 1) {
                assertSame(sent.getClass(), got.getClass());
                assertEquals(1, got.indexOf(null));
            }
        }
    }

    @Test
    void aSubListAFieldAndANestedListHoldingNullsArrive() {
        List<String> withNull = Stream.of("a", null, "c", null).toList();
        assertEquals(withNull.subList(1, 3), roundTrip(withNull.subList(1, 3)));
        Holder holder = new Holder("h", withNull);
        assertEquals(holder, roundTrip(holder));
        List<Object> outer = new ArrayList<>(List.of(withNull, List.of(1, 2)));
        outer.add(null);
        assertEquals(outer, roundTrip(outer));
    }

    /**
     * A view of a few items of a long list is sent as those items, a copy, and arrives as an
     * ArrayList: Fory sent the whole list under the view, with the view's bounds (review 54),
     * and printed a warning on the program's standard output.
     */
    @Test
    void aSubListOfALongListIsSentAsItsItemsOnly() {
        List<Integer> longList = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            longList.add(i);
        }
        List<List<Integer>> views = List.of(longList.subList(2, 7),
                new java.util.LinkedList<>(longList.subList(0, 1000)).subList(2, 7),
                Arrays.asList(longList.toArray(Integer[]::new)).subList(2, 7));
        for (List<Integer> view : views) {
            byte[] bytes = Serialization.serialize(view);
            assertTrue(bytes.length < 200, bytes.length + " bytes for 5 items");
            Object got = Serialization.deserialize(bytes);
            assertEquals(List.of(2, 3, 4, 5, 6), got);
            assertSame(ArrayList.class, got.getClass());
        }
        // A reversed view was refused: a manager's list proxy's reversed() failed.
        for (List<Integer> reversed : List.of(longList.subList(0, 5).reversed(),
                new ArrayList<>(longList.subList(0, 5)).reversed(),
                new java.util.LinkedList<>(longList.subList(0, 5)).reversed(),
                java.util.Collections.unmodifiableList(
                        new java.util.LinkedList<>(longList.subList(0, 5))).reversed())) {
            assertEquals(List.of(4, 3, 2, 1, 0), roundTrip(reversed));
        }
        Holder inField = new Holder("h", List.of("a", "b", "c").stream()
                .collect(java.util.stream.Collectors.toCollection(ArrayList::new)).subList(1, 3));
        assertEquals(inField, roundTrip(inField));
    }

    /**
     * A view of a few entries of a large sorted map is sent as those entries with the view's
     * order, a copy, and arrives as a map of the backing map's kind: Fory sent the whole map
     * under the view (982 KB for 10 entries of 100,000) and the receiver kept it (attack 56).
     */
    @Test
    void aSortedMapViewIsSentAsItsEntriesInItsOrder() {
        java.util.TreeMap<Integer, String> tree = new java.util.TreeMap<>();
        for (int i = 0; i < 100_000; i++) {
            tree.put(i, "v" + i);
        }
        java.util.concurrent.ConcurrentSkipListMap<Integer, String> skipList =
                new java.util.concurrent.ConcurrentSkipListMap<>(tree);
        List<java.util.SortedMap<Integer, String>> views = List.of(tree.subMap(5, 10),
                tree.headMap(5), tree.tailMap(99_995), tree.descendingMap().headMap(99_994),
                tree.descendingMap().subMap(9, 4), skipList.subMap(5, 10),
                skipList.descendingMap().headMap(99_994));
        for (java.util.SortedMap<Integer, String> view : views) {
            byte[] bytes = Serialization.serialize(view);
            assertTrue(bytes.length < 300, bytes.length + " bytes for " + view);
            @SuppressWarnings("unchecked")
            java.util.SortedMap<Integer, String> got =
                    (java.util.SortedMap<Integer, String>) Serialization.deserialize(bytes);
            assertEquals(new ArrayList<>(view.entrySet()), new ArrayList<>(got.entrySet()));
            assertSame(view instanceof java.util.concurrent.ConcurrentSkipListMap<?, ?>
                    || view.getClass().getName().contains("ConcurrentSkipListMap")
                    ? java.util.concurrent.ConcurrentSkipListMap.class : java.util.TreeMap.class,
                    got.getClass());
            got.put(7, "new"); // placed in the view's order: its comparator came too
            List<Integer> keys = new ArrayList<>(got.keySet());
            List<Integer> ordered = new ArrayList<>(keys);
            ordered.sort(view.comparator());
            assertEquals(ordered, keys);
        }
        // A lambda comparator mentioned again in the same message is that comparator: it read
        // back as the map (or failed with ClassCastException) where the map was read first
        // (attack 62; Fory's own TreeMap serializer did so too).
        java.util.Comparator<String> byLength = (java.util.Comparator<String> & Serializable)
                (p, q) -> p.length() != q.length() ? p.length() - q.length() : p.compareTo(q);
        java.util.TreeMap<String, Integer> words = new java.util.TreeMap<>(byLength);
        words.put("ccc", 3);
        words.put("a", 1);
        for (List<?> sent : List.of(List.of(words, byLength), List.of(words, words),
                List.of(words, words.headMap("zzzz"), byLength),
                List.of(words.headMap("zzzz"), words.tailMap("a"), byLength))) {
            List<?> got = (List<?>) roundTrip(sent);
            Object comparator = ((java.util.SortedMap<?, ?>) got.get(0)).comparator();
            for (Object item : got) {
                if (item instanceof java.util.SortedMap<?, ?> map) {
                    assertSame(comparator, map.comparator());
                    assertEquals(List.of("a", "ccc"), new ArrayList<>(map.keySet()));
                } else {
                    assertSame(comparator, item);
                }
            }
        }
        // So with the collections Fory read the same way (their comparator first).
        java.util.TreeSet<String> set = new java.util.TreeSet<>(byLength);
        java.util.concurrent.ConcurrentSkipListSet<String> skipSet =
                new java.util.concurrent.ConcurrentSkipListSet<>(byLength);
        java.util.PriorityQueue<String> queue = new java.util.PriorityQueue<>(byLength);
        java.util.concurrent.PriorityBlockingQueue<String> blocking =
                new java.util.concurrent.PriorityBlockingQueue<>(4, byLength);
        for (java.util.Collection<String> ordered : List.<java.util.Collection<String>>of(set,
                skipSet, queue, blocking)) {
            ordered.addAll(List.of("ccc", "a", "bb"));
            List<?> got = (List<?>) roundTrip(List.of(ordered, byLength, ordered));
            assertSame(ordered.getClass(), got.get(0).getClass());
            assertSame(got.get(0), got.get(2));
            java.util.Collection<?> back = (java.util.Collection<?>) got.get(0);
            assertEquals(3, back.size());
            Object comparator = back instanceof java.util.SortedSet<?> s ? s.comparator()
                    : back instanceof java.util.PriorityQueue<?> q ? q.comparator()
                    : ((java.util.concurrent.PriorityBlockingQueue<?>) back).comparator();
            assertSame(comparator, got.get(1), ordered.getClass() + "'s comparator");
            if (back instanceof java.util.SortedSet<?>) {
                assertEquals(List.of("a", "bb", "ccc"), new ArrayList<>(back));
            } else {
                assertEquals("a", back instanceof java.util.PriorityQueue<?> q ? q.peek()
                        : ((java.util.concurrent.PriorityBlockingQueue<?>) back).peek());
            }
        }
        // A view that holds itself arrives holding itself.
        java.util.TreeMap<Integer, Object> selfish = new java.util.TreeMap<>();
        java.util.SortedMap<Integer, Object> view = selfish.headMap(10);
        selfish.put(1, view);
        java.util.SortedMap<?, ?> got = (java.util.SortedMap<?, ?>) roundTrip(view);
        assertSame(got, got.get(1));
    }

    /**
     * A list that holds itself arrives holding itself, as an ArrayList does (and Python's
     * pickle keeps a list's cycles): a CopyOnWriteArrayList, an Arrays.asList list and the
     * list views sent as copies arrived with null in its place, silently (attack 56).
     */
    @Test
    void listsThatHoldThemselvesArriveHoldingThemselves() {
        java.util.concurrent.CopyOnWriteArrayList<Object> cow =
                new java.util.concurrent.CopyOnWriteArrayList<>(List.of(1, "two"));
        cow.add(cow);
        Object[] array = new Object[3];
        List<Object> asList = Arrays.asList(array);
        array[0] = 1;
        array[1] = List.of("holds", asList);
        array[2] = asList;
        List<Object> backing = new ArrayList<>(List.of(1, 2, 3));
        List<Object> sub = backing.subList(0, 2);
        backing.set(1, sub);
        List<Object> forwards = new ArrayList<>(List.of(1));
        List<Object> reversed = forwards.reversed();
        forwards.add(reversed);
        for (List<Object> sent : List.of(cow, asList, sub, reversed)) {
            List<?> got = (List<?>) roundTrip(sent);
            assertEquals(sent.size(), got.size());
            assertEquals(1, got.get(sent == reversed ? 1 : 0));
            Object last = got.get(sent == reversed ? 0 : got.size() - 1);
            // (by class: a copy-on-write list holding itself has no toString)
            assertSame(got, last, () -> sent.getClass() + " arrived holding "
                    + (last == null ? "null" : last.getClass()));
        }
        List<?> gotAsList = (List<?>) roundTrip(asList);
        assertSame(gotAsList, ((List<?>) gotAsList.get(1)).get(1));
        assertSame(ListBeforeItemsSerializer.ARRAYS_AS_LIST, gotAsList.getClass());
        assertThrows(UnsupportedOperationException.class, () -> ((List<Object>) gotAsList).add(4));
        assertSame(java.util.concurrent.CopyOnWriteArrayList.class, roundTrip(cow).getClass());
    }

    /** A class with custom JDK serialization, new to this JVM's serializer. */
    static final class CustomlyWritten implements Serializable {
        private static final long serialVersionUID = 1L;
        int n = 7;

        private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
            out.defaultWriteObject();
        }

        private void readObject(java.io.ObjectInputStream in)
                throws java.io.IOException, ClassNotFoundException {
            in.defaultReadObject();
        }
    }

    /**
     * The serializer prints nothing on the program's standard output: Fory printed a warning
     * there the first time it met a class with custom JDK serialization, or a list view
     * (review 54, attack 55).
     */
    @Test
    void theSerializerPrintsNothingOnStandardOutput() {
        java.io.PrintStream was = System.out;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(out, true));
        Object got;
        try {
            got = roundTrip(new CustomlyWritten());
        } finally {
            System.setOut(was);
        }
        assertEquals(7, ((CustomlyWritten) got).n);
        assertEquals("", out.toString());
        // CopyOnWriteArrayList's views were refused (attack 55).
        assertEquals(List.of(2, 1), roundTrip(
                new java.util.concurrent.CopyOnWriteArrayList<>(List.of(0, 1, 2, 3))
                        .subList(1, 3).reversed()));
    }

    @Test
    void listOfStillArrivesAsListOfAndAnEmptyOneToo() {
        for (List<Integer> sent : List.of(List.<Integer>of(), List.of(1), List.of(1, 2),
                List.of(1, 2, 3), List.of(1, 2, 3, 4).subList(1, 3))) {
            Object got = roundTrip(sent);
            assertEquals(sent, got);
            assertSame(List.copyOf(sent).getClass(), got.getClass());
        }
    }

    @Test
    void aStreamListWithANullCrossesAPipe() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection left = pipe.left();
            Connection right = pipe.right();
            List<String> sent = Stream.of("x", null).toList();
            left.send(sent);
            left.send("after");
            assertEquals(sent, right.recv());
            assertEquals("after", right.recv());
        }
    }
}
