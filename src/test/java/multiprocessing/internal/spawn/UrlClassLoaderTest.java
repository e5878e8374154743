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

import java.net.URL;
import java.net.URLClassLoader;

import multiprocessing.Context;
import multiprocessing.ForkServerContext;
import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.Process;
import multiprocessing.SerializableFunction;
import multiprocessing.SerializableRunnable;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;
import multiprocessing.managers.BaseManager;
import multiprocessing.managers.BaseProxy;
import multiprocessing.pool.Pool;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A program run as {@code mvn exec:java} runs it: in a JVM whose {@code java.class.path} holds
 * neither the library nor the program (only a launcher), through a URLClassLoader over both,
 * which is also the context class loader. Its processes, pool workers and manager servers,
 * with spawn and with forkserver, must find the program's and the library's classes.
 */
@ExtendWith(NoLeftoverProcesses.class)
@Timeout(240)
class UrlClassLoaderTest {
    @TempDir
    static Path dir;
    private static Path launcher;
    private static Path program;

    static final String LAUNCHER = """
            import java.io.File;
            import java.net.URL;
            import java.net.URLClassLoader;
            import java.nio.file.Path;
            import java.util.ArrayList;
            import java.util.Arrays;
            import java.util.List;

            /** As exec:java: args are the main class, the class path, then the program's args. */
            public class Launcher {
                public static void main(String[] args) throws Exception {
                    List<URL> urls = new ArrayList<>();
                    for (String e : args[1].split(File.pathSeparator)) {
                        urls.add(Path.of(e).toUri().toURL());
                    }
                    URLClassLoader loader = new URLClassLoader("exec-like",
                            urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
                    int[] code = {0};
                    Thread main = new Thread(() -> {
                        try {
                            Class.forName(args[0], true, loader).getMethod("main", String[].class)
                                    .invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
                        } catch (Throwable t) {
                            t.printStackTrace();
                            code[0] = 3;
                        }
                    }, "main");
                    main.setContextClassLoader(loader);
                    main.start();
                    main.join();
                    System.exit(code[0]);
                }
            }
            """;

    static final String APP = """
            package demo;

            import java.util.List;
            import multiprocessing.Context;
            import multiprocessing.ForkServerContext;
            import multiprocessing.Multiprocessing;
            import multiprocessing.Process;
            import multiprocessing.connection.Connection;
            import multiprocessing.connection.Pipe;
            import multiprocessing.managers.BaseManager;
            import multiprocessing.pool.Pool;

            public class App {
                public record Greeting(String text, int n) {}

                /** A type of the program's own, shared through a manager. */
                public interface Tally {
                    int add(int n);
                }

                public static class Counter implements Tally {
                    private int total;

                    public int add(int n) {
                        return total += n;
                    }
                }

                public static void main(String[] args) throws Exception {
                    Context ctx = Multiprocessing.getContext(args[0]);
                    try (Pipe pipe = Pipe.open(false)) {
                        Connection up = pipe.right();
                        Process p = ctx.process(() -> up.send(new Greeting("hello", 7)));
                        p.start();
                        Object g = pipe.left().recv();
                        p.join();
                        System.out.println("process " + p.exitCode() + " " + g);
                    }
                    try (Pool pool = ctx.pool(2)) {
                        System.out.println("pool " + pool.map(x -> new Greeting("sq", x * x),
                                List.of(1, 2, 3)));
                    }
                    BaseManager manager = new BaseManager(null, null, ctx);
                    manager.register("Tally", () -> new Counter(), Tally.class);
                    manager.start();
                    try {
                        Tally tally = manager.create("Tally");
                        Process p = ctx.process(() -> tally.add(5));
                        p.start();
                        p.join();
                        System.out.println("manager " + p.exitCode() + " " + tally.add(2));
                    } finally {
                        manager.shutdown();
                    }
                    if (ctx instanceof ForkServerContext f) {
                        f.stopWarmJvms();
                    }
                }
            }
            """;

    /** A program an IDE or plugin runner loads beside the library (which is on the class path). */
    static final String WORK = """
            package work;

            import multiprocessing.Context;
            import multiprocessing.Multiprocessing;
            import multiprocessing.SerializableFunction;
            import multiprocessing.SerializableRunnable;
            import multiprocessing.connection.Connection;
            import multiprocessing.managers.BaseManager;

            public class Work {
                public record Result(String who, int n) {}

                public interface Tally {
                    int add(int n);
                }

                public static class Counter implements Tally {
                    private int total;

                    public int add(int n) {
                        return total += n;
                    }
                }

                public static BaseManager manager(Context ctx) {
                    BaseManager m = new BaseManager(null, null, ctx);
                    m.register("Tally", () -> new Counter(), Tally.class);
                    return m;
                }

                public static SerializableRunnable add(Object tally, int n) {
                    return () -> ((Tally) tally).add(n);
                }

                public static SerializableRunnable reply(Connection up) {
                    return () -> up.send(new Result(Multiprocessing.currentProcess().name(), 1).toString());
                }

                public static SerializableFunction<Integer, String> describe() {
                    return x -> new Result("w", x).toString();
                }
            }
            """;

