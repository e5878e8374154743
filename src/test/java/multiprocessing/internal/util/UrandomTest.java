package multiprocessing.internal.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The kernel's random bytes: as many as asked, and different each time. */
class UrandomTest {
    @Test
    void givesAsManyBytesAsAskedEachTimeOthers() {
        byte[] a = Urandom.bytes(32);
        byte[] b = Urandom.bytes(32);
        assertEquals(32, a.length);
        assertFalse(Arrays.equals(a, b), "two keys alike: 2^-256");
        assertFalse(Arrays.equals(a, new byte[32]), "not left zero");
        assertEquals(0, Urandom.bytes(0).length);
        Set<Long> longs = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            longs.add(Urandom.nextLong());
        }
        assertEquals(100, longs.size());
        // Every bit position is set somewhere in 100 longs (each one's chance to stay 0: 2^-100).
        long or = longs.stream().reduce(0L, (x, y) -> x | y);
        assertTrue(or == -1L, Long.toBinaryString(or));
    }
}
