package multiprocessing.internal.spawn;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Spring Boot's nested jars as files a child's class path can name.
 *
 * <p>Implementation note. In an executable Boot jar (Boot 3.2 and later, 4.0 included) the
 * program and its libraries, this one too, are {@code BOOT-INF/classes/} and the jars in
 * {@code BOOT-INF/lib/}, loaded through URLs such as
 * {@code jar:nested:/path/app.jar/!BOOT-INF/lib/x.jar!/} (before 3.2:
 * {@code jar:file:/path/app.jar!/BOOT-INF/lib/x.jar!/}) that no JVM can take on its class
 * path. A child could start through Boot's own launcher instead ({@code PropertiesLauncher}
 * with {@code loader.main}), but then every child would open and index the nested jars again
 * before its target, and no AOT cache could be mapped; so the nested entries are extracted
 * once, into a per-user cache directory named by the SHA-256 of the Boot jar, and every child
 * (of every later run of the same jar) takes them from there as plain jars and a directory.
 * Extraction goes to a temporary directory renamed into place, so concurrent JVMs never see
 * half a tree; the loser of a race removes its copy. Caches of other jars are not removed.
 */
final class BootJars {
    private BootJars() {}

    private static final Map<Path, Path> EXTRACTED = new ConcurrentHashMap<>();

    /** A class-path entry for Boot's nested URL {@code url}, or null when it is none. */
    static String entryOf(String url) {
        String s = url;
        if (s.startsWith("jar:")) {
            s = s.substring(4);
        }
        String jar;
        String nested;
        if (s.startsWith("nested:")) {
            // nested:/path/app.jar/!BOOT-INF/lib/x.jar!/
            int bang = s.indexOf("/!");
            if (bang < 0) {
                return null;
            }
            jar = decode(s.substring("nested:".length(), bang));
            nested = s.substring(bang + 2);
        } else if (s.startsWith("file:")) {
            // file:/path/app.jar!/BOOT-INF/lib/x.jar!/
            int bang = s.indexOf("!/");
            if (bang < 0) {
                return null;
            }
            jar = decode(s.substring("file:".length(), bang));
            nested = s.substring(bang + 2);
        } else {
            return null;
        }
        if (nested.endsWith("!/")) {
            nested = nested.substring(0, nested.length() - 2);
        }
        if (nested.endsWith("/")) {
            nested = nested.substring(0, nested.length() - 1);
        }
        if (!nested.startsWith("BOOT-INF/") && !nested.startsWith("WEB-INF/")) {
            return null;
        }
        try {
            Path root = extracted(Path.of(jar));
            Path entry = root.resolve(nested).normalize();
            return entry.startsWith(root) && Files.exists(entry) ? entry.toString() : null;
        } catch (IOException | RuntimeException e) {
            multiprocessing.internal.util.LibraryLog.get().log(System.Logger.Level.DEBUG,
                    "multiprocessing: cannot extract " + jar + " for child processes", e);
            return null;
        }
    }

    private static String decode(String path) {
        return URLDecoder.decode(path.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** The directory holding {@code jar}'s BOOT-INF (and WEB-INF) tree, extracting it once. */
    static Path extracted(Path jar) throws IOException {
        Path key = jar.toAbsolutePath();
        Path done = EXTRACTED.get(key);
        if (done != null) {
            return done;
        }
        synchronized (BootJars.class) {
            done = EXTRACTED.get(key);
            if (done == null) {
                done = extract(key, cacheDir().resolve("boot").resolve(digest(key)));
                EXTRACTED.put(key, done);
            }
            return done;
        }
    }

    private static Path extract(Path jar, Path target) throws IOException {
        if (Files.isDirectory(target)) {
            return target;
        }
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempDirectory(target.getParent(), target.getFileName() + ".tmp");
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            for (Enumeration<JarEntry> e = file.entries(); e.hasMoreElements(); ) {
                JarEntry entry = e.nextElement();
                String name = entry.getName();
                if (entry.isDirectory()
                        || !(name.startsWith("BOOT-INF/") || name.startsWith("WEB-INF/"))) {
                    continue;
                }
                Path out = tmp.resolve(name).normalize();
                if (!out.startsWith(tmp)) {
                    continue; // a name that climbs out of the tree
                }
                Files.createDirectories(out.getParent());
                try (InputStream in = file.getInputStream(entry)) {
                    Files.copy(in, out);
                }
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException
                    | AtomicMoveNotSupportedException raced) {
                if (!Files.isDirectory(target)) {
                    throw raced;
                }
            }
        } finally {
            deleteTree(tmp);
        }
        return target;
    }

    private static String digest(Path jar) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(jar),
                MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest(),
                    0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a stale temporary directory harms nothing
                }
            });
        } catch (IOException ignored) {
            // as above
        }
    }

    /** The library's per-user cache directory, as the AOT cache uses it. */
    private static Path cacheDir() {
        return AotCache.Environment.cacheDir();
    }
}
