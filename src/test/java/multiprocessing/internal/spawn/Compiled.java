package multiprocessing.internal.spawn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/** Java sources compiled by a test into a directory of its own, off the test's class path. */
final class Compiled {
    private Compiled() {}

    /**
     * Compiles {@code sources} (file name relative to the source root, text) into {@code out}
     * against the test JVM's class path, with javac's {@code options} too.
     */
    static Path compile(Path out, Map<String, String> sources, String... options)
            throws IOException {
        Path src = Files.createDirectories(out.resolveSibling(out.getFileName() + "-src"));
        List<String> args = new ArrayList<>(List.of("-d", out.toString(), "-proc:none",
                "-cp", System.getProperty("java.class.path")));
        args.addAll(List.of(options));
        for (Map.Entry<String, String> e : sources.entrySet()) {
            Path file = src.resolve(e.getKey());
            Files.createDirectories(file.getParent());
            Files.writeString(file, e.getValue());
            args.add(file.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter errors = new StringWriter();
        int rc = javac.run(null, null, null, args.toArray(String[]::new));
        assertTrue(rc == 0, "javac failed: " + errors);
        return out;
    }

    /** Every class file under {@code dir}, by binary name. */
    static Map<String, byte[]> classes(Path dir) throws IOException {
        Map<String, byte[]> classes = new HashMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                String name = dir.relativize(f).toString().replace('/', '.');
                classes.put(name.substring(0, name.length() - ".class".length()),
                        Files.readAllBytes(f));
            }
        }
        return classes;
    }
}
