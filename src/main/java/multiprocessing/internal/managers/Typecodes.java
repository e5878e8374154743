package multiprocessing.internal.managers;

/**
 * What a manager's {@code Array} needs of {@code multiprocessing.sharedctypes}' typecodes,
 * which are not public: its elements are checked and stored as a shared {@code Array} of the
 * same typecode would store them, so the two agree on what a typecode admits and gives back.
 * The sharedctypes package installs the implementation when its typecodes are first used.
 */
public final class Typecodes {
    private Typecodes() {}

    /** Checks and converts values for one typecode. */
    public interface Codec {
        /**
         * {@code value} as an element of {@code typecode} reads back.
         *
         * @throws IllegalArgumentException if the typecode is unknown, or the value is of the
         *         wrong type or out of the typecode's range
         */
        Object element(String typecode, Object value);

        /**
         * A zero of {@code typecode}, as a new array holds.
         *
         * @throws IllegalArgumentException if the typecode is unknown
         */
        Object zero(String typecode);
    }

    private static volatile Codec codec;

    /** Called once, by the sharedctypes package. */
    public static void install(Codec c) {
        codec = c;
    }

    static Codec codec() {
        Codec c = codec;
        if (c == null) {
            try {
                // Its class initialization installs the codec.
                Class.forName("multiprocessing.sharedctypes.Typecode", true,
                        Typecodes.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("the sharedctypes typecodes are missing", e);
            }
            c = codec;
        }
        return c;
    }
}
