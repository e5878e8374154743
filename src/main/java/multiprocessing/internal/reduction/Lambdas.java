package multiprocessing.internal.reduction;

import java.io.Serializable;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * Serializable lambdas as {@link PlainStream} (a process's payload) and {@link PlainValue} (a
 * message) write them: taken apart into their {@link SerializedLambda} (what the lambda's
 * {@code writeReplace} returns, as Java serialization and Fory take it) and rebuilt by their
 * capturing class's {@code $deserializeLambda$}, which rebuilds only the lambdas that class
 * itself contains.
 */
final class Lambdas {
    private Lambdas() {}

    /** Why a lambda cannot be taken apart here (Fory reaches it by other means). */
    static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Refused(String why) {
            super(why, null, false, false);
        }
    }

    /** Whether {@code value} is a serializable lambda (a method reference is one too). */
    static boolean isLambda(Object value) {
        return value.getClass().isHidden() && value instanceof Serializable;
    }

    /**
     * The {@link SerializedLambda} of {@code lambda}, one {@link #isLambda} accepts.
     *
     * @throws Refused if this module may not take it apart or rebuild it: its class, or its
     *         capturing class, is in a package of a named module not open to this one
     */
    static SerializedLambda serialized(Object lambda) {
        Method replace = WRITE_REPLACE.get(lambda.getClass());
        if (replace == null) {
            throw new Refused("a lambda this module cannot open: " + lambda.getClass());
        }
        Object serialized;
        try {
            serialized = replace.invoke(lambda);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new Refused("a hidden class that is no serializable lambda: " + e);
        }
        if (!(serialized instanceof SerializedLambda s)) {
            throw new Refused("a hidden class that is no serializable lambda: "
                    + lambda.getClass());
        }
        if (!REBUILDABLE.get(lambda.getClass())
                || !s.getCapturingClass().replace('/', '.').equals(
                        capturingName(lambda.getClass()))) {
            throw new Refused("a lambda whose capturing class this module cannot open");
        }
        return s;
    }

    /** Each lambda class's {@code writeReplace}, made accessible; null if it cannot be. */
    private static final ClassValue<Method> WRITE_REPLACE = new ClassValue<>() {
        @Override
        protected Method computeValue(Class<?> type) {
            try {
                Method replace = type.getDeclaredMethod("writeReplace");
                return replace.trySetAccessible() ? replace : null;
            } catch (NoSuchMethodException e) {
                return null;
            }
        }
    };

    /**
     * Whether the capturing class of each lambda class lets this module call its
     * {@code $deserializeLambda$} (looked at once per lambda class, through the class's own
     * {@code writeReplace}, which names it).
     */
    private static final ClassValue<Boolean> REBUILDABLE = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            String name = capturingName(type);
            if (name == null || WRITE_REPLACE.get(type) == null) {
                return false;
            }
            try {
                Class<?> capturing = Class.forName(name, false, type.getClassLoader());
                return capturing.getDeclaredMethod("$deserializeLambda$", SerializedLambda.class)
                        .trySetAccessible();
            } catch (ReflectiveOperationException | LinkageError e) {
                return false;
            }
        }
    };

    /**
     * The capturing class a lambda's class is named after ({@code a.B$$Lambda/0x..}, as the
     * JDK's metafactory names them), or null.
     */
    private static String capturingName(Class<?> lambdaClass) {
        String name = lambdaClass.getName();
        int cut = name.indexOf("$$Lambda");
        return cut > 0 ? name.substring(0, cut) : null;
    }

    /**
     * Rebuilds {@code serialized} through {@code capturing}'s {@code $deserializeLambda$}.
     *
     * @throws IllegalStateException naming the class when it cannot be rebuilt here
     */
    static Object rebuild(Class<?> capturing, SerializedLambda serialized) {
        try {
            return (Object) DESERIALIZE_LAMBDA.get(capturing).invokeExact(serialized);
        } catch (CannotRebuild e) {
            throw new IllegalStateException("a received lambda of " + capturing.getName()
                    + " cannot be rebuilt in this process: " + e.getCause(), e.getCause());
        } catch (Throwable e) {
            if (e instanceof Error && !(e instanceof LinkageError)) {
                throw (Error) e;
            }
            throw new IllegalStateException("a received lambda of " + capturing.getName()
                    + " cannot be rebuilt in this process: " + e, e);
        }
    }

    /**
     * The capturing class's {@code $deserializeLambda$}, as a method handle. Through
     * reflection ({@code getDeclaredMethod}, {@code Method.invoke}) a child's first lambda
     * loaded the classes of every method the capturing class declares (from the jar, when
     * the cache does not hold them) and spun a method accessor's forms: milliseconds of its
     * start. A direct handle of that one method, invoked exactly, uses forms the JDK's
     * archive holds. Access is what {@code setAccessible} asked for (the package open to
     * this module), and this module reads the capturing class's.
     */
    private static final ClassValue<MethodHandle> DESERIALIZE_LAMBDA = new ClassValue<>() {
        @Override
        protected MethodHandle computeValue(Class<?> capturing) {
            Lambdas.class.getModule().addReads(capturing.getModule());
            try {
                return MethodHandles.privateLookupIn(capturing, MethodHandles.lookup())
                        .findStatic(capturing, "$deserializeLambda$", MethodType.methodType(
                                Object.class, SerializedLambda.class));
            } catch (ReflectiveOperationException e) {
                throw new CannotRebuild(e);
            }
        }
    };

    /** Why {@link #DESERIALIZE_LAMBDA} has no handle for a class. */
    private static final class CannotRebuild extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CannotRebuild(ReflectiveOperationException cause) {
            super(cause);
        }
    }
}
