package multiprocessing.internal.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A program launched as users launch it, in ways that reached its children wrongly (attack 40):
 * a class path with an empty entry, archive options in the launcher's environment, preview
 * features, a umask that takes an owner's bit, a temporary directory's name the JVM cannot
 * write. Each program starts a child with spawn and with forkserver, which prints a line.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
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
        return run(program, prefix, options, environment, exitsZero, null);
    }

    /** As above, under {@code umask} (null: this JVM's). */
    private String run(Path program, String prefix, List<String> options,
            Map<String, String> environment, boolean exitsZero, String umask) throws Exception {
        return run(program, prefix, options, environment, exitsZero, umask, program);
    }

    /** As above, in {@code workingDirectory}. */
    private String run(Path program, String prefix, List<String> options,
            Map<String, String> environment, boolean exitsZero, String umask,
            Path workingDirectory) throws Exception {
        List<String> library = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.contains("test-classes") && !e.contains("junit") && !e.contains("opentest4j")
                    && !e.contains("apiguardian")) {
                library.add(e);
            }
        }
        List<String> command = new ArrayList<>();
        if (umask != null) {
            command.addAll(List.of("sh", "-c", "umask " + umask + " && exec \"$0\" \"$@\""));
        }
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"));
        command.addAll(options);
        String classPath = prefix + String.join(File.pathSeparator, library);
        if (classPath.length() > 100_000) {
            // Too long for one argument of exec: the launcher reads it from a file.
            Path argfile = dir.resolve("classpath.args");
            java.nio.file.Files.writeString(argfile, "-cp \"" + classPath.replace("\n", "\\n")
                    + "\"\n");
            command.addAll(List.of("@" + argfile, "App"));
        } else {
            command.addAll(List.of("-cp", classPath, "App"));
        }
        // Both to files, read once it has ended, so that a program that hangs fails the test
        // rather than holding it at a read; standard error apart: a child's line there
        // ("Picked up ...") could land inside one of its lines here.
        Path out = dir.resolve("stdout.txt");
        Path errors = dir.resolve("stderr.txt");
        ProcessBuilder builder = new ProcessBuilder(command).directory(workingDirectory.toFile())
                .redirectOutput(out.toFile()).redirectError(errors.toFile());
        builder.environment().putAll(environment);
        java.lang.Process parent = builder.start();
        boolean ended;
        try {
            ended = parent.waitFor(120, TimeUnit.SECONDS);
        } finally {
            parent.destroyForcibly();
        }
        String output = new String(java.nio.file.Files.readAllBytes(out), StandardCharsets.UTF_8)
                + "\n(standard error:)\n"
                + new String(java.nio.file.Files.readAllBytes(errors), StandardCharsets.UTF_8);
        assertTrue(ended, "the program ended: " + output);
        if (exitsZero) {
            assertEquals(0, parent.exitValue(), output);
        }
        assertTrue(output.contains("spawn exit 0") && output.contains("forkserver exit 0"), output);
        return output;
    }

    private static boolean leftIn(String prefix) throws java.io.IOException {
        try (java.util.stream.Stream<Path> s = Files.list(Path.of("/dev/shm"))) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith(prefix));
        }
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
    /**
     * A program whose working directory was removed (a service started from a temporary
     * directory) starts children and the resource tracker: a JVM cannot start in a removed
     * directory, and none could (attack 48).
     */
    @Test
    void aProgramWhoseWorkingDirectoryWasRemovedStartsChildren() throws Exception {
        String deleting = """
                import multiprocessing.Multiprocessing;
                import multiprocessing.Process;

                public class App {
                    public static void main(String[] args) throws Exception {
                        java.nio.file.Files.delete(java.nio.file.Path.of(
                                System.getProperty("user.dir")));
                        try (var shm = multiprocessing.sharedmemory.SharedMemory.create(64)) {
                            shm.unlink();
                        }
                        for (String method : new String[] {"spawn", "forkserver"}) {
                            Process p = Multiprocessing.getContext(method).process(
                                    () -> System.out.println("child ran"));
                            p.start();
                            p.join();
                            System.out.println(method + " exit " + p.exitCode());
                        }
                    }
                }
                """;
        Path program = Compiled.compile(dir.resolve("app"), Map.of("App.java", deleting));
        Path gone = Files.createDirectory(dir.resolve("gone"));
        String output = run(program, program + File.pathSeparator, List.of(), Map.of(), true,
                null, gone);
        assertEquals(2, count(output, "child ran"), output);
        assertTrue(!output.contains("cannot start the resource tracker"), output);
    }

    /**
     * The archive options taken out of an environment variable leave the rest as it was
     * written: split and joined again, a quoted value's blanks came out as one (attack 50).
     */
    @Test
    void archiveOptionsAreCutOutOfTheTextAsItIs() {
        String cut = Spawner.withoutArchiveChoices(
                " -XX:AOTCache=app.aot -Dg=\"a   b\"  -XX:AOTCacheOutput=x.aot -Xmx1g");
        assertTrue(cut.startsWith("-Dg=\"a   b\" ") && cut.endsWith(" -Xmx1g")
                && !cut.contains("AOT"), cut);
        String untouched = "-Dg=\"a   b\"\t-Xmx1g ";
        assertTrue(untouched == Spawner.withoutArchiveChoices(untouched), "nothing to cut");
    }

    /**
     * A class path longer than one argument of exec may be (Linux: 128 KiB; a {@code lib/*} of
     * a few thousand jars, expanded by the launcher) reaches every child and the resource
     * tracker: each start failed with E2BIG, and the tracker never started (attack 48).
     */
    @Test
    void aClassPathLongerThanAnArgumentOfExecReachesEveryChild() throws Exception {
        Path program = Compiled.compile(dir.resolve("app"), Map.of("App.java", app(
                "System.getProperty(\"java.class.path\").length() / 100_000 + \" \" + "
                        + "java.util.Optional.of(64).map(n -> { try (var m = multiprocessing"
                        + ".sharedmemory.SharedMemory.create(n)) { m.unlink(); return m.size(); }"
                        + " catch (Exception e) { throw new RuntimeException(e); } }).get()")));
        StringBuilder prefix = new StringBuilder(".");
        for (int i = 0; i < 1_500; i++) {
            prefix.append(File.pathSeparator).append("/nonexistent/").append("x".repeat(80))
                    .append(i).append(".jar");
        }
        // An entry with a line end, which ended the argument file's token (attack 49).
        prefix.append(File.pathSeparator).append("/nonexistent/line\nend.jar");
        prefix.append(File.pathSeparator);
        String output = run(program, prefix.toString(), List.of(), Map.of(), true);
        assertEquals(2, count(output, "child 1 64"), output);
        assertTrue(!output.contains("cannot start the resource tracker"), output);
    }

    /**
     * A collector chosen in the environment (as containers do, in {@code JAVA_TOOL_OPTIONS}
     * or {@code _JAVA_OPTIONS}) is the children's: the library added its own beside it, and
     * every child died at once with "Multiple garbage collectors selected" (attack 48).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({
            // a heap minimum above the tracker's maximum stopped it too (attack 50)
            "JAVA_TOOL_OPTIONS, -XX:+UseParallelGC -Xms64m",
            "_JAVA_OPTIONS, -XX:+UseParallelGC",
            // in a file the variable names (attack 50)
            "JDK_JAVA_OPTIONS, @FILE"})
    void aCollectorChosenInTheEnvironmentIsTheChildrens(String variable, String value)
            throws Exception {
        if (value.equals("@FILE")) {
            Path options = dir.resolve("gc.options");
            Files.writeString(options, "-XX:+UseParallelGC\n");
            value = "@" + options;
        }
        // Each child leaves a segment for the resource tracker, whose JVM the collector
        // stopped too (review 52): nothing was cleaned up.
        String leftFor = "mpj_envgc_" + ProcessHandle.current().pid() + "_" + System.nanoTime();
        Path program = Compiled.compile(dir.resolve("app"), Map.of("App.java", app(
                "java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().get(0)"
                        + ".getName() + \" \" + multiprocessing.sharedmemory.SharedMemory.create(\""
                        + leftFor + "_\" + ProcessHandle.current().pid(), 64).size()")));
        String output = run(program, "." + File.pathSeparator, List.of(),
                Map.of(variable, value),
                true);
        assertEquals(2, output.lines().filter(l -> l.startsWith("child PS ")).count(), output);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (leftIn(leftFor) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(!leftIn(leftFor), "the resource tracker unlinked what the children left");
    }

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

    /**
     * Shared memory made under a umask that takes an owner's bit (0200) is still 0600, and
     * private directories (a manager's socket's) 0700, so the program's children may use them:
     * they were 0400 and 0500, and each child refused its parent's objects as another user's
     * (as a user other than root, could not have opened them at all).
     */
    @Test
    void sharedObjectsMadeUnderAUmaskThatTakesAnOwnersBitReachEveryChild() throws Exception {
        Path program = Compiled.compile(dir.resolve("app"), Map.of("App.java", """
                import multiprocessing.Multiprocessing;
                import multiprocessing.Process;
                import multiprocessing.Queue;
                import multiprocessing.managers.DictProxy;
                import multiprocessing.managers.SyncManager;
                import multiprocessing.sharedctypes.Value;

                public class App {
                    public static void main(String[] args) throws Exception {
                        for (String method : new String[] {"spawn", "forkserver"}) {
                            Value v = Multiprocessing.getContext(method).value("i", 41);
                            Queue<Integer> q = new Queue<>();
                            try (SyncManager m = Multiprocessing.getContext(method).manager()) {
                                DictProxy<String, Integer> d = m.dict();
                                Process p = Multiprocessing.getContext(method).process(() -> {
                                    v.value((Integer) v.value() + 1);
                                    d.put("k", 5);
                                    q.put(7);
                                });
                                p.start();
                                System.out.println("child " + q.get(java.time.Duration.ofSeconds(30))
                                        + " " + v.value() + " " + d.get("k"));
                                p.join();
                                System.out.println(method + " exit " + p.exitCode());
                            }
                        }
                    }
                }
                """));
        String output = run(program, "." + File.pathSeparator, List.of(), Map.of(), true, "0200");
        assertEquals(2, count(output, "child 7 42 5"), output);
    }

    /**
     * A temporary directory whose name this JVM's file-name encoding cannot write (a
     * non-ASCII name under {@code LANG=C}) is passed over for /tmp, as one too long for a
     * socket's path is: the first start threw ExceptionInInitializerError, and every later
     * one NoClassDefFoundError.
     */
    @Test
    void anUnwritableTemporaryDirectoryNameIsPassedOver() throws Exception {
        Path program = Compiled.compile(dir.resolve("app"),
                Map.of("App.java", app("App.class.getName()")));
        Path tmp = java.nio.file.Files.createDirectories(dir.resolve("tmp\u00e9"));
        String output = run(program, "." + File.pathSeparator,
                List.of("-Djava.io.tmpdir=" + tmp), Map.of("LANG", "C", "LC_ALL", "C"), true);
        assertEquals(2, count(output, "child App"), output);
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
