package multiprocessing.internal.reduction;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;

import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Queue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Big numbers of any size travel, as Python's ints do: Fory refused a magnitude of more than
 * 10,000 bytes or a scale beyond ±10,000, so 10000! could not be sent (review 46).
 */
@ExtendWith(NoLeftoverSharedMemory.class)
class BigNumbersTest {
    private static BigInteger factorial(int n) {
        BigInteger f = BigInteger.ONE;
        for (int i = 2; i <= n; i++) {
            f = f.multiply(BigInteger.valueOf(i));
        }
        return f;
    }

    @Test
    void bigNumbersOfAnySizeTravel() throws Exception {
        BigInteger huge = factorial(10_000);
        List<Object> values = List.of(huge, huge.negate(), BigInteger.ZERO, BigInteger.ONE.negate(),
                BigInteger.valueOf(Long.MIN_VALUE).subtract(BigInteger.ONE),
                new BigDecimal(huge, 20_000), new BigDecimal(huge.negate(), -20_000),
                new BigDecimal("-0.000"), new BigDecimal("123.4500"));
        for (Object v : values) {
            assertEquals(v, Serialization.deserialize(Serialization.serialize(v)));
        }
        // A shared reference and a list of them, through a queue.
        try (Queue<Object> q = new Queue<>()) {
            q.put(List.of(huge, huge, new BigDecimal("1E+30000")));
            assertEquals(List.of(huge, huge, new BigDecimal("1E+30000")), q.get());
        }
    }
}
