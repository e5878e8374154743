package multiprocessing.internal.cluster;

/**
 * The one door to Hazelcast: checks that it is there before any class that uses it is loaded,
 * so that an application without it gets a clear exception from {@code Cluster.start} and
 * {@code connect}, and everything else of the library works as it does.
 */
public final class Engines {
    private Engines() {}

    static final String MISSING = "multiprocessing.cluster runs on Hazelcast, which is not on the "
            + "class path: add com.hazelcast:hazelcast:5.7.0 (an optional dependency of this "
            + "library) to the application";

    /** A started member of the cluster {@code settings} names. */
    public static Node member(Settings settings) {
        require();
        // HazelcastNode is loaded and linked only here, after the check: its methods name
        // Hazelcast's types, which the JVM resolves when it links them.
        return HazelcastNode.member(settings);
    }

    /** A client of the cluster {@code settings} names. */
    public static Node client(Settings settings) {
        require();
        return HazelcastNode.client(settings);
    }

    /** @throws IllegalStateException naming the dependency when Hazelcast is missing */
    public static void require() {
        try {
            Class.forName("com.hazelcast.core.Hazelcast", false, Engines.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            Module self = Engines.class.getModule();
            String hint = self.isNamed() ? "; on the module path, also resolve its module with "
                    + "--add-modules com.hazelcast.core (this library requires it statically)" : "";
            throw new IllegalStateException(MISSING + hint + " (" + e + ")", e);
        }
    }
}
