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
 * A program launched as users launch it, in ways that reached its children wrongly (attack 40):
 * a class path with an empty entry, archive options in the launcher's environment, preview
 * features. Each program starts a child with spawn and with forkserver, which prints a line.
 */
@ExtendWith(NoLeftoverProcesses.class)
@Timeout(180)
class ProgramLaunchTest {
    @TempDir
    Path dir;

    /** {@code App}: a child per start method prints {@code child} and what it sees. */
    private static String app(String child) {
        return """
                import multiprocessing.Multiprocessing;
                import multiprocessing.Process;

                public class App {
                    public static void main(String[] args) throws Exception {
                        for (String method : new String[] {"spawn", "forkserver"}) {
                            Process p = Multiprocessing.getContext(method).process(
                                    () -> System.out.println("child " + CHILD));
                            p.start();
                            p.join();
                            System.out.println(method + " exit " + p.exitCode());
                        }
                    }
                }
                """.replace("CHILD", child);
    }

    /**
     * Runs {@code App} from its class directory (the working directory) with the library's
     * class path {@code prefix}ed, {@code options} and {@code environment}; returns its output
     * once it has ended, both children with 0, and itself with 0 if {@code exitsZero}.
     */
    private String run(Path program, String prefix, List<String> options,
            Map<String, String> environment, boolean exitsZero) throws Exception {
        List<String> library = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.contains("test-classes") && !e.contains("junit") && !e.contains("opentest4j")
                    && !e.contains("apiguardian")) {
                library.add(e);
            }
        }
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"));
        command.addAll(options);
        command.addAll(List.of("-cp", prefix + String.join(File.pathSeparator, library), "App"));
        ProcessBuilder builder = new ProcessBuilder(command).directory(program.toFile())
                .redirectErrorStream(true);
        builder.environment().putAll(environment);
        java.lang.Process parent = builder.start();
        String output;
        try {
            output = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(parent.waitFor(120, TimeUnit.SECONDS), "the program ended: " + output);
        } finally {
            parent.destroyForcibly();
        }
        if (exitsZero) {
            assertEquals(0, parent.exitValue(), output);
        }
        assertTrue(output.contains("spawn exit 0") && output.contains("forkserver exit 0"), output);
        return output;
    }

    private static long count(String output, String line) {
        return output.lines().filter(line::equals).count();
    }

    /**
     * An empty class-path entry is the current directory, for the JVM and so for every child
     * ({@code -cp ":app.jar"}, or a {@code CLASSPATH} extended from empty, found the program in
     * the parent's current directory and in no child's).
     */
    @Test
    void anEmptyClassPathEntryIsTheCurrentDirectoryInEveryChild() throws Exception {
        Path program = Compiled.compile(dir.resolve("app"),
                Map.of("App.java", app("App.class.getName()")));
        String output = run(program, File.pathSeparator, List.of(), Map.of(), true);
        assertEquals(2, count(output, "child App"), output);
    }

    /**
     * A program whose launcher's environment makes it write a class archive at exit (the
     * README's {@code -XX:AOTCacheOutput}, given through {@code JDK_JAVA_OPTIONS}) does not
     * make every child write one too (each wrote the same file over the others', warning in
     * hundreds of lines and exiting seconds late); the environment's other options reach them.
     */
    @Test
    void archiveWritingOptionsOfTheEnvironmentReachNoChild() throws Exception {
        Path program = Compiled.compile(dir.resolve("app"), Map.of("App.java",
                app("System.getenv(\"JDK_JAVA_OPTIONS\") + \"|\" + System.getProperty(\"mark\")")));
        // The program's own JVM fails its dump as it exits (1): a test run's class path has
        // directories (the library's classes), which no archive takes.
        String output = run(program, "." + File.pathSeparator, List.of(), Map.of(
                "JDK_JAVA_OPTIONS", "-XX:AOTCacheOutput=" + dir.resolve("app.aot") + " -Dmark=kept"),
                false);
        assertEquals(2, count(output, "child -Dmark=kept|kept"), output);
    }

    /** A program compiled with preview features runs its children with them too. */
    @Test
    void aProgramRunWithPreviewFeaturesRunsItsChildrenWithThem() throws Exception {
        String release = Integer.toString(Runtime.version().feature());
        Path program = Compiled.compile(dir.resolve("app"), Map.of("App.java",
                app("(((Object) 42) instanceof int i ? \"int \" + i : \"no\")")),
                "--enable-preview", "--release", release);
        String output = run(program, "." + File.pathSeparator, List.of("--enable-preview"),
                Map.of(), true);
        assertEquals(2, count(output, "child int 42"), output);
    }
}
