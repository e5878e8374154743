package multiprocessing.internal.reduction;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.security.CodeSource;
import java.util.Objects;
import java.util.Set;

import org.apache.fory.memory.MemoryBuffer;

/**
 * The exceptions {@link PlainValue} writes ({@link PlainValue#THROWABLE}): an exception of the
 * JDK's or the library's that holds nothing but what every throwable holds, as its class name,
 * its message, its stack trace, its cause and its suppressed ones (such exceptions too). A
 * manager call that throws (a queue's {@code get} that times out with
 * {@link multiprocessing.EmptyException}) had Fory built in the server and in the caller:
 * 125-300 ms for a program's first one. Rebuilt through the class's public constructor taking
 * the message, which only the JDK's and the library's classes are trusted with; another's
 * exception goes to Fory, which sets fields and runs no constructor.
 */
final class PlainThrowables {
    private PlainThrowables() {}

    /** How deep causes and suppressed exceptions may nest in a message written here. */
    private static final int MAX_THROWABLE_DEPTH = 8;
    /** The most suppressed exceptions of one exception written here. */
    private static final int MAX_SUPPRESSED = 64;
    /** The most exceptions, causes and suppressed ones together, of a message written here. */
    private static final int MAX_THROWABLES = 256;

    /**
     * Whether {@code value} is an exception written here: of a {@link #REBUILDABLE} class,
     * whose cause and suppressed exceptions are such exceptions too, each met once ({@code met},
     * shared with the message's other values: Fory keeps an exception's identity; written here,
     * one met twice would be written, and rebuilt, as many times as it is reached), at most
     * {@link #MAX_THROWABLES} of them.
     */
    static boolean writes(Object value, Set<Object> met) {
        return value instanceof Throwable t && writes(t, 0, met);
    }

    private static boolean writes(Throwable t, int depth, Set<Object> met) {
        if (depth >= MAX_THROWABLE_DEPTH || !met.add(t) || met.size() > MAX_THROWABLES
                || !REBUILDABLE.get(t.getClass())) {
            return false;
        }
        Throwable cause = t.getCause();
        if (cause != null && !writes(cause, depth + 1, met)) {
            return false;
        }
        Throwable[] suppressed = t.getSuppressed();
        if (suppressed.length > MAX_SUPPRESSED) {
            return false;
        }
        for (Throwable each : suppressed) {
            if (!writes(each, depth + 1, met)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether {@code type} is the library's own: in its module, and on the class path from
     * the same jar or directory (a program's class could take a package name of the library's).
     */
    private static boolean library(Class<?> type) {
        Module module = PlainThrowables.class.getModule();
        if (type.getModule() != module) {
            return false;
        }
        return module.isNamed() || Objects.equals(codeSource(type),
                codeSource(PlainThrowables.class));
    }

    private static URL codeSource(Class<?> type) {
        CodeSource source = type.getProtectionDomain().getCodeSource();
        return source == null ? null : source.getLocation();
    }

    /**
     * Whether an exception of a class is rebuilt faithfully from its message: a class of the
     * JDK's or the library's (whose constructors are trusted with a received message) that the
     * deserialization policy lets a message name, with a public constructor taking the message,
     * and no fields of its own below {@link Throwable} but transient ones (what Fory would
     * write besides); and one that constructor makes keeps the message as given (a
     * {@code RemoteTraceback}'s adds quotes) and takes a cause later (a
     * {@code ClassNotFoundException}'s has its cause set, to none, for good): tried once.
     */
    private static final ClassValue<Boolean> REBUILDABLE = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            ClassLoader loader = type.getClassLoader();
            boolean trusted = loader == null || loader == ClassLoader.getPlatformClassLoader()
                    ? type.getName().startsWith("java.")
                    : type.getName().startsWith("multiprocessing.") && library(type);
            if (!trusted || !Modifier.isPublic(type.getModifiers())
                    || Modifier.isAbstract(type.getModifiers())
                    || !Serialization.policyAllows(type.getName())) {
                return false;
            }
            for (Class<?> c = type; c != Throwable.class; c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    int m = f.getModifiers();
                    if (!Modifier.isStatic(m)
                            && !Modifier.isTransient(m)) {
                        return false;
                    }
                }
            }
            try {
                Throwable probe = (Throwable) type.getConstructor(String.class)
                        .newInstance("probe");
                if (!"probe".equals(probe.getMessage()) || probe.getCause() != null) {
                    return false;
                }
                probe.initCause(new Throwable("a cause"));
                return true;
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                return false; // no such constructor, or a cause it does not take
            }
        }
    };

