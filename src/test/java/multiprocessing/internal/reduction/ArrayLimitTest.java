package multiprocessing.internal.reduction;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.fory.exception.SerializationException;
import org.junit.jupiter.api.Test;

/**
 * An object past 2 GiB cannot be sent: the refusal says so, whichever way the write found out
 * (sending one needs 2.4 GB of heap, more than a test run should take, so the failures are the
 * ones seen then: attack 22b's, from Fory's buffer and from a copy).
 */
class ArrayLimitTest {
    @Test
    void foryOutgrowingTheLargestArrayIsCalledTooLarge() {
        Throwable fory = new SerializationException(new ArrayIndexOutOfBoundsException(
                "arraycopy: last destination index 2516582810 out of bounds for byte[2147483639]"));
        assertTrue(Serialization.pastArrayLimit(fory));
        String message = Serialization.cannotSerialize(new Object[0], fory).getMessage();
        assertTrue(message.contains("more than a Java array holds (2 GiB)"), message);
        assertTrue(message.contains("[Ljava.lang.Object;"), message);

        // A list of two 1.1 GB arrays on a pipe and on a queue (attack 23b): the buffer not yet
        // the largest, the index or the range's end past every array.
        assertTrue(Serialization.pastArrayLimit(new SerializationException(
                new ArrayIndexOutOfBoundsException("arraycopy: last destination index "
                        + "2200000018 out of bounds for byte[1650000018]"))));
        assertTrue(Serialization.pastArrayLimit(new SerializationException(
                new IndexOutOfBoundsException("Range [1100000018, 1100000018 + 1100000000) "
                        + "out of bounds for length 2147479552"))));

        assertTrue(Serialization.pastArrayLimit(new IllegalStateException(new OutOfMemoryError(
                "Required array length 1677722382 + 838860419 is too large"))));
        assertTrue(Serialization.pastArrayLimit(
                new OutOfMemoryError("Requested array size exceeds VM limit")));
    }

    @Test
    void otherFailuresKeepTheirOwnMessage() {
        Throwable small = new SerializationException(new ArrayIndexOutOfBoundsException(
                "arraycopy: last destination index 120 out of bounds for byte[100]"));
        assertFalse(Serialization.pastArrayLimit(small));
        assertFalse(Serialization.pastArrayLimit(
                new ArrayIndexOutOfBoundsException("Index 5 out of bounds for length 3")));
        assertFalse(Serialization.pastArrayLimit(new OutOfMemoryError("Java heap space")));
        assertFalse(Serialization.pastArrayLimit(new IndexOutOfBoundsException(
                "Range [100, 100 + 50) out of bounds for length 120")));
        assertFalse(Serialization.pastArrayLimit(new IllegalStateException(
                "Index 3000000000 of something else"))); // not an index failure
        assertFalse(Serialization.pastArrayLimit(new IllegalStateException((String) null)));
        String message = Serialization.cannotSerialize("x", small).getMessage();
        assertTrue(message.contains("out of bounds for byte[100]"), message);
    }
}
