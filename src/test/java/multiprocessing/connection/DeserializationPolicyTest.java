package multiprocessing.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.fory.Fory;
import org.apache.fory.config.Language;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.Process;
import multiprocessing.SerializableFunction;

/**
 * What a received message may make this JVM build: the policy that refuses gadget classes,
 * its system properties, the bound on a message's arrays, and messages that are not exactly
 * one object.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@ExtendWith(NoLeftoverProcesses.class)
class DeserializationPolicyTest {
    record Parcel(String label, List<Integer> items, Map<String, Long> index,
            SerializableFunction<Integer, Integer> fn, Exception problem) implements Serializable {}

    record Plain(int n) {}

    /** A class loader subclass of the application's own: a loader must not come by message. */
    static final class SneakyLoader extends ClassLoader implements Serializable {
        private static final long serialVersionUID = 1L;
        String name = "sneaky";
    }

    /** What a peer that does not use this library's policy writes: Fory with no checker. */
    private static byte[] writtenWithoutPolicy(Object value) {
        Fory fory = Fory.builder().withLanguage(Language.JAVA).requireClassRegistration(false)
                .suppressClassRegistrationWarnings(true).withRefTracking(true)
                .withCodegen(false).build();
        return fory.serialize(value);
    }

    private static IllegalStateException refused(Object gadget) throws Exception {
        try (Pipe pipe = Pipe.open()) {
            pipe.left().sendBytes(writtenWithoutPolicy(gadget));
            pipe.left().send("after");
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> pipe.right().recv());
            // The connection goes on: the next message arrives intact.
            assertEquals("after", pipe.right().recv());
            return e;
        }
    }

    @Test
    void gadgetClassesAreRefused() throws Exception {
        // (java.lang.ProcessBuilder and the like are refused by Fory's own list even on write.)
        IllegalStateException e = refused(new SneakyLoader());
        assertTrue(e.getMessage().contains("SneakyLoader"), e.getMessage());
        assertTrue(e.getMessage().contains("multiprocessing.serialization.allow"),
                e.getMessage());
        // Deep inside a collection, and nested in a denied class (Thread$State, harmless but
        // named by the "java.lang.Thread" entry).
        e = refused(new ArrayList<Object>(List.of("x", Thread.State.RUNNABLE)));
        assertTrue(e.getMessage().contains("java.lang.Thread$State"), e.getMessage());
    }

    /**
     * A URL's hashCode resolves its host, so a URL key of a received HashMap made this process
     * send a DNS query for any name the sender chose (ysoserial's URLDNS; seen with strace: one
     * query to the resolver while the message was read). URLs are refused; a URI travels.
     */
    @Test
    void aUrlIsRefusedAndAUriTravels() throws Exception {
        java.net.URI uri = new java.net.URI("http://host-of-a-urldns-probe.invalid/");
        IllegalStateException e = refused(new ArrayList<Object>(List.of(uri.toURL())));
        assertTrue(e.getMessage().contains("java.net.URL"), e.getMessage());
        try (Pipe pipe = Pipe.open()) {
            pipe.left().send(uri);
            assertEquals(uri, pipe.right().recv());
        }
    }

    @Test
    void sendingARefusedClassSaysWhyAndHow() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> pipe.left().send(List.of(new SneakyLoader())));
            assertTrue(e.getMessage().contains("SneakyLoader")
                    && e.getMessage().contains("multiprocessing.serialization.allow"),
                    e.getMessage());
        }
    }

    @Test
    void applicationValuesStillTravel() throws Exception {
        Map<String, Long> index = new TreeMap<>(Map.of("a", 1L, "b", 2L));
        int offset = 5;
        Parcel parcel = new Parcel("p", List.of(1, 2, 3), index, x -> x + offset,
                new IllegalArgumentException("bad",
                        new java.lang.reflect.InvocationTargetException(
                                new java.io.IOException("cause"))));
        try (Pipe pipe = Pipe.open()) {
            pipe.left().send(parcel);
            Parcel back = (Parcel) pipe.right().recv();
            assertEquals(parcel.items(), back.items());
            assertEquals(index, back.index());
            assertEquals(12, back.fn().apply(7));
            assertEquals("bad", back.problem().getMessage());
            assertInstanceOf(java.io.IOException.class, back.problem().getCause().getCause());
        }
    }

    @Test
    void aMessageThatIsNotExactlyOneObjectIsAnError() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            pipe.left().sendBytes(new byte[] {0, 1, 2, 3, 4, 5, 6, 7});
            pipe.left().send(List.of("next"));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> pipe.right().recv());
            assertTrue(e.getMessage().contains("8"), e.getMessage());
            assertEquals(List.of("next"), pipe.right().recv());
        }
    }

    /** Runs {@code body} on what a child with {@code options} receives; returns its answer. */
    private static Object inChild(Object sent, String... options) throws Exception {
        Context ctx = Multiprocessing.getContext().withJvmOptions(options);
        try (Pipe pipe = Pipe.open()) {
            Connection child = pipe.right();
            Process p = ctx.process(() -> {
                Object answer;
                try {
                    answer = "received " + child.recv().getClass().getName();
                } catch (IllegalStateException e) {
                    answer = "refused: " + e.getMessage();
                }
                child.send(answer);
            });
            p.start();
            try {
                pipe.left().sendBytes(writtenWithoutPolicy(sent));
                return pipe.left().recv();
            } finally {
                p.join();
                p.close();
            }
        }
    }

    @Test
    void theSystemPropertiesMoveTheLineInAChild() throws Exception {
        assertEquals("received java.lang.Thread$State", inChild(Thread.State.NEW,
                "-Dmultiprocessing.serialization.allow=java.lang.Thread$State"));
        Object answer = inChild(new Plain(1),
                "-Dmultiprocessing.serialization.deny=" + Plain.class.getName());
        assertTrue(answer.toString().startsWith("refused: ")
                && answer.toString().contains(Plain.class.getName()), answer.toString());
    }

    @Test
    void aMessageMayNotAllocateMoreThanTheGraphMemoryBound() throws Exception {
        String bound = "-Dmultiprocessing.serialization.maxGraphMemoryBytes=1000000";
        assertEquals("received [B", inChild(new byte[500_000], bound));
        Object answer = inChild(new byte[2_000_000], bound);
        assertTrue(answer.toString().startsWith("refused: "), answer.toString());
        // Said as what it is, not as a class the policy refuses.
        assertTrue(answer.toString().contains("more memory than one message may"),
                answer.toString());
    }
}
