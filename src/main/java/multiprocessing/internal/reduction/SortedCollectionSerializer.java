package multiprocessing.internal.reduction;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.ConcurrentModificationException;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.PriorityBlockingQueue;

import org.apache.fory.context.ReadContext;
import org.apache.fory.context.WriteContext;
import org.apache.fory.resolver.TypeResolver;
import org.apache.fory.serializer.collection.CollectionSerializer;

/**
 * Sends a collection ordered by a comparator ({@link TreeSet}, {@link ConcurrentSkipListSet},
 * {@link PriorityQueue}, {@link PriorityBlockingQueue}) as its size, its comparator and its
 * items, and reads it back keeping its own reference id: Fory's serializers for them read the
 * comparator before they make the collection, and Fory's read of a serializable lambda leaves
 * the lambda's id where the collection then took it, so that a second mention of the comparator
 * in the message read back as the collection, silently (attack 62). See
 * {@link SortedMapSerializer}, which does the same for sorted maps.
 */
final class SortedCollectionSerializer extends CollectionSerializer<Collection<?>> {
    static final List<Class<?>> CLASSES = List.of(TreeSet.class, ConcurrentSkipListSet.class,
            PriorityQueue.class, PriorityBlockingQueue.class);

    @SuppressWarnings({"unchecked", "rawtypes"})
    SortedCollectionSerializer(TypeResolver resolver, Class<?> type) {
        super(resolver, (Class) type);
    }

    private static Comparator<?> comparatorOf(Collection<?> value) {
        if (value instanceof SortedSet<?> sorted) {
            return sorted.comparator();
        } else if (value instanceof PriorityQueue<?> queue) {
            return queue.comparator();
        }
        return ((PriorityBlockingQueue<?>) value).comparator();
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Collection onCollectionWrite(WriteContext context, Collection<?> value) {
        // One snapshot, so that its size and its items agree while others change a concurrent
        // one. An unsynchronized one changed by another thread meanwhile makes its iterator
        // throw ConcurrentModificationException, or hand out a null (a data race; none of
        // these holds a null): that is refused here, where its toArray() sent the null and the
        // receiver failed on it (attack 64, review 59).
        Collection<?> items;
        if (value instanceof ConcurrentSkipListSet<?> || value instanceof PriorityBlockingQueue<?>) {
            items = Arrays.asList(value.toArray());
        } else {
            List<Object> copy = new ArrayList<>(value.size());
            for (Object item : value) {
                if (item == null && !(value instanceof TreeSet<?>)) {
                    throw new ConcurrentModificationException("a " + value.getClass().getName()
                            + " changed by another thread while it was sent");
                }
                copy.add(item);
            }
            items = copy;
        }
        Collection written = super.onCollectionWrite(context, (Collection) items);
        context.writeRef(comparatorOf(value));
        return written;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Collection newCollection(ReadContext context, boolean hasGenerics) {
        int own = SortedMapSerializer.ownReferenceId(context);
        int size = readCollectionSize(context, context.getBuffer(), hasGenerics);
        setNumElements(size);
        Comparator order = (Comparator) context.readRef();
        Class<?> type = getType();
        Collection<?> made = type == TreeSet.class ? new TreeSet(order)
                : type == ConcurrentSkipListSet.class ? new ConcurrentSkipListSet(order)
                : type == PriorityQueue.class ? new PriorityQueue(Math.max(1, size), order)
                : new PriorityBlockingQueue(Math.max(1, size), order);
        SortedMapSerializer.dropStrayReferences(context, own);
        context.reference(made);
        return made;
    }

    @Override
    public Collection<?> onCollectionRead(Collection collection) {
        return collection;
    }
}
