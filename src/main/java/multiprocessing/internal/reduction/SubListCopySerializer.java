package multiprocessing.internal.reduction;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.fory.context.ReadContext;
import org.apache.fory.resolver.TypeResolver;
import org.apache.fory.serializer.collection.CollectionSerializer;

/**
 * Sends a list view ({@code list.subList(from, to)}, {@code list.reversed()}) as a list of its
 * elements, read back as an {@link ArrayList}: a copy, as a Python slice is.
 *
 * <p>Fory's own serializer for the JDK's sublist classes writes the whole list under the view,
 * with the view's offset and size, so that the receiver can rebuild the view: ten items of a
 * list of a million sent the million, and the receiver kept them all. It also printed a warning
 * to the program's standard output the first time (review 54 met it through a manager's
 * {@code callMethod("subList", 2, 7)}). The JDK's own serialization refuses such views. Fory
 * refused the reversed ones, and CopyOnWriteArrayList's (attack 55).
 */
final class SubListCopySerializer extends CollectionSerializer<Collection<?>> {
    /**
     * The JDK's sublist classes Fory rebuilds as views (List.of's own is NullTolerant's), and
     * its reversed views ({@code list.reversed()}), which Fory refused to send in any message.
     */
    static final List<Class<?>> CLASSES = classes();

    private static List<Class<?>> classes() {
        List<Class<?>> all = new ArrayList<>(List.of(
                new ArrayList<>(List.of(1)).subList(0, 1).getClass(),
                new LinkedList<>(List.of(1)).subList(0, 1).getClass(),
                Arrays.asList(1).subList(0, 1).getClass(),
                new ArrayList<>(List.of(1)).reversed().getClass(),
                new LinkedList<>(List.of(1)).reversed().getClass(),
                new CopyOnWriteArrayList<>(List.of(1)).subList(0, 1).getClass(),
                new CopyOnWriteArrayList<>(List.of(1)).reversed().getClass()));
        try {
            // The view of a list that is not RandomAccess (the one above is its subclass).
            all.add(Class.forName("java.util.ReverseOrderListView"));
        } catch (ClassNotFoundException notInThisJdk) {
            // another JDK's reversed views: sent as Fory sends them
        }
        return List.copyOf(new java.util.LinkedHashSet<>(all));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    SubListCopySerializer(TypeResolver resolver, Class<?> type) {
        super(resolver, (Class) type);
    }

    @Override
    public Collection newCollection(ReadContext context, boolean hasGenerics) {
        int n = readCollectionSize(context, context.getBuffer(), hasGenerics);
        setNumElements(n);
        List<Object> copy = new ArrayList<>(n);
        // Known as the object being read before its items are: an item that is the view
        // itself arrives as the copy, not as null (attack 56).
        context.reference(copy);
        return copy;
    }

    @Override
    public Collection<?> onCollectionRead(Collection collection) {
        return collection;
    }
}
