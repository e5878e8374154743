package multiprocessing.internal.reduction;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedList;
import java.util.List;
import org.apache.fory.context.ReadContext;
import org.apache.fory.resolver.TypeResolver;
import org.apache.fory.serializer.collection.CollectionSerializer;

/**
 * Sends a list view ({@code list.subList(from, to)}) as a list of its elements, read back as an
 * {@link ArrayList}: a copy, as a Python slice is.
 *
 * <p>Fory's own serializer for the JDK's sublist classes writes the whole list under the view,
 * with the view's offset and size, so that the receiver can rebuild the view: ten items of a
 * list of a million sent the million, and the receiver kept them all. It also printed a warning
 * to the program's standard output the first time (review 54 met it through a manager's
 * {@code callMethod("subList", 2, 7)}). The JDK's own serialization refuses such views.
 */
final class SubListCopySerializer extends CollectionSerializer<Collection<?>> {
    /** The JDK's sublist classes Fory rebuilds as views (List.of's own is NullTolerant's). */
    static final List<Class<?>> CLASSES = List.of(
            new ArrayList<>(List.of(1)).subList(0, 1).getClass(),
            new LinkedList<>(List.of(1)).subList(0, 1).getClass(),
            Arrays.asList(1).subList(0, 1).getClass());

    @SuppressWarnings({"unchecked", "rawtypes"})
    SubListCopySerializer(TypeResolver resolver, Class<?> type) {
        super(resolver, (Class) type);
    }

    @Override
    public Collection newCollection(ReadContext context, boolean hasGenerics) {
        int n = readCollectionSize(context, context.getBuffer(), hasGenerics);
        setNumElements(n);
        return new ArrayList<>(n);
    }

    @Override
    public Collection<?> onCollectionRead(Collection collection) {
        return collection;
    }
}
