package multiprocessing.internal.cluster;

/**
 * The class loader a cluster's Hazelcast instance is given: it loads only Hazelcast's and the
 * JDK's classes, and refuses, with a SecurityException that Hazelcast passes on rather than
 * trying another loader, any other name that what it reads names. Hazelcast's format for
 * {@code DataSerializable} objects carries a class name, and Hazelcast builds that class with
 * its no-argument constructor before it looks at what it built: a peer without the key had a
 * member, or a client reading an entry it put, build any class of the class path (attack 29d:
 * {@code ProcessPoolExecutor()}, which starts worker processes). Nothing this library sends is
 * named so: its tasks are built by its factory, everything else is bytes.
 */
final class NamedClasses extends ClassLoader {
    static final NamedClasses LOADER = new NamedClasses();

    private NamedClasses() {
        super("multiprocessing-cluster-classes", NamedClasses.class.getClassLoader());
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (name.startsWith("com.hazelcast.") || name.startsWith("java.")
                || name.startsWith("javax.") || name.startsWith("jdk.")
                || name.startsWith("sun.") || name.startsWith("[")) {
            return super.loadClass(name, resolve);
        }
        throw new SecurityException("the cluster builds no class named by what it reads: "
                + name);
    }
}