    /** Writes an exception, one {@link #writes} accepts, its tag first. */
    static void write(Throwable t, MemoryBuffer out) {
        out.writeByte(PlainValue.THROWABLE);
        PlainValue.writeString(t.getClass().getName(), out);
        // getMessage, not the field: a NullPointerException's says what was null.
        PlainValue.element(t.getMessage(), out);
        StackTraceElement[] stack = t.getStackTrace();
        out.writeInt32(stack.length);
        for (StackTraceElement e : stack) {
            PlainValue.element(e.getClassLoaderName(), out);
            PlainValue.element(e.getModuleName(), out);
            PlainValue.element(e.getModuleVersion(), out);
            PlainValue.element(e.getClassName(), out);
            PlainValue.element(e.getMethodName(), out);
            PlainValue.element(e.getFileName(), out);
            out.writeInt32(e.getLineNumber());
        }
        if (t.getCause() == null) {
            out.writeByte(PlainValue.NULL);
        } else {
            write(t.getCause(), out);
        }
        Throwable[] suppressed = t.getSuppressed();
        out.writeInt32(suppressed.length);
        for (Throwable each : suppressed) {
            write(each, out);
        }
    }

    /**
     * Reads an exception whose tag has been read, {@code depth} causes deep: its class is
     * loaded, the deserialization policy allowing, and checked before anything else is read.
     */
    static Throwable read(MemoryBuffer in, int depth) {
        if (depth >= MAX_THROWABLE_DEPTH) {
            throw new IllegalStateException("exceptions nested deeper than "
                    + MAX_THROWABLE_DEPTH);
        }
        Class<?> type = Serialization.loadReceived(PlainValue.string(in));
        if (!Throwable.class.isAssignableFrom(type) || !REBUILDABLE.get(type)) {
            throw new IllegalStateException("not an exception rebuilt from its message: "
                    + type.getName());
        }
        String message = PlainValue.nullableString(in);
        // A frame is at least six tags and an int.
        StackTraceElement[] stack = new StackTraceElement[PlainValue.length(in, 10)];
        for (int i = 0; i < stack.length; i++) {
            String loader = PlainValue.nullableString(in);
            String module = PlainValue.nullableString(in);
            String version = PlainValue.nullableString(in);
            String declaring = PlainValue.nullableString(in);
            String method = PlainValue.nullableString(in);
            String file = PlainValue.nullableString(in);
            int line = in.readInt32();
            if (declaring == null || method == null) {
                throw new IllegalStateException("a stack frame without its class or method");
            }
            stack[i] = new StackTraceElement(loader, module, version, declaring, method, file,
                    line);
        }
        Throwable t;
        try {
            t = (Throwable) type.getConstructor(String.class).newInstance(message);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("a received " + type.getName()
                    + " cannot be rebuilt in this process: " + e, e);
        }
        t.setStackTrace(stack);
        byte tag = in.readByte();
        if (tag == PlainValue.THROWABLE) {
            Throwable cause = read(in, depth + 1);
            if (t.getCause() == null) {
                t.initCause(cause);
            }
        } else if (tag != PlainValue.NULL) {
            PlainValue.unexpected("an exception's cause", tag);
        }
        int n = PlainValue.length(in, 1);
        if (n > MAX_SUPPRESSED) {
            throw new IllegalStateException(n + " suppressed exceptions");
        }
        for (int i = 0; i < n; i++) {
            if (in.readByte() != PlainValue.THROWABLE) {
                throw new IllegalStateException("a suppressed exception that is none");
            }
            t.addSuppressed(read(in, depth + 1));
        }
        return t;
    }
}
