package multiprocessing.internal.spawn;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The class path split into the part an AOT cache can hold (its jars, in their order) and the
 * rest (directories), and whether a child may run with the jars first.
 *
 * <p>Implementation note. The JVM refuses to dump a cache with a non-empty directory on the
 * class path, but maps one whose class path is a <em>prefix</em> of the run-time class path. So
 * with the user's classes in a directory (an IDE, {@code mvn exec:java}, a test run) the cache
 * is trained on the jars alone, and a child that maps it runs with the jars first, in their
 * original relative order, and the directories after them, in theirs. That moves a jar ahead of
 * a directory that preceded it, which changes what a name resolves to only if the directory
 * and the jar hold the same file (a class, a resource, a service file), or if the jar's
 * manifest {@code Class-Path} brings more entries along: either, and the class path is left as
 * it is, with no cache. Only moved pairs are compared; a multi-release jar's
 * {@code META-INF/versions/N/} entries count under their plain names.
 *
 * <p>The check reads every moved jar's central directory and lists every directory that
 * precedes a jar: a few milliseconds for a small application and its dependencies (see
 * bench/RESULTS.md), done once per JVM by {@link AotCache}. A file added to a
 * directory later in the JVM's life is not seen; a class compiled into a directory while a
 * program runs is rarely also in one of its jars.
 */
record ClassPathLayout(List<String> jars, List<String> directories) {

    /**
     * The layout of {@code classPath}, or null when no cache can be used with it: empty, the
     * current directory (an empty entry), an entry that is neither a file nor a directory, no
     * jar at all, or directories that cannot go after the jars.
     */
    static ClassPathLayout of(String classPath) throws IOException {
        if (classPath.isEmpty()) {
            return null;
        }
        List<String> jars = new ArrayList<>();
        List<String> directories = new ArrayList<>();
        boolean moves = false; // a jar follows a directory

        for (String entry : classPath.split(File.pathSeparator, -1)) {
            if (entry.isEmpty()) {
                return null;
            }
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(Path.of(entry), BasicFileAttributes.class);
            } catch (IOException e) {
                return null;
            }
            if (a.isRegularFile()) {
                jars.add(entry);
                moves |= !directories.isEmpty();
            } else if (a.isDirectory()) {
                directories.add(entry);
            } else {
                return null;
            }
        }
        if (jars.isEmpty()) {
            return null;
        }
        if (moves && !safeToReorder(classPath)) {
            return null;
        }
        return new ClassPathLayout(List.copyOf(jars), List.copyOf(directories));
    }

    /** Whether no jar that would move ahead of a directory shares a name with it. */
    private static boolean safeToReorder(String classPath) throws IOException {
        Map<String, Boolean> before = new HashMap<>(); // names in the directories seen so far
        for (String entry : classPath.split(File.pathSeparator, -1)) {
            Path p = Path.of(entry);
            if (Files.isDirectory(p)) {
                try (Stream<Path> files = Files.walk(p)) {
                    files.filter(Files::isRegularFile).forEach(f -> before.put(
                            plainName(p.relativize(f).toString().replace(File.separatorChar, '/')),
                            Boolean.TRUE));
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
            } else if (!before.isEmpty()) {
                try (JarFile jar = new JarFile(p.toFile(), false)) {
                    Manifest m = jar.getManifest();
                    if (m != null && m.getMainAttributes().containsKey(Attributes.Name.CLASS_PATH)) {
                        return false;
                    }
                    for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                        JarEntry je = e.nextElement();
                        if (!je.isDirectory() && before.containsKey(plainName(je.getName()))) {
                            return false;
                        }
                    }
                }
            }
        }
        return true;
    }

    /** A multi-release entry's name as the class loader looks it up. */
    private static String plainName(String name) {
        if (name.startsWith("META-INF/versions/")) {
            int slash = name.indexOf('/', "META-INF/versions/".length());
            if (slash > 0) {
                return name.substring(slash + 1);
            }
        }
        return name;
    }

    /** The class path a cache is trained with, and which the child's must start with. */
    String archived() {
        return String.join(File.pathSeparator, jars);
    }

    /** The class path of a child that maps the cache: the jars, then the directories. */
    String child() {
        List<String> all = new ArrayList<>(jars);
        all.addAll(directories);
        return String.join(File.pathSeparator, all);
    }
}
