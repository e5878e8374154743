package multiprocessing.internal.reduction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.AccessDeniedException;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;

import org.junit.jupiter.api.Test;

/**
 * An exception arrives with the message it had: one whose getMessage() adds its own fields to
 * the detail message arrived with them twice ("/data/in.csv: /data/in.csv"; review 46).
 */
class ExceptionMessagesTest {
    private static Throwable roundTrip(Throwable t) {
        return (Throwable) Serialization.deserialize(Serialization.serialize(t));
    }

    /** An exception of a program's that builds its message on its detail message. */
    static final class Decorated extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int code;

        Decorated(String message, int code) {
            super(message);
            this.code = code;
        }

        @Override
        public String getMessage() {
            return "[" + code + "] " + super.getMessage();
        }
    }

    /** A program's class whose own readObject refuses to read it. */
    static final class RefusesToBeRead implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        int n = 4;

        private void readObject(java.io.ObjectInputStream in)
                throws java.io.IOException, ClassNotFoundException {
            in.defaultReadObject();
            throw new java.io.InvalidObjectException("refused in this process");
        }
    }

    /**
     * An object whose own readObject throws is said to be so, its exception in the first line:
     * the message said the bytes were not this library's, and the program's exception was the
     * fourth cause down (attack 45).
     */
    @Test
    void aReadObjectThatThrowsIsNamed() {
        byte[] bytes = Serialization.serialize(new RefusesToBeRead());
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalStateException.class, () -> Serialization.deserialize(bytes));
        assertTrue(e.getMessage().startsWith("a received object could not be read: "
                + RefusesToBeRead.class.getName() + ".readObject threw "
                + "java.io.InvalidObjectException: refused in this process"), e.getMessage());
    }

    /** A program's class whose own writeObject refuses to write it. */
    static final class RefusesToBeWritten implements java.io.Serializable {
        private static final long serialVersionUID = 1L;

        private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
            throw new java.io.NotSerializableException("not in this state");
        }
    }

    /**
     * The sending side's mirror: an object whose own writeObject throws is named with its
     * exception, also inside another object, not under Fory's advice to register a serializer,
     * which a program cannot act on (attack 46).
     */
    @Test
    void aWriteObjectThatThrowsIsNamed() {
        for (Object value : new Object[] {new RefusesToBeWritten(),
                java.util.Map.of("k", new RefusesToBeWritten())}) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class, () -> Serialization.serialize(value));
            assertTrue(e.getMessage().contains("to another process: "
                    + RefusesToBeWritten.class.getName() + ".writeObject threw "
                    + "java.io.NotSerializableException: not in this state"), e.getMessage());
        }
    }

    @Test
    void exceptionsArriveWithTheMessageTheyHad() {
        for (Throwable t : new Throwable[] {
                new NoSuchFileException("/data/in.csv"),
                new AccessDeniedException("/f", null, "no way"),
                new NoSuchFileException("/a", "/b", "gone"),
                new InvalidPathException("a\0b", "Nul character not allowed", 1),
                new Decorated("it failed", 7),
                new IllegalStateException("plain"),
                new RuntimeException((String) null)}) {
            Throwable back = roundTrip(t);
            assertEquals(t.getClass(), back.getClass());
            assertEquals(t.getMessage(), back.getMessage(), t.getClass().getName());
        }
        NoSuchFileException withCause = new NoSuchFileException("/x");
        withCause.initCause(new AccessDeniedException("/y"));
        Throwable back = roundTrip(withCause);
        assertEquals("/x", back.getMessage());
        assertInstanceOf(AccessDeniedException.class, back.getCause());
        assertEquals("/y", back.getCause().getMessage());
    }

    @Test
    void aNullPointerExceptionKeepsWhatWasNull() {
        String s = null;
        NullPointerException npe;
        try {
            s.length();
            throw new AssertionError();
        } catch (NullPointerException e) {
            npe = e;
        }
        String helpful = npe.getMessage();
        assertTrue(helpful != null && helpful.contains("\"s\""), helpful);
        // In a list, so that Fory writes it (alone it may travel the plain way).
        Object back = Serialization.deserialize(Serialization.serialize(
                new java.util.ArrayList<>(java.util.List.of(npe, new NoSuchFileException("/z")))));
        assertEquals(helpful, ((Throwable) ((java.util.List<?>) back).get(0)).getMessage());
    }
}
