package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;

import org.junit.jupiter.api.Test;

/**
 * A process crosses to its child field by field (Process's reducer, not the serializer's
 * reflection): every field that is not transient must arrive, including one added later.
 * No child is started here.
 */
class ProcessIdentityTest {
    @Test
    void everyFieldThatIsNotTransientSurvivesTheTrip() throws Exception {
        Process p = new Process(() -> System.out.println("unused"));
        List<Field> fields = new ArrayList<>();
        for (Field f : Process.class.getDeclaredFields()) {
            int m = f.getModifiers();
            if (Modifier.isStatic(m) || Modifier.isTransient(m)) {
                continue;
            }
            f.setAccessible(true);
            fields.add(f);
            f.set(p, sample(f));
        }
        assertTrue(fields.size() >= 9, "Process's identity fields: " + fields);

        Process back = (Process) Serialization.deserialize(
                Serialization.serialize(p, Handles.spawning()), Handles.received(new int[0]));

        assertNotSame(p, back);
        for (Field f : fields) {
            Object sent = f.get(p);
            Object got = f.get(back);
            assertNotNull(got, f.getName() + " arrived as null");
            if (f.getName().equals("target")) {
                assertEquals(SerializableRunnable.class, f.getType());
                continue; // a lambda: a new object of the same shape
            }
            assertTrue(Objects.deepEquals(sent, got),
                    f.getName() + ": sent " + show(sent) + ", got " + show(got));
        }
    }

    @Test
    void theKeyGoesOnlyToTheChildAProcessStarts() {
        Process p = new Process(() -> { });
        Process sent = (Process) Serialization.deserialize(Serialization.serialize(p));
        assertEquals(p.name(), sent.name());
        IllegalStateException e = assertThrows(IllegalStateException.class, sent::authKey);
        assertTrue(e.getMessage().contains("stayed in the process that sent"), e.getMessage());
        assertEquals(32, p.authKey().length, "the sender keeps its own");
    }

    /** A value for field {@code f} that no constructor gives it. */
    private static Object sample(Field f) throws Exception {
        Class<?> t = f.getType();
        if (t == String.class) {
            return "sample-" + f.getName();
        }
        if (t == Boolean.class || t == boolean.class) {
            return Boolean.TRUE;
        }
        if (t == long.class || t == Long.class) {
            return 4_242_424_242L;
        }
        if (t == int.class || t == Integer.class) {
            return 4242;
        }
        if (t == byte[].class) {
            return new byte[] {1, 2, 3, 4};
        }
        if (t == int[].class) {
            return new int[] {7, 8, 9};
        }
        if (t == List.class) {
            return List.of("-Dsample=" + f.getName());
        }
        if (t == SerializableRunnable.class) {
            return (SerializableRunnable) () -> { };
        }
        throw new AssertionError("Process has a new field " + f + ": give it a sample here, "
                + "and make sure Process.Identity writes it");
    }

    private static String show(Object o) {
        if (o instanceof byte[] b) {
            return Arrays.toString(b);
        }
        if (o instanceof int[] a) {
            return Arrays.toString(a);
        }
        return String.valueOf(o);
    }
}
