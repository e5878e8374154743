package multiprocessing.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;

/**
 * An address crosses process lines inside messages (a manager's proxies carry their server's):
 * what arrives is checked as {@link Address#inet} and {@link Address#unix} check what they make.
 */
class AddressTest {
    @Test
    void addressesCrossAProcessLineUnchanged() {
        for (Address a : new Address[] {Address.inet("127.0.0.1", 5000), Address.inet("", 0),
                Address.unix("/tmp/some.sock"), Address.unix("\0abstract")}) {
            Object back = Serialization.deserialize(Serialization.serialize(a, Handles.collecting()),
                    Handles.received(new int[0]));
            assertEquals(a, back);
        }
    }

    @Test
    void aMalformedReceivedAddressIsRefusedClearly() {
        byte[] ip = {127, 0, 0, 1};
        String tooLong = "/tmp/" + "x".repeat(200);
        Object[][] bad = {
            {Family.AF_INET, "h", 70000, ip, null},        // port out of range
            {Family.AF_INET, "h", -1, ip, null},
            {Family.AF_INET, null, 80, ip, null},          // no host
            {Family.AF_INET, "h", 80, new byte[16], null}, // not IPv4
            {Family.AF_INET, "h", 80, null, null},
            {Family.AF_INET, 42, 80, ip, null},            // not a string
            {Family.AF_INET, "h", 80, ip, "/tmp/s"},       // both kinds
            {Family.AF_UNIX, null, 0, null, null},         // no path
            {Family.AF_UNIX, null, 0, null, ""},
            {Family.AF_UNIX, null, 0, null, tooLong},      // longer than sun_path
            {Family.AF_UNIX, "h", 0, null, "/tmp/s"},
            {Family.AF_UNIX, null, 5, null, "/tmp/s"},
        };
        for (Object[] b : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Address.received((Family) b[0], b[1], (Integer) b[2], b[3], b[4]),
                    java.util.Arrays.deepToString(b));
            assertTrue(e.getMessage().contains("AF_") || e.getMessage().contains("Unix socket"),
                    e.getMessage());
            assertTrue(e.getMessage().length() < 400, "a long name is cut: " + e.getMessage());
        }
        assertEquals(Address.inet("127.0.0.1", 80),
                Address.received(Family.AF_INET, "127.0.0.1", 80, ip, null));
        assertEquals(Address.unix("/tmp/s"), Address.received(Family.AF_UNIX, null, 0, null,
                "/tmp/s"));
    }
}