    private static Path work;

    @BeforeAll
    static void compile() throws Exception {
        launcher = Compiled.compile(dir.resolve("launcher"), Map.of("Launcher.java", LAUNCHER));
        program = Compiled.compile(dir.resolve("program"), Map.of("demo/App.java", APP));
        work = Compiled.compile(dir.resolve("work"), Map.of("work/Work.java", WORK));
    }

    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void aProgramInAUrlClassLoaderBesideTheLibraryRunsInProcessesAndAPool(String method)
            throws Exception {
        // Not the context loader: the library learns of it from the target and the function.
        URLClassLoader loader = new URLClassLoader("runner", new URL[] {work.toUri().toURL()},
                UrlClassLoaderTest.class.getClassLoader());
        Class<?> type = Class.forName("work.Work", true, loader);
        Context ctx = Multiprocessing.getContext(method);
        try (Pool pool = ctx.pool(2)) { // its workers start before the program's loader is seen
            try (Pipe pipe = Pipe.open(false)) {
                Process p = ctx.process((SerializableRunnable) type
                        .getMethod("reply", Connection.class).invoke(null, pipe.right()));
                p.start();
                assertEquals("Result[who=" + p.name() + ", n=1]", pipe.left().recv());
                p.join();
                assertEquals(0, p.exitCode());
                p.close();
            }
            @SuppressWarnings("unchecked")
            SerializableFunction<Integer, String> describe =
                    (SerializableFunction<Integer, String>) type.getMethod("describe").invoke(null);
            assertEquals(List.of("Result[who=w, n=1]", "Result[who=w, n=2]"),
                    pool.map(describe, List.of(1, 2)));
        }
        if (ctx instanceof ForkServerContext f) {
            f.stopWarmJvms();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void aManagerOfATypeInAUrlClassLoaderBesideTheLibraryServesItsProxies(String method)
            throws Exception {
        // Not the context loader either: the library learns of it from the registration.
        URLClassLoader loader = new URLClassLoader("runner-manager",
                new URL[] {work.toUri().toURL()}, UrlClassLoaderTest.class.getClassLoader());
        Class<?> type = Class.forName("work.Work", true, loader);
        Context ctx = Multiprocessing.getContext(method);
        BaseManager manager = (BaseManager) type.getMethod("manager", Context.class)
                .invoke(null, ctx);
        manager.start();
        try {
            BaseProxy tally = manager.create("Tally");
            assertEquals("work.Work$Tally", tally.getClass().getInterfaces()[0].getName());
            assertEquals(3, tally.callMethod("add", 3));
            Process p = ctx.process((SerializableRunnable) type
                    .getMethod("add", Object.class, int.class).invoke(null, tally, 4));
            p.start();
            p.join();
            assertEquals(0, p.exitCode());
            p.close();
            assertEquals(7, tally.callMethod("add", 0));
        } finally {
            manager.shutdown();
        }
        if (ctx instanceof ForkServerContext f) {
            f.stopWarmJvms();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void aProgramLoadedByAUrlClassLoaderRunsProcessesAndAPool(String method) throws Exception {
        List<String> classPath = new ArrayList<>(List.of(program.toString()));
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.contains("test-classes") && !e.contains("junit") && !e.contains("opentest4j")
                    && !e.contains("apiguardian")) {
                classPath.add(e); // the library and its dependencies, as exec:java has them
            }
        }
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", launcher.toString(), "Launcher", "demo.App",
                String.join(File.pathSeparator, classPath), method);
        java.lang.Process parent = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try {
            output = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(parent.waitFor(120, TimeUnit.SECONDS), "the program ended: " + output);
        } finally {
            parent.destroyForcibly();
        }
        assertEquals(0, parent.exitValue(), output);
        assertTrue(output.contains("process 0 Greeting[text=hello, n=7]"), output);
        assertTrue(output.contains("pool [Greeting[text=sq, n=1], Greeting[text=sq, n=4], "
                + "Greeting[text=sq, n=9]]"), output);
        assertTrue(output.contains("manager 0 7"), output);
    }
}
