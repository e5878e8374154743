package multiprocessing.internal.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.Process;
import multiprocessing.ProcessError;
import multiprocessing.SerializableFunction;
import multiprocessing.SerializableRunnable;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;
import multiprocessing.managers.BaseManager;
import multiprocessing.managers.BaseProxy;
import multiprocessing.pool.Pool;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Classes that have no place on disk reach a child: classes a class loader defined from bytes
 * (served to the child by name: a process's, a pool's, a manager server's), and the clear
 * refusal for those no child can load (a loader that keeps its bytes to itself, a hidden
 * class).
 */
@ExtendWith(NoLeftoverProcesses.class)
@Timeout(180)
class DefinedClassesTest {
    @TempDir
    static Path dir;
    private static Map<String, byte[]> classes;

    static final String MADE = """
            package made;

            import java.lang.invoke.MethodHandles;
            import multiprocessing.Multiprocessing;
            import multiprocessing.SerializableFunction;
            import multiprocessing.SerializableRunnable;
            import multiprocessing.connection.Connection;

            public class Made {
                public static SerializableRunnable reply(Connection up, int n) {
                    return () -> up.send("made " + Helper.twice(n) + " in "
                            + Multiprocessing.currentProcess().name());
                }

                public static SerializableFunction<Integer, Integer> triple() {
                    return x -> Helper.twice(x) + x;
                }

                public static MethodHandles.Lookup lookup() {
                    return MethodHandles.lookup();
                }
            }
            """;

    /** Only named in Made's code: the child needs it without any object of it crossing. */
    static final String HELPER = """
            package made;

            class Helper {
                static int twice(int n) {
                    return 2 * n;
                }
            }
            """;

    /** A type shared through a manager whose server must ask for its classes by name. */
    static final String SHOP = """
            package made;

            import multiprocessing.Context;
            import multiprocessing.SerializableRunnable;
            import multiprocessing.managers.BaseManager;

            public class Shop {
                public interface Tally {
                    int add(int n);
                }

                public static class Counter implements Tally {
                    private int total;

                    public int add(int n) {
                        return total += Helper.twice(n) / 2;
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
            }
            """;

    static final String HIDDEN = """
            package made;

            public class Hidden implements multiprocessing.SerializableRunnable {
                public Hidden() {}

                public void run() {}

                public multiprocessing.SerializableRunnable lambda() {
                    return () -> {};
                }
            }
            """;

    @BeforeAll
    static void compile() throws Exception {
        classes = Compiled.classes(Compiled.compile(dir.resolve("classes"), Map.of(
                "made/Made.java", MADE, "made/Helper.java", HELPER, "made/Hidden.java", HIDDEN,
                "made/Shop.java", SHOP)));
    }

    @AfterAll
    static void stopWarmJvms() {
        multiprocessing.internal.forkserver.ForkServer.stopAll();
    }

    /** A loader that defines classes from bytes and, if {@code serves}, serves those bytes. */
    static final class BytesLoader extends ClassLoader {
        private final boolean serves;

        BytesLoader(String name, boolean serves) {
            super(name, DefinedClassesTest.class.getClassLoader());
            this.serves = serves;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            byte[] b = classes.get(name);
            if (b == null || name.equals("made.Hidden")) {
                throw new ClassNotFoundException(name);
            }
            return defineClass(name, b, 0, b.length);
        }

        @Override
        public InputStream getResourceAsStream(String name) {
            byte[] b = classes.get(name.replace('/', '.').replaceAll("\\.class$", ""));
            return serves && b != null ? new ByteArrayInputStream(b) : super.getResourceAsStream(name);
        }
    }

    private static Context context(String method) {
        return Multiprocessing.getContext(method);
    }

    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void aClassDefinedFromBytesRunsInAChildAndAsAPoolFunction(String method) throws Exception {
        Class<?> made = Class.forName("made.Made", true, new BytesLoader("bytes", true));
        assertEquals(null, made.getProtectionDomain().getCodeSource().getLocation(), "no place on disk");
        try (Pipe pipe = Pipe.open(false)) {
            SerializableRunnable target = (SerializableRunnable) made
                    .getMethod("reply", Connection.class, int.class).invoke(null, pipe.right(), 21);
            Process p = context(method).process(target);
            p.start();
            assertEquals("made 42 in " + p.name(), pipe.left().recv());
            p.join();
            assertEquals(0, p.exitCode());
            p.close();
        }
        @SuppressWarnings("unchecked")
        SerializableFunction<Integer, Integer> triple = (SerializableFunction<Integer, Integer>)
                made.getMethod("triple").invoke(null);
        try (Pool pool = context(method).pool(2)) {
            assertEquals(List.of(3, 6, 9), pool.map(triple, List.of(1, 2, 3)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void aManagerOfATypeDefinedFromBytesServesItsProxies(String method) throws Exception {
        Class<?> shop = Class.forName("made.Shop", true, new BytesLoader("bytes-manager", true));
        assertEquals(null, shop.getProtectionDomain().getCodeSource().getLocation(), "no place on disk");
        Context ctx = context(method);
        BaseManager manager = (BaseManager) shop.getMethod("manager", Context.class).invoke(null, ctx);
        manager.start();
        try {
            BaseProxy tally = manager.create("Tally");
            assertEquals("made.Shop$Tally", tally.getClass().getInterfaces()[0].getName());
            assertEquals(3, tally.callMethod("add", 3));
            Process p = ctx.process((SerializableRunnable) shop
                    .getMethod("add", Object.class, int.class).invoke(null, tally, 4));
            p.start();
            p.join();
            assertEquals(0, p.exitCode());
            p.close();
            assertEquals(7, tally.callMethod("add", 0));
        } finally {
            manager.shutdown();
        }
    }

    @Test
    void aManagerOfATypeWhoseLoaderKeepsItsBytesIsRefusedAtStartNamingIt() throws Exception {
        Class<?> shop = Class.forName("made.Shop", true, new BytesLoader("silent-manager", false));
        BaseManager manager = (BaseManager) shop.getMethod("manager", Context.class)
                .invoke(null, context("spawn"));
        ProcessError e = assertThrows(ProcessError.class, manager::start);
        assertTrue(e.getMessage().contains("made.Shop") && e.getMessage().contains("'silent-manager'"),
                e.getMessage());
        assertEquals(null, manager.process(), "no server started");
    }

    @Test
    void aLoaderThatKeepsItsBytesIsRefusedAtStartNamingIt() throws Exception {
        Class<?> made = Class.forName("made.Made", true, new BytesLoader("silent", false));
        try (Pipe pipe = Pipe.open(false)) {
            SerializableRunnable target = (SerializableRunnable) made
                    .getMethod("reply", Connection.class, int.class).invoke(null, pipe.right(), 1);
            Process p = new Process(target);
            ProcessError e = assertThrows(ProcessError.class, p::start);
            assertTrue(e.getMessage().contains("made.Made") && e.getMessage().contains("'silent'")
                    && e.getMessage().contains(BytesLoader.class.getName())
                    && e.getMessage().contains("getResourceAsStream"), e.getMessage());
            assertEquals(null, p.pid(), "nothing started");
        }
        @SuppressWarnings("unchecked")
        SerializableFunction<Integer, Integer> triple = (SerializableFunction<Integer, Integer>)
                made.getMethod("triple").invoke(null);
        try (Pool pool = Multiprocessing.getContext("spawn").pool(1)) {
            ProcessError e = assertThrows(ProcessError.class, () -> pool.map(triple, List.of(1)));
            assertTrue(e.getMessage().contains("'silent'"), e.getMessage());
        }
    }

    @Test
    void aHiddenClassIsRefusedAtStart() throws Throwable {
        Class<?> made = Class.forName("made.Made", true, new BytesLoader("for-hidden", true));
        MethodHandles.Lookup lookup = (MethodHandles.Lookup) made.getMethod("lookup").invoke(null);
        MethodHandles.Lookup hidden = lookup.defineHiddenClass(classes.get("made.Hidden"), true);
        SerializableRunnable target = (SerializableRunnable) hidden.findConstructor(
                hidden.lookupClass(), java.lang.invoke.MethodType.methodType(void.class)).invoke();
        Process p = new Process(target);
        ProcessError e = assertThrows(ProcessError.class, p::start);
        assertTrue(e.getMessage().contains("hidden class"), e.getMessage());
        // A lambda written in a hidden class: refused as clearly, not by the serializer with
        // "Can't serialize lambda" (attack 48).
        SerializableRunnable lambda = (SerializableRunnable) hidden.findVirtual(
                hidden.lookupClass(), "lambda", java.lang.invoke.MethodType.methodType(
                        SerializableRunnable.class)).invoke(target);
        Process q = new Process(lambda);
        ProcessError l = assertThrows(ProcessError.class, q::start);
        assertTrue(l.getMessage().contains("cannot be loaded by its name")
                && l.getMessage().contains("hidden class"), l.getMessage());
    }
}
