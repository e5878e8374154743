package multiprocessing.internal.managers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import multiprocessing.SerializableCallable;
import multiprocessing.connection.Address;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.managers.BaseProxy;

import org.junit.jupiter.api.Test;

/**
 * A manager's registered types reach its server process without Fory when their callables
 * are plain (the process's payload then starts with 'P' or 'C', Fory's with 'F'), and arrive
 * whole either way: a standard type as the very object this JVM made, another with its
 * interfaces, exposed methods and method-to-type map.
 */
class RegistrationPayloadTest {

    private static Object travel(Object value, char expectedFormat) {
        byte[] data = Serialization.serializeForStart(value,
                Handles.refusing("no descriptors here"));
        assertEquals(expectedFormat, (char) data[0], "the format of the payload");
        return Serialization.deserializeAtStart(data, Handles.received(new int[0]));
    }

    /** A type with every part of Python's register filled in. */
    private static Registration counter(Object callable) {
        return new Registration("counter", callable, List.of(Runnable.class, BaseProxy.class),
                List.of("get", "incrementAndGet"), Map.of("child", "counter", "other", "dict"),
                false);
    }

    private static void assertSameType(Registration expected, Registration actual)
            throws Exception {
        assertEquals(expected.typeId(), actual.typeId());
        assertEquals(expected.interfaces(), actual.interfaces());
        assertEquals(expected.exposed(), actual.exposed());
        assertEquals(expected.methodToTypeId(), actual.methodToTypeId());
        assertEquals(expected.createMethod(), actual.createMethod());
        assertEquals(expected.make(new Object[0]).getClass(),
                actual.make(new Object[0]).getClass());
    }

    @Test
    void standardTypesTravelAsTheirNamesAndArriveAsThisJvmsOwn() {
        List<?> back = (List<?>) travel(StandardTypes.SYNC, 'P');
        assertEquals(StandardTypes.SYNC.size(), back.size());
        for (int i = 0; i < back.size(); i++) {
            assertSame(StandardTypes.SYNC.get(i), back.get(i));
        }
        assertSame(StandardTypes.SEGMENT_TRACKER,
                ((List<?>) travel(List.of(StandardTypes.SEGMENT_TRACKER), 'P')).get(0));
    }

    @Test
    void aTypeWithAPlainCallableTravelsWithoutForyAndArrivesWhole() throws Exception {
        Registration sent = counter((SerializableCallable<Object>) () -> new AtomicInteger());
        Registration back = (Registration) ((List<?>) travel(List.of(sent), 'P')).get(0);
        assertSameType(sent, back);
        assertInstanceOf(AtomicInteger.class, back.make(new Object[0]));
    }

    @Test
    void aServersTargetIsNoLambdaAndTravelsWithoutForyWhenItsTypesArePlain() throws Exception {
        byte[] key = {1, 2, 3};
        Address where = Address.unix("/tmp/no-such-manager");
        ServerTarget sent = new ServerTarget(StandardTypes.SYNC, where, key, null, null);
        // 'C': plain, holding a channel (the address), as every server's payload.
        ServerTarget back = (ServerTarget) travel(sent, 'C');
        assertEquals(StandardTypes.SYNC, back.registry());
        assertEquals(where, back.address());
        assertArrayEquals(key, back.authKey());
        assertNull(back.initializer());
        assertNull(back.creator());
        // An initializer that holds other objects sends the whole payload through Fory.
        java.util.TreeMap<String, Integer> seed = new java.util.TreeMap<>(Map.of("a", 1));
        multiprocessing.SerializableRunnable init = () -> seed.put("b", 2);
        ServerTarget withInit = (ServerTarget) travel(
                new ServerTarget(List.of(), null, key, init, null), 'F');
        assertArrayEquals(key, withInit.authKey());
        withInit.initializer().run();
    }

    @Test
    void aTypeWhoseCallableHoldsOtherObjectsTravelsWithForyAndArrivesWhole() throws Exception {
        java.util.TreeMap<String, Integer> seed = new java.util.TreeMap<>(Map.of("a", 1));
        Registration sent = counter((SerializableCallable<Object>) () -> new HashMap<>(seed));
        Registration back = (Registration) ((List<?>) travel(List.of(sent), 'F')).get(0);
        assertSameType(sent, back);
        assertEquals(Map.of("a", 1), back.make(new Object[0]));
        // And as a message, which Fory writes with the same reducer.
        Registration message = (Registration) Serialization.deserialize(
                Serialization.serialize(sent));
        assertSameType(sent, message);
    }
}
