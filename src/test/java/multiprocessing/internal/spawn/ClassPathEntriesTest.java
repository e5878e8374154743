package multiprocessing.internal.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverProcesses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A class path as users write it: an empty entry is the current directory, for the JVM and so
 * for every child (attack 40: {@code -cp ":app.jar"}, or a {@code CLASSPATH} extended from
 * empty, found the program in the parent's current directory and in no child's).
 */
@ExtendWith(NoLeftoverProcesses.class)
@Timeout(120)
class ClassPathEntriesTest {
    static final String APP = """
            import multiprocessing.Multiprocessing;
            import multiprocessing.Process;

            public class App {
                public static void main(String[] args) throws Exception {
                    for (String method : new String[] {"spawn", "forkserver"}) {
                        Process p = Multiprocessing.getContext(method).process(
                                () -> System.out.println("a child of " + App.class.getName()));
                        p.start();
                        p.join();
                        System.out.println(method + " exit " + p.exitCode());
                    }
                }
            }
            """;

    @Test
    void anEmptyEntryIsTheCurrentDirectoryInEveryChild(@TempDir Path dir) throws Exception {
        Path program = Compiled.compile(dir.resolve("app"), Map.of("App.java", APP));
        List<String> library = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.contains("test-classes") && !e.contains("junit") && !e.contains("opentest4j")
                    && !e.contains("apiguardian")) {
                library.add(e);
            }
        }
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", File.pathSeparator + String.join(File.pathSeparator, library), "App");
        java.lang.Process parent = new ProcessBuilder(command).directory(program.toFile())
                .redirectErrorStream(true).start();
        String output;
        try {
            output = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(parent.waitFor(90, TimeUnit.SECONDS), "the program ended: " + output);
        } finally {
            parent.destroyForcibly();
        }
        assertEquals(0, parent.exitValue(), output);
        assertTrue(output.contains("spawn exit 0") && output.contains("forkserver exit 0"), output);
        assertEquals(2, output.lines().filter("a child of App"::equals).count(), output);
    }
}
