package multiprocessing.internal.reduction;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

import org.apache.fory.context.ReadContext;
import org.apache.fory.context.WriteContext;
import org.apache.fory.resolver.TypeResolver;
import org.apache.fory.serializer.collection.MapSerializer;

/**
 * Sends a {@link TreeMap} or a {@link ConcurrentSkipListMap}, and a view of one ({@code subMap},
 * {@code headMap}, {@code tailMap}, {@code descendingMap}), as its entries and its order (its
 * comparator), read back as a map of the backing map's kind, keeping its own reference id.
 *
 * <p>A view is sent as a copy, as a list view is (see {@link SubListCopySerializer}): Fory
 * writes it field by field, the whole map under it with it: ten entries of a map of 100,000
 * sent 982 KB, and the receiver kept the 100,000 under a view of ten (attack 56). The JDK's
 * own serialization does the same. A skip list and its views are copied before they are
 * written, so that the size written and the entries agree while others change the map (they
 * are weakly consistent). The two maps themselves are this serializer's because Fory's own
 * read their comparator wrong (see {@link #dropStrayReferences}).
 */
final class SortedMapSerializer extends MapSerializer<Map<?, ?>> {
    /** The views of a ConcurrentSkipListMap, read back as one. */
    private static final List<Class<?>> SKIP_LIST_MAP_VIEWS = List.of(
            new ConcurrentSkipListMap<>(Map.of(1, 1)).headMap(1).getClass());
    /** The two maps and their views. */
    static final List<Class<?>> CLASSES = List.of(
            new TreeMap<>(Map.of(1, 1)).headMap(1).getClass(),
            new TreeMap<>(Map.of(1, 1)).descendingMap().getClass(),
            SKIP_LIST_MAP_VIEWS.get(0),
            TreeMap.class,
            ConcurrentSkipListMap.class);

    private final boolean skipList;

    @SuppressWarnings({"unchecked", "rawtypes"})
    SortedMapSerializer(TypeResolver resolver, Class<?> type) {
        super(resolver, (Class) type);
        skipList = SKIP_LIST_MAP_VIEWS.contains(type) || type == ConcurrentSkipListMap.class;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private Map<?, ?> newMap(Comparator<?> order) {
        return skipList ? new ConcurrentSkipListMap(order) : new TreeMap(order);
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Map onMapWrite(WriteContext context, Map<?, ?> view) {
        Comparator<?> order = ((SortedMap<?, ?>) view).comparator();
        Map written = view;
        if (view.getClass() != TreeMap.class) {
            written = newMap(order);
            written.putAll(view);
        }
        written = super.onMapWrite(context, written); // its size
        context.writeRef(order);
        return written;
    }

    @Override
    public Map newMap(ReadContext context, boolean hasGenerics) {
        int own = ownReferenceId(context);
        setNumElements(readMapSize(context, context.getBuffer(), hasGenerics));
        Map<?, ?> map = newMap((Comparator<?>) context.readRef());
        dropStrayReferences(context, own);
        context.reference(map);
        return map;
    }

    /**
     * The reference id Fory preserved for the object about to be read, or -1 if it preserved
     * none (then nothing is popped: reference() does as Fory's own serializers do).
     */
    static int ownReferenceId(ReadContext context) {
        return context.hasPreservedRefId() ? context.lastPreservedRefId() : -1;
    }

    /**
     * Fory's read of a serializable lambda leaves the lambda's reference id on the stack that
     * {@code reference()} pops: a map or set made after its lambda comparator was read took the
     * lambda's id, and a second mention of the comparator in the message read back as the map,
     * silently, or failed (attack 62; Fory's own TreeMap, TreeSet and PriorityQueue serializers
     * did the same). The ids above {@code own}, the one preserved for the object being read,
     * are popped, each keeping its object, so that the object gets its own.
     */
    static void dropStrayReferences(ReadContext context, int own) {
        while (own >= 0 && context.hasPreservedRefId() && context.lastPreservedRefId() != own) {
            context.reference(context.getReadRef(context.lastPreservedRefId()));
        }
    }

    @Override
    public Map<?, ?> onMapRead(Map map) {
        return map;
    }
}
