package multiprocessing.internal.spawn;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.WeakReference;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where the parent's classes come from, told as a child can use it: the class path a child
 * JVM starts with, the entries a child must add for the program's own class loaders, and
 * whether a class can reach a child at all.
 *
 * <p>Implementation note. A program is not always on {@code java.class.path}: {@code mvn
 * exec:java} runs it in Maven's JVM through a URLClassLoader of its own (java.class.path is
 * Maven's launcher), IDE and plugin runners do the same, a Spring Boot jar holds the library
 * and the program as nested jars, jshell defines its snippets in memory. So the child's class
 * path is this JVM's {@code java.class.path} followed by the entries of the class loaders that
 * loaded the library and the program: a {@link URLClassLoader}'s {@code file:} URLs as they
 * are, Boot's nested jars extracted once ({@link BootJars}). The library's part is fixed for
 * the JVM's life and is what every child (a forkserver JVM too, which boots before its process
 * is known) starts with ({@link #libraryClassPath()}); the program's loaders are
 * {@linkplain #note noted} where a class of the program meets the library (a process's class
 * and target, the thread's context loader when a process or pool starts, a pool's functions),
 * and their entries ({@link #extraEntries()}) go after the library's. A class such a loader
 * cannot place on disk (defined from bytes) is served by name to the child that asks for it
 * ({@link ClassServer}) as long as its loader hands out its class file as a resource; a loader
 * that does not is out of reach, and {@link #unreachable} says so before anything starts.
 */
public final class ClassReach {
    private ClassReach() {}

    private static final ClassLoader APP = ClassLoader.getSystemClassLoader();
    private static final ClassLoader PLATFORM = ClassLoader.getPlatformClassLoader();

    /** Loaders noted, oldest first; weak, so a discarded loader can be collected. */
    private static final List<WeakReference<ClassLoader>> NOTED = new ArrayList<>();
    /** The loader noted last: noting it again (the usual case) costs one comparison. */
    private static volatile ClassLoader last;
    private static volatile String libraryClassPath;

    static {
        // What a child or a manager's server sends back may be of the classes of any of them.
        multiprocessing.internal.reduction.Serialization.lookUpAlsoIn(ClassReach::noted);
    }

    /**
     * The class path every child starts with: this JVM's {@code java.class.path}, then the
     * entries of the loaders of the library and its serializer that are not in it.
     */
    public static String libraryClassPath() {
        String cp = libraryClassPath;
        if (cp == null) {
            Set<String> entries = new LinkedHashSet<>(split(System.getProperty("java.class.path", "")));
            entries.addAll(entriesOf(ClassReach.class.getClassLoader()));
            entries.addAll(entriesOf(org.apache.fory.Fory.class.getClassLoader()));
            libraryClassPath = cp = String.join(File.pathSeparator, entries);
        }
        return cp;
    }

    /** Remembers that children may need the classes of {@code loader} (and its parents). */
    public static void note(ClassLoader loader) {
        if (loader == null || loader == last || loader == APP || loader == PLATFORM) {
            return;
        }
        synchronized (NOTED) {
            NOTED.removeIf(r -> r.get() == null);
            for (WeakReference<ClassLoader> r : NOTED) {
                if (r.get() == loader) {
                    last = loader;
                    return;
                }
            }
            NOTED.add(new WeakReference<>(loader));
            last = loader;
        }
        ClassServer.startIfNeeded();
    }

    /** Notes the loader of {@code type}. */
    public static void note(Class<?> type) {
        note(type.getClassLoader());
    }

    /** The loaders noted so far and the library's, most recent first: where names are looked up. */
    static List<ClassLoader> sources() {
        List<ClassLoader> loaders = noted();
        loaders.add(ClassReach.class.getClassLoader());
        return loaders;
    }

    /** The loaders noted so far, most recent first. */
    private static List<ClassLoader> noted() {
        List<ClassLoader> loaders = new ArrayList<>();
        synchronized (NOTED) {
            for (int i = NOTED.size() - 1; i >= 0; i--) {
                ClassLoader l = NOTED.get(i).get();
                if (l != null) {
                    loaders.add(l);
                }
            }
        }
        return loaders;
    }

    /**
     * The address of the server a child may ask for classes its class path lacks, or null when
     * this program has none to serve (see {@link ClassServer}).
     */
    public static String classServer() {
        return ClassServer.address();
    }

    /** The class-path entries of the noted loaders that the library's class path lacks. */
    public static List<String> extraEntries() {
        Set<String> base = new LinkedHashSet<>(split(libraryClassPath()));
        Set<String> extra = new LinkedHashSet<>();
        for (ClassLoader l : sources()) {
            for (String e : entriesOf(l)) {
                if (!base.contains(e)) {
                    extra.add(e);
                }
            }
        }
        return List.copyOf(extra);
    }

    /**
     * Why a child could not load {@code type}, or null when it can: from the JVM's own class
     * path, from the entries of its loader, or served by name by its loader. Hidden classes
     * other than serializable lambdas (which cross as their capturing class's lambda) have no
     * name to load them by.
     */
    public static String unreachable(Class<?> type) {
        if (type.isHidden()) {
            Class<?> capturing = capturingClass(type);
            if (capturing != null) {
                return unreachable(capturing);
            }
            if (type.isSynthetic() && java.io.Serializable.class.isAssignableFrom(type)) {
                int cut = type.getName().indexOf("$$Lambda");
                if (cut >= 0) {
                    // Its capturing class has no name to load it by: a hidden class's
                    // (attack 48: refused later, by the serializer, unclearly).
                    return "class " + type.getName() + " is a lambda written in "
                            + type.getName().substring(0, cut) + ", a class that cannot be"
                            + " loaded by its name (a hidden class, Lookup.defineHiddenClass):"
                            + " another JVM could not rebuild it. Write the lambda in a named"
                            + " class, or use a named class";
                }
                return null; // a serializable lambda named in a way not foreseen here
            }
            return "class " + type.getName() + " is a hidden class (Lookup.defineHiddenClass):"
                    + " it has no name another JVM could load it by. Use a named class, or a"
                    + " serializable lambda";
        }
        ClassLoader loader = type.getClassLoader();
        if (loader == null || loader == APP || loader == PLATFORM) {
            return null;
        }
        String resource = type.getName().replace('.', '/') + ".class";
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in != null) {
                return null;
            }
        } catch (IOException | RuntimeException e) {
            // as if not there
        }
        return "class " + type.getName() + " was defined by class loader " + describe(loader)
                + ", which cannot give another JVM its class file: it is not on a class path,"
                + " and the loader's getResourceAsStream(\"" + resource + "\") finds nothing. Put the"
                + " class in a jar or directory loaded by the application or a URLClassLoader,"
                + " or have the loader serve the bytes it defined the class from as that"
                + " resource (override findResource or getResourceAsStream)";
    }

    /**
     * The class whose {@code $deserializeLambda$} rebuilds a serializable lambda of class
     * {@code type} (a child must load it), or null when {@code type} is no such lambda.
     */
    private static Class<?> capturingClass(Class<?> type) {
        if (!type.isSynthetic() || !java.io.Serializable.class.isAssignableFrom(type)) {
            return null;
        }
        try {
            // Only the name is needed; it is in the lambda's SerializedLambda, which takes an
            // instance to get. The JDK names the lambda class after the capturing class.
            String name = type.getName();
            int cut = name.indexOf("$$Lambda");
            if (cut < 0) {
                return null;
            }
            return Class.forName(name.substring(0, cut), false, type.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    /** The bytes of class {@code name} as one of the noted loaders serves them, or null. */
    static byte[] classBytes(String name) {
        String resource = name.replace('.', '/') + ".class";
        for (ClassLoader l : sources()) {
            try (InputStream in = l.getResourceAsStream(resource)) {
                if (in != null) {
                    return in.readAllBytes();
                }
            } catch (IOException | RuntimeException e) {
                // the next loader may have it
            }
        }
        return null;
    }

    private static String describe(ClassLoader loader) {
        String name = loader.getName();
        return loader.getClass().getName() + (name != null ? " '" + name + "'" : "") + "@"
                + Integer.toHexString(System.identityHashCode(loader));
    }

    /**
     * The file class-path entries of {@code loader} and its parents, up to the application
     * loader (whose entries are {@code java.class.path}, there already). A loader of another
     * kind adds none: its classes are served by name.
     */
    static List<String> entriesOf(ClassLoader loader) {
        List<ClassLoader> chain = new ArrayList<>();
        for (ClassLoader l = loader; l != null && l != APP && l != PLATFORM; l = l.getParent()) {
            chain.add(0, l); // parents first, as they are searched first
        }
        Set<String> entries = new LinkedHashSet<>();
        for (ClassLoader l : chain) {
            if (l instanceof URLClassLoader u) {
                for (URL url : u.getURLs()) {
                    String entry = entryOf(url);
                    if (entry != null) {
                        entries.add(entry);
                    }
                }
            }
        }
        return List.copyOf(entries);
    }

    /** A class-path entry for {@code url}, or null when it names no file of this machine. */
    static String entryOf(URL url) {
        try {
            String s = url.toString();
            if (s.startsWith("jar:nested:") || s.startsWith("nested:")
                    || (s.startsWith("jar:") && s.indexOf("!/") < s.length() - 2)) {
                return BootJars.entryOf(s);
            }
            if (s.startsWith("jar:file:") && s.endsWith("!/")) {
                url = URI.create(s.substring(4, s.length() - 2)).toURL();
            }
            if (!"file".equals(url.getProtocol())) {
                return null;
            }
            return Path.of(url.toURI()).toString();
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * The entries of {@code classPath}; an empty one is the current directory, as the JVM
     * takes it (attack 40: {@code -cp ":app.jar"}, or {@code CLASSPATH} extended from empty,
     * found the program's classes in the parent and in no child), and a child starts there.
     */
    static List<String> split(String classPath) {
        List<String> entries = new ArrayList<>();
        if (classPath.isEmpty()) {
            return entries;
        }
        for (String e : classPath.split(File.pathSeparator, -1)) {
            entries.add(e.isEmpty() ? "." : e);
        }
        return entries;
    }
}
