package multiprocessing.internal.reduction;

import org.apache.fory.context.CopyContext;
import org.apache.fory.context.ReadContext;
import org.apache.fory.context.WriteContext;
import org.apache.fory.reflect.FieldAccessor;
import org.apache.fory.resolver.TypeResolver;
import org.apache.fory.serializer.ExceptionSerializers;
import org.apache.fory.serializer.Serializer;
import org.apache.fory.serializer.SerializerFactory;

/**
 * An exception written as Fory writes it, with its detail message as it is.
 *
 * <p>Fory writes {@link Throwable#getMessage()} and reads it back into the detail message, then
 * sets the class's own fields: an exception whose {@code getMessage()} adds those fields to the
 * detail message arrived with them twice. {@code NoSuchFileException("/data/in.csv")}, thrown by
 * a pool's task, was re-raised as "/data/in.csv: /data/in.csv"; {@code InvalidPathException},
 * {@code InvalidClassException} and a program's exceptions built that way alike (review 46).
 * The detail message goes first here, and replaces the one Fory read. A NullPointerException
 * without one keeps what its {@code getMessage()} computed (what was null), which a receiver
 * cannot compute again.
 */
final class ThrowableSerializer<T extends Throwable> extends Serializer<T> {
    private static final FieldAccessor DETAIL_MESSAGE = detailMessage();

    private static FieldAccessor detailMessage() {
        try {
            return FieldAccessor.createAccessor(Throwable.class.getDeclaredField("detailMessage"));
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Makes this serializer every exception's that has none registered. */
    static final SerializerFactory FACTORY = (resolver, type) ->
            Throwable.class.isAssignableFrom(type) ? make(resolver, type) : null;

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Serializer<?> make(TypeResolver resolver, Class<?> type) {
        return new ThrowableSerializer(resolver, type);
    }

    private final ExceptionSerializers.ExceptionSerializer<T> fory;

    ThrowableSerializer(TypeResolver resolver, Class<T> type) {
        super(resolver.getConfig(), type);
        fory = new ExceptionSerializers.ExceptionSerializer<>(resolver, type);
    }

    @Override
    public void write(WriteContext context, T value) {
        String detail = (String) DETAIL_MESSAGE.get(value);
        if (detail == null && value instanceof NullPointerException) {
            detail = value.getMessage();
        }
        context.writeStringRef(detail);
        fory.write(context, value);
    }

    @Override
    public T read(ReadContext context) {
        String detail = context.readStringRef();
        T value = fory.read(context);
        DETAIL_MESSAGE.set(value, detail);
        return value;
    }

    @Override
    public T copy(CopyContext context, T value) {
        return fory.copy(context, value);
    }
}
