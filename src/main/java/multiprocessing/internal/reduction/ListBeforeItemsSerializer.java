package multiprocessing.internal.reduction;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.fory.context.ReadContext;
import org.apache.fory.context.WriteContext;
import org.apache.fory.resolver.TypeResolver;
import org.apache.fory.serializer.collection.CollectionSerializer;

/**
 * Reads a {@link CopyOnWriteArrayList} or an {@code Arrays.asList} list whose items may hold
 * the list itself: the list is made, and known as the object being read, before its items are.
 *
 * <p>Fory's own serializers for them read the items first and make the list from them, so an
 * item that was the list itself (or held it) was read before the list existed, and arrived as
 * null, silently: {@code b.add(b)} arrived as {@code [.., null]} (attack 56), where an
 * ArrayList or a LinkedList, and Python's pickle, keep the cycle. Here the items are read into
 * a buffer that knows the list, and put in it once read (a copy-on-write list takes them all
 * at once, not one copy of its array per item). A copy-on-write list is written from one
 * snapshot of its items, so that the size written is theirs while others change it.
 */
final class ListBeforeItemsSerializer extends CollectionSerializer<Collection<?>> {
    static final Class<?> ARRAYS_AS_LIST = Arrays.asList(1).getClass();
    static final List<Class<?>> CLASSES = List.of(CopyOnWriteArrayList.class, ARRAYS_AS_LIST);

    private final boolean copyOnWrite;

    @SuppressWarnings({"unchecked", "rawtypes"})
    ListBeforeItemsSerializer(TypeResolver resolver, Class<?> type) {
        super(resolver, (Class) type);
        copyOnWrite = type == CopyOnWriteArrayList.class;
    }

    /** The items read so far, and the list they go into once all are (never sent itself). */
    @SuppressWarnings("serial")
    private static final class Filling extends ArrayList<Object> {
        final List<Object> list;

        Filling(int size, List<Object> list) {
            super(size);
            this.list = list;
        }
    }

    @Override
    public Collection onCollectionWrite(WriteContext context, Collection<?> value) {
        return super.onCollectionWrite(context,
                copyOnWrite ? Arrays.asList(value.toArray()) : value);
    }

    @Override
    public Collection newCollection(ReadContext context, boolean hasGenerics) {
        int size = readCollectionSize(context, context.getBuffer(), hasGenerics);
        setNumElements(size);
        List<Object> list = copyOnWrite ? new CopyOnWriteArrayList<>()
                : Arrays.asList(new Object[size]);
        context.reference(list);
        return new Filling(size, list);
    }

    @Override
    public Collection<?> onCollectionRead(Collection items) {
        Filling filling = (Filling) items;
        if (copyOnWrite) {
            filling.list.addAll(filling);
        } else {
            for (int i = 0; i < filling.size(); i++) {
                filling.list.set(i, filling.get(i));
            }
        }
        return filling.list;
    }
}
