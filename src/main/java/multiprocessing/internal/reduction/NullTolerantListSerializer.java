package multiprocessing.internal.reduction;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.apache.fory.context.ReadContext;
import org.apache.fory.resolver.TypeResolver;
import org.apache.fory.serializer.collection.ImmutableCollectionSerializers;

/**
 * Reads the JDK's immutable lists back whichever factory made them.
 *
 * <p>{@code List.of(..)} and {@code Stream.toList()} return instances of one class
 * ({@code ImmutableCollections.ListN}, and its {@code SubList}), but only the second may hold
 * nulls. Fory rebuilds every such list with {@code List.of}, so a {@code Stream.toList()} holding
 * a null was written and then could not be read: the receiver got an error and the message was
 * lost. A list read with a null in it is rebuilt as {@code Stream.toList()} builds one (immutable,
 * nulls allowed, the same class), any other with {@code List.of} as Fory does. Fory's
 * serializer, which this one extends, writes them. (So a {@code Stream.toList()} without a null
 * arrives as {@code List.of} would make it, equal and immutable, whose {@code contains(null)}
 * throws: telling the two apart would take a flag that Fory's writing of a list-typed field,
 * which calls the serializer's hooks and not its {@code write}, would leave out.)
 */
final class NullTolerantListSerializer extends ImmutableCollectionSerializers.ImmutableListSerializer {
    /** The classes this serializer takes over from Fory's: both can hold nulls. */
    static final List<Class<?>> CLASSES = List.of(
            java.util.stream.Stream.of(1, null, 3).toList().getClass(),
            java.util.stream.Stream.of(1, null, 3).toList().subList(0, 2).getClass());

    @SuppressWarnings({"unchecked", "rawtypes"})
    NullTolerantListSerializer(TypeResolver resolver, Class<?> type) {
        super(resolver, (Class) type);
    }

    @Override
    public Collection newCollection(ReadContext context, boolean hasGenerics) {
        setNumElements(readCollectionSize(context, context.getBuffer(), hasGenerics));
        return new ArrayList<>();
    }

    @Override
    public Collection onCollectionRead(Collection elements) {
        return elements.contains(null) ? elements.stream().toList() : List.of(elements.toArray());
    }
}
