package multiprocessing.internal.reduction;

import java.nio.ByteBuffer;
import java.util.List;

import org.apache.fory.context.CopyContext;
import org.apache.fory.context.ReadContext;
import org.apache.fory.context.WriteContext;
import org.apache.fory.resolver.TypeResolver;
import org.apache.fory.serializer.BufferSerializers;
import org.apache.fory.serializer.Serializer;

/**
 * Reads a {@link ByteBuffer} as a buffer of its own, written as Fory writes it.
 *
 * <p>Fory reads a buffer as a view of the bytes it deserializes from. Those are often not the
 * receiver's to keep: a queue reads every item of a thread into one array, reused by that
 * thread's next get (the buffer got first then showed the next item's bytes), and a large
 * item from a mapping unmapped as the get returns (the buffer threw "Already closed" at its
 * first use). A received buffer is a heap buffer holding a copy of the bytes sent, in the
 * byte order sent, as Java serialization would give. A read-only buffer, which Fory could not
 * write, is sent as its bytes are, and arrives writable.
 */
final class ByteBufferCopySerializer extends Serializer<ByteBuffer> {
    /** The JDK's buffer classes: the ones a program's ByteBuffer is an instance of. */
    static final List<Class<?>> CLASSES = List.of(
            ByteBuffer.allocate(0).getClass(),
            ByteBuffer.allocate(0).asReadOnlyBuffer().getClass(),
            ByteBuffer.allocateDirect(0).getClass(),
            ByteBuffer.allocateDirect(0).asReadOnlyBuffer().getClass());

    private final BufferSerializers.ByteBufferSerializer fory;

    @SuppressWarnings({"unchecked", "rawtypes"})
    ByteBufferCopySerializer(TypeResolver resolver, Class<?> type) {
        super(resolver.getConfig(), (Class) type);
        fory = new BufferSerializers.ByteBufferSerializer(resolver, ByteBuffer.class);
    }

    @Override
    public void write(WriteContext context, ByteBuffer value) {
        // Fory writes a heap buffer from its array, which a read-only buffer does not lend
        // (Fory asserts it has one): such a buffer is written from a copy.
        fory.write(context, value.isReadOnly() ? own(value) : value);
    }

    /** A heap buffer holding the bytes {@code value} has left, in its byte order. */
    private static ByteBuffer own(ByteBuffer value) {
        ByteBuffer own = ByteBuffer.allocate(value.remaining()).order(value.order());
        own.put(value.duplicate());
        return own.flip();
    }

    @Override
    public ByteBuffer read(ReadContext context) {
        return own(fory.read(context));
    }

    @Override
    public ByteBuffer copy(CopyContext context, ByteBuffer value) {
        return fory.copy(context, value);
    }
}
