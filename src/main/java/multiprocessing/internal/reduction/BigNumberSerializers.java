package multiprocessing.internal.reduction;

import java.math.BigDecimal;
import java.math.BigInteger;

import org.apache.fory.context.ReadContext;
import org.apache.fory.context.WriteContext;
import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.resolver.TypeResolver;
import org.apache.fory.serializer.ImmutableSerializer;

/**
 * {@link BigInteger} and {@link BigDecimal} of any size, as Python sends its ints. Fory refuses
 * to write a magnitude of more than 10,000 bytes, or a scale beyond ±10,000: 10000! (about
 * 118,000 bits), an RSA key of 16 Kibit and more could not be sent at all, by a queue, a pipe
 * or as a pool's result (review 46). Written as the two's-complement bytes
 * {@link BigInteger#toByteArray()} gives (and a BigDecimal's scale); a receiver reads no more
 * bytes than the message holds.
 */
final class BigNumberSerializers {
    private BigNumberSerializers() {}

    static final class BigIntegers extends ImmutableSerializer<BigInteger> {
        BigIntegers(TypeResolver resolver) {
            super(resolver.getConfig(), BigInteger.class);
        }

        @Override
        public void write(WriteContext context, BigInteger value) {
            writeMagnitude(context.getBuffer(), value);
        }

        @Override
        public BigInteger read(ReadContext context) {
            return readMagnitude(context.getBuffer());
        }
    }

    static final class BigDecimals extends ImmutableSerializer<BigDecimal> {
        BigDecimals(TypeResolver resolver) {
            super(resolver.getConfig(), BigDecimal.class);
        }

        @Override
        public void write(WriteContext context, BigDecimal value) {
            MemoryBuffer buffer = context.getBuffer();
            buffer.writeVarInt32(value.scale());
            writeMagnitude(buffer, value.unscaledValue());
        }

        @Override
        public BigDecimal read(ReadContext context) {
            MemoryBuffer buffer = context.getBuffer();
            int scale = buffer.readVarInt32();
            return new BigDecimal(readMagnitude(buffer), scale);
        }
    }

    private static void writeMagnitude(MemoryBuffer buffer, BigInteger value) {
        byte[] bytes = value.toByteArray();
        buffer.writeVarUInt32(bytes.length);
        buffer.writeBytes(bytes);
    }

    private static BigInteger readMagnitude(MemoryBuffer buffer) {
        int n = buffer.readVarUInt32();
        if (n < 1 || n > buffer.remaining()) {
            throw new IllegalStateException("a big number of " + n + " bytes, in a message of "
                    + buffer.remaining() + " more");
        }
        return new BigInteger(buffer.readBytes(n));
    }
}
