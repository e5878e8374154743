package multiprocessing.internal.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;

import multiprocessing.NoLeftoverProcesses;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A program packaged as a Spring Boot 4.0 executable jar ({@code java -jar app.jar}: the
 * library and the program are nested in it, loaded by Boot's launcher) runs processes and a
 * pool, with spawn and with forkserver; the nested jars are extracted once into the cache, and
 * its children get an AOT cache as a plain jar's do.
 * The jar is laid out as Boot's repackager lays it out, with the loader of spring-boot-loader
 * 4.0.7 (a test dependency).
 */
@ExtendWith(NoLeftoverProcesses.class)
@Timeout(600) // trains AOT caches: minutes at load 140, seconds on a quiet machine
class BootJarTest {
    @TempDir
    static Path dir;
    private static Path app;
    private static Path aot;

    /**
     * Starts a child that says whether it was given an AOT cache, waits for the cache the first
     * start had trained to be written, and starts another.
     */
    static final String AOT = """
            package demo;

            import java.nio.charset.StandardCharsets;
            import java.nio.file.Files;
            import java.nio.file.Path;
            import java.util.stream.Stream;
            import multiprocessing.Process;

            public class Aot {
                public static void main(String[] args) throws Exception {
                    Path cache = Path.of(args[0]);
                    child();
                    long deadline = System.nanoTime() + 400_000_000_000L;
                    while (!hasCache(cache)) {
                        if (System.nanoTime() > deadline) {
                            throw new AssertionError("no AOT cache written in " + cache);
                        }
                        Thread.sleep(100);
                    }
                    child();
                }

                static boolean hasCache(Path dir) throws Exception {
                    try (Stream<Path> files = Files.list(dir)) {
                        return files.anyMatch(f -> f.toString().endsWith(".aot"));
                    }
                }

                static void child() throws Exception {
                    Process p = new Process(() -> {
                        String cmdline = Files.readString(Path.of("/proc/self/cmdline"),
                                StandardCharsets.ISO_8859_1);
                        System.out.println("child " + cmdline.contains("\0-XX:AOTCache="));
                    });
                    p.start();
                    p.join();
                    if (p.exitCode() != 0) {
                        throw new AssertionError("child exit code " + p.exitCode());
                    }
                }
            }
            """;

    @BeforeAll
    static void build() throws Exception {
        Path program = Compiled.compile(dir.resolve("program"),
                Map.of("demo/App.java", UrlClassLoaderTest.APP, "demo/Aot.java", AOT));
        List<Path> libs = new ArrayList<>();
        Path loader = null;
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (e.contains("spring-boot-loader")) {
                loader = p;
            } else if (Files.isDirectory(p) && !e.contains("test-classes")) {
                libs.add(jarOf(p, dir.resolve("multiprocessing-0.1.0-SNAPSHOT.jar")));
            } else if (e.contains("fory") || e.contains("janino") || e.contains("commons-compiler")) {
                libs.add(p);
            }
        }
        app = bootJar(dir.resolve("app.jar"), "demo.App", loader, program, libs);
        aot = bootJar(dir.resolve("aot.jar"), "demo.Aot", loader, program, libs);
    }

    @Test
    void aBootJarsChildrenMapAnAotCacheOnceItIsTrained() throws Exception {
        assumeTrue(Runtime.version().feature() >= 25, "AOT caches need JDK 25");
        Path cache = dir.resolve("aot-cache");
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-Dmultiprocessing.cacheDir=" + cache, "-jar", aot.toString(), cache.toString());
        java.lang.Process parent = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try {
            output = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(parent.waitFor(500, TimeUnit.SECONDS), "the program ended: " + output);
        } finally {
            parent.destroyForcibly();
        }
        assertEquals(0, parent.exitValue(), output);
        // The library's own jar is a nested one: the cache is trained on its extracted copy.
        assertEquals("child false\nchild true\n", output);
    }

    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void aBootJarRunsProcessesAndAPool(String method) throws Exception {
        Path cache = dir.resolve("cache");
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-Dmultiprocessing.cacheDir=" + cache, "-jar", app.toString(), method);
        java.lang.Process parent = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try {
            output = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(parent.waitFor(500, TimeUnit.SECONDS), "the program ended: " + output);
        } finally {
            parent.destroyForcibly();
        }
        assertEquals(0, parent.exitValue(), output);
        assertTrue(output.contains("process 0 Greeting[text=hello, n=7]"), output);
        assertTrue(output.contains("pool [Greeting[text=sq, n=1], Greeting[text=sq, n=4], "
                + "Greeting[text=sq, n=9]]"), output);
        assertTrue(output.contains("manager 0 7"), output);
        try (Stream<Path> extracted = Files.list(cache.resolve("boot"))) {
            List<Path> trees = extracted.toList();
            assertEquals(1, trees.size(), "one extraction, reused: " + trees);
            assertTrue(Files.isRegularFile(trees.get(0)
                    .resolve("BOOT-INF/lib/multiprocessing-0.1.0-SNAPSHOT.jar")));
            assertTrue(Files.isRegularFile(trees.get(0).resolve("BOOT-INF/classes/demo/App.class")));
        }
    }

    private static Path jarOf(Path classes, Path jar) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString()));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        return jar;
    }

    /** Boot's layout: its loader at the root, the program in classes/, libraries stored in lib/. */
    private static Path bootJar(Path jar, String startClass, Path loader, Path classes,
            List<Path> libs) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.put(Attributes.Name.MAIN_CLASS, "org.springframework.boot.loader.launch.JarLauncher");
        main.putValue("Start-Class", startClass);
        main.putValue("Spring-Boot-Version", "4.0.7");
        main.putValue("Spring-Boot-Classes", "BOOT-INF/classes/");
        main.putValue("Spring-Boot-Lib", "BOOT-INF/lib/");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest);
                JarFile boot = new JarFile(loader.toFile())) {
            for (Enumeration<JarEntry> e = boot.entries(); e.hasMoreElements(); ) {
                JarEntry entry = e.nextElement();
                if (entry.getName().startsWith("META-INF/")) {
                    continue;
                }
                out.putNextEntry(new JarEntry(entry.getName()));
                try (InputStream in = boot.getInputStream(entry)) {
                    in.transferTo(out);
                }
                out.closeEntry();
            }
            // Boot finds its class path by directory entries: BOOT-INF/classes/ must be one.
            out.putNextEntry(new JarEntry("BOOT-INF/"));
            out.closeEntry();
            try (Stream<Path> files = Files.walk(classes)) {
                for (Path f : files.toList()) {
                    String name = "BOOT-INF/classes/" + classes.relativize(f);
                    if (Files.isDirectory(f)) {
                        out.putNextEntry(new JarEntry(name.endsWith("/") ? name : name + "/"));
                    } else {
                        out.putNextEntry(new JarEntry(name));
                        Files.copy(f, out);
                    }
                    out.closeEntry();
                }
            }
            out.putNextEntry(new JarEntry("BOOT-INF/lib/"));
            out.closeEntry();
            for (Path lib : libs) {
                // Boot reads nested jars in place: they must be stored, not deflated.
                byte[] bytes = Files.readAllBytes(lib);
                CRC32 crc = new CRC32();
                crc.update(bytes);
                JarEntry entry = new JarEntry("BOOT-INF/lib/" + lib.getFileName());
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(bytes.length);
                entry.setCompressedSize(bytes.length);
                entry.setCrc(crc.getValue());
                out.putNextEntry(entry);
                out.write(bytes);
                out.closeEntry();
            }
        }
        return jar;
    }

}
