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
 * Sends a sorted map's view ({@code subMap}, {@code headMap}, {@code tailMap},
 * {@code descendingMap} of a {@link TreeMap} or a {@link ConcurrentSkipListMap}) as its
 * entries and its order (its comparator), read back as a map of the backing map's kind: a copy,
 * as a list view is sent (see {@link SubListCopySerializer}).
 *
 * <p>Fory writes such a view field by field, the whole map under it with it: ten entries of a
 * map of 100,000 sent 982 KB, and the receiver kept the 100,000 under a view of ten (attack
 * 56). The JDK's own serialization does the same. The view is copied before it is written, so
 * that its size and its entries agree while others change the map (a skip list's views are
 * weakly consistent).
 */
final class SortedMapViewCopySerializer extends MapSerializer<Map<?, ?>> {
    /** The views of a ConcurrentSkipListMap, read back as one. */
    private static final List<Class<?>> SKIP_LIST_MAP_VIEWS = List.of(
            new ConcurrentSkipListMap<>(Map.of(1, 1)).headMap(1).getClass());
    /**
     * The views of a TreeMap, read back as a TreeMap, and of a ConcurrentSkipListMap; and the
     * two maps themselves, whose own serializers in Fory read a lambda comparator wrong (see
     * {@link #newMap(ReadContext, boolean)}).
     */
    static final List<Class<?>> CLASSES = List.of(
            new TreeMap<>(Map.of(1, 1)).headMap(1).getClass(),
            new TreeMap<>(Map.of(1, 1)).descendingMap().getClass(),
            SKIP_LIST_MAP_VIEWS.get(0),
            TreeMap.class,
            ConcurrentSkipListMap.class);

    private final boolean skipList;

    @SuppressWarnings({"unchecked", "rawtypes"})
    SortedMapViewCopySerializer(TypeResolver resolver, Class<?> type) {
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
        Map copy = newMap(order);
        copy.putAll(view);
        Map written = super.onMapWrite(context, copy); // its size
        context.writeRef(order);
        return written;
    }

    @Override
    public Map newMap(ReadContext context, boolean hasGenerics) {
        int own = context.lastPreservedRefId();
        setNumElements(readMapSize(context, context.getBuffer(), hasGenerics));
        Map<?, ?> map = newMap((Comparator<?>) context.readRef());
        dropStrayReferences(context, own);
        context.reference(map);
        return map;
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
        while (context.hasPreservedRefId() && context.lastPreservedRefId() != own) {
            context.reference(context.getReadRef(context.lastPreservedRefId()));
        }
    }

    @Override
    public Map<?, ?> onMapRead(Map map) {
        return map;
    }
}
