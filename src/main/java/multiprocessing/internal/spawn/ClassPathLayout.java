package multiprocessing.internal.spawn;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * The class path split into the part an AOT cache can hold (jars, in their order) and the rest,
 * and whether a child may run with that part first.
 *
 * <p>Implementation note. The JVM refuses to dump a cache with a non-empty directory on the
 * class path, but maps one whose class path is a <em>prefix</em> of the run-time class path. So
 * with the user's classes in a directory (an IDE, {@code mvn exec:java}, a test run) the cache
 * is trained on jars alone, and a child that maps it runs with those jars first. Which jars:
 * <ul>
 * <li>the library's and its serializer's, when they are jars of the class path: the rest
 * follows in its original order. The cache holds nothing else anyway (its trainer runs the
 * library's tour), and a child then finds the program's classes in a directory after opening
 * those jars only. With all jars first it opened every jar of the class path (reading each
 * one's central directory) before it reached the directory for its first class of the
 * program: ~17 ms of every child's start with a dozen jars (Hazelcast's has 12,000 entries),
 * more for a program with many dependencies. A program's rebuilt jar then no longer makes a
 * new cache either.</li>
 * <li>otherwise every jar, in the original relative order, and the directories after them.</li>
 * </ul>
 * Moving a jar ahead of entries that preceded it changes what a name resolves to only if the
 * jar and one of those entries hold the same file (a class, a resource, a service file), or if
 * a manifest {@code Class-Path} brings more entries along: either, and the next choice is
 * tried, then the class path is left as it is, with no cache. Only moved pairs are compared; a
 * multi-release jar's {@code META-INF/versions/N/} entries count under their plain names.
 * Without directories nothing moves: every jar is in the cache's class path.
 *
 * <p>The check reads the central directory of every jar that moves or is moved past, and looks
 * up each name of a moving jar in every directory moved past: a few milliseconds for a small
 * application and its dependencies (see bench/RESULTS.md), done once per JVM by {@link
 * AotCache}. A file added to a directory later in the JVM's life is not seen; a class compiled
 * into a directory while a program runs is rarely also in one of its jars. A program that asks
 * its class loader for one of the names every jar carries ({@link #inert}) by name gets another
 * jar's copy, as any class path order but the original would give it.
 */
record ClassPathLayout(List<String> jars, List<String> rest) {

    /** As {@link #of(String, Collection)} with no library jars known: every jar first. */
    static ClassPathLayout of(String classPath) throws IOException {
        return of(classPath, List.of());
    }

    /**
     * The layout of {@code classPath}, or null when no cache can be used with it: empty, the
     * current directory (an empty entry), an entry that is neither a file nor a directory, no
     * jar at all, or jars that cannot go ahead of the entries that precede them.
     *
     * @param library the jars of the library and its serializer (empty: unknown); the
     *     library-first layout applies only when every one of them is a jar of the class path
     */
    static ClassPathLayout of(String classPath, Collection<Path> library) throws IOException {
        if (classPath.isEmpty()) {
            return null;
        }
        List<String> entries = List.of(classPath.split(File.pathSeparator, -1));
        List<String> jars = new ArrayList<>();
        List<String> directories = new ArrayList<>();
        List<String> libraryJars = new ArrayList<>();

        for (String entry : entries) {
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
                if (isOneOf(Path.of(entry), library)) {
                    libraryJars.add(entry);
                }
            } else if (a.isDirectory()) {
                directories.add(entry);
            } else {
                return null;
            }
        }
        if (jars.isEmpty()) {
            return null;
        }
        if (directories.isEmpty()) {
            return new ClassPathLayout(List.copyOf(jars), List.of());
        }
        if (!library.isEmpty() && libraryJars.size() == library.size()
                && safeToReorder(entries, Set.copyOf(libraryJars))) {
            List<String> rest = new ArrayList<>(entries);
            rest.removeAll(libraryJars);
            return new ClassPathLayout(List.copyOf(libraryJars), List.copyOf(rest));
        }
        if (!safeToReorder(entries, Set.copyOf(jars))) {
            return null;
        }
        return new ClassPathLayout(List.copyOf(jars), List.copyOf(directories));
    }

    /**
     * Whether {@code target} is among the jars the manifests' {@code Class-Path}s of
     * {@code jars} bring along, followed as the JVM follows them (relative URLs, from each
     * jar's directory, and on through theirs).
     */
    static boolean reachesThroughManifests(List<String> jars, Path target) {
        java.util.ArrayDeque<Path> todo = new java.util.ArrayDeque<>();
        for (String j : jars) {
            todo.add(Path.of(j).toAbsolutePath());
        }
        Set<Path> seen = new HashSet<>();
        while (!todo.isEmpty()) {
            Path jar = todo.poll();
            if (!seen.add(jar.normalize()) || seen.size() > 10_000 || !Files.isRegularFile(jar)) {
                continue;
            }
            try {
                if (Files.isSameFile(jar, target)) {
                    return true;
                }
            } catch (IOException e) {
                continue;
            }
            String classPath;
            try (JarFile f = new JarFile(jar.toFile(), false)) {
                Manifest m = f.getManifest();
                classPath = m == null ? null
                        : m.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
            } catch (IOException | RuntimeException e) {
                continue;
            }
            if (classPath == null) {
                continue;
            }
            for (String entry : classPath.trim().split("\\s+")) {
                try {
                    java.net.URI uri = jar.toUri().resolve(entry);
                    if ("file".equals(uri.getScheme())) {
                        todo.add(Path.of(uri));
                    }
                } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
                    // not a path the JVM could open either
                }
            }
        }
        return false;
    }

    /** Whether {@code entry} is the same file as one of {@code files}. */
    private static boolean isOneOf(Path entry, Collection<Path> files) {
        for (Path f : files) {
            try {
                if (Files.isSameFile(entry, f)) {
                    return true;
                }
            } catch (IOException e) {
                // gone or unreadable: not that one
            }
        }
        return false;
    }

    /**
     * Whether the jars {@code first} can go ahead of the other entries, in order: no jar that
     * moves ahead of an entry shares a file's name with it, and no jar that moves or is moved
     * past has a manifest {@code Class-Path} (whose entries would move with it). Folders are
     * not compared: a package's folder is in every entry that holds a class of it, and a
     * lookup of one by name (a class-path scanner's {@code getResources("org/example/")})
     * finds them all, in another order.
     */
    private static boolean safeToReorder(List<String> entries, Set<String> first)
            throws IOException {
        Set<String> passedNames = new HashSet<>(); // names in the jars moved past so far
        List<Path> passedDirectories = new ArrayList<>();
        boolean passed = false; // an entry that stays has been seen: later firsts move
        int last = 0; // after the last jar that moves, nothing is moved past
        for (int i = 0; i < entries.size(); i++) {
            if (first.contains(entries.get(i))) {
                last = i;
            }
        }
        for (String entry : entries.subList(0, last + 1)) {
            Path p = Path.of(entry);
            boolean moving = first.contains(entry);
            if (moving && !passed) {
                continue; // nothing precedes it that stays: it does not move
            }
            passed |= !moving;
            if (Files.isDirectory(p)) {
                passedDirectories.add(p); // a directory never moves
                continue;
            }
            try (JarFile jar = new JarFile(p.toFile(), false)) {
                Manifest m = jar.getManifest();
                if (m != null && m.getMainAttributes().containsKey(Attributes.Name.CLASS_PATH)) {
                    return false;
                }
                for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                    JarEntry je = e.nextElement();
                    String name = plainName(je.getName());
                    if (je.isDirectory() || inert(name)) {
                        continue;
                    }
                    if (!moving) {
                        passedNames.add(name);
                    } else if (passedNames.contains(name)
                            || inAny(passedDirectories, name)) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /**
     * Whether one of {@code directories} holds a file the class loader would find for
     * {@code name}: it looks the name up (through symbolic links, as the class loader's
     * lookup goes), rather than listing each directory, whose size (a program run from a large
     * directory) would then set the cost: 50,000 files took ~250 ms to list. A name that is
     * no path here counts as held.
     */
    private static boolean inAny(List<Path> directories, String name) {
        for (Path d : directories) {
            try {
                if (Files.exists(d.resolve(name))) {
                    return true;
                }
            } catch (java.nio.file.InvalidPathException e) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a name that two entries both hold resolves to either one with no change to what
     * runs: every jar's manifest (read per jar, never by name), a module descriptor (not a
     * class on the class path), the jar index and signature files, and the licence and notice
     * files that most jars carry. Service files, and every other name, count.
     */
    static boolean inert(String name) {
        if (name.equals("module-info.class") || name.startsWith("META-INF/licenses/")) {
            return true;
        }
        if (!name.startsWith("META-INF/") || name.indexOf('/', 9) >= 0) {
            return false; // not a file directly in META-INF
        }
        String file = name.substring(9).toUpperCase(java.util.Locale.ROOT);
        return file.equals("MANIFEST.MF") || file.equals("INDEX.LIST")
                || file.endsWith(".SF") || file.endsWith(".RSA") || file.endsWith(".DSA")
                || file.endsWith(".EC") || file.startsWith("LICENSE")
                || file.startsWith("NOTICE") || file.startsWith("DEPENDENCIES");
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

    /** The class path of a child that maps the cache: the cache's jars, then the rest. */
    String child() {
        List<String> all = new ArrayList<>(jars);
        all.addAll(rest);
        return String.join(File.pathSeparator, all);
    }
}
