package multiprocessing.internal.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.Process;
import multiprocessing.ProcessError;
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
 * A child that never runs its process (its JVM cannot start, it cannot load a class its
 * process needs) fails the first wait on it with a ProcessError naming the cause and quoting
 * its standard error, never a bare exit code 1; a process that runs and fails keeps Python's
 * exit code.
 */
@ExtendWith(NoLeftoverProcesses.class)
@Timeout(180)
class StartFailureTest {
    @TempDir
    static Path dir;
    private static Map<String, byte[]> classes;

    @BeforeAll
    static void compile() throws Exception {
        classes = Compiled.classes(Compiled.compile(dir.resolve("classes"), Map.of(
                "kept/Kept.java", """
                        package kept;

                        public class Kept implements java.io.Serializable {
                            public int n = 5;
                        }
                        """)));
    }

    @AfterAll
    static void stopWarmJvms() {
        multiprocessing.internal.forkserver.ForkServer.stopAll();
    }

    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void aBadJvmOptionFailsTheFirstJoinWithTheJvmsWords(String method) throws Exception {
        Context ctx = Multiprocessing.getContext(method).withJvmOptions("-XX:+NoSuchOptionHere");
        Process p = ctx.process(() -> { });
        p.start();
        ProcessError e = assertThrows(ProcessError.class, p::join);
        assertTrue(e.getMessage().contains("could not start")
                && e.getMessage().contains("withJvmOptions")
                && e.getMessage().contains("Unrecognized VM option 'NoSuchOptionHere'"), e.getMessage());
        p.join(); // reported once; the process has simply ended
        assertEquals(1, p.exitCode());
        p.close();
    }

    /**
     * A JVM option that makes the launcher only print and exit 0 (-version) is a process that
     * never ran, not one that succeeded; a pool of such workers fails its tasks instead of
     * starting workers forever, and so does one whose initializer exits 0.
     */
    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void aChildThatExitsZeroBeforeItsProcessRunsNeverRan(String method) throws Exception {
        Process p = Multiprocessing.getContext(method).withJvmOptions("-version")
                .process(() -> { });
        p.start();
        ProcessError e = assertThrows(ProcessError.class, p::join);
        assertTrue(e.getMessage().contains("never ran")
                && e.getMessage().contains("-version"), e.getMessage());
        assertEquals(0, p.exitCode());
        p.close();
        try (Pool pool = Multiprocessing.getContext(method).withJvmOptions("-version").pool(1)) {
            ProcessError pe = assertThrows(ProcessError.class,
                    () -> pool.map(x -> x, List.of(1)));
            assertTrue(pe.getMessage().contains("fail to start"), pe.getMessage());
        }
        try (Pool pool = Pool.builder().context(Multiprocessing.getContext(method)).processes(1)
                .initializer(() -> System.exit(0)).build()) {
            ProcessError pe = assertThrows(ProcessError.class,
                    () -> pool.map(x -> x, List.of(1)));
            assertTrue(pe.getMessage().contains("fail to start"), pe.getMessage());
        }
    }

    @Test
    void aPoolWhoseWorkersCannotStartSaysWhy() throws Exception {
        try (Pool pool = Multiprocessing.getContext("spawn").withJvmOptions("-XX:+NoSuchOptionHere")
                .pool(1)) {
            ProcessError e = assertThrows(ProcessError.class, () -> pool.map(x -> x, List.of(1)));
            assertTrue(e.getMessage().contains("fail to start")
                    && e.getMessage().contains("Unrecognized VM option"), e.getMessage());
        }
    }

    /** Defines classes from bytes and keeps them to itself. */
    static final class SilentLoader extends ClassLoader {
        SilentLoader() {
            super("silent", StartFailureTest.class.getClassLoader());
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            byte[] b = classes.get(name);
            if (b == null) {
                throw new ClassNotFoundException(name);
            }
            return defineClass(name, b, 0, b.length);
        }
    }

    /** A class every process can load, whose initializer throws in the children of this test. */
    public static final class Flaky implements java.io.Serializable {
        static {
            if (Boolean.getBoolean("flaky.fails")) {
                throw new IllegalStateException("Flaky does not initialize here");
            }
        }

        int n = 5;
    }

    @Test
    void aCapturedObjectWhoseClassFailsToInitializeInTheChildSaysSo() throws Exception {
        Flaky flaky = new Flaky();
        Process p = Multiprocessing.getContext("spawn").withJvmOptions("-Dflaky.fails=true")
                .process(() -> System.out.println(flaky.n));
        p.start();
        ProcessError e = assertThrows(ProcessError.class, p::join);
        assertTrue(e.getMessage().contains("failed to initialize")
                && e.getMessage().contains("Flaky"), e.getMessage());
        assertEquals(1, p.exitCode());
        p.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void aCapturedObjectWhoseClassNoChildCanLoadFailsTheJoinNamingIt(String method)
            throws Exception {
        Object kept = Class.forName("kept.Kept", true, new SilentLoader())
                .getConstructor().newInstance();
        Process p = Multiprocessing.getContext(method).process(() -> System.out.println(kept));
        p.start(); // its target's class is the test's: start cannot know what it captured
        ProcessError e = assertThrows(ProcessError.class, p::join);
        assertTrue(e.getMessage().contains("could not load a class")
                && e.getMessage().contains("kept.Kept"), e.getMessage());
        assertEquals(1, p.exitCode());
        p.close();
    }

    @Test
    void aTargetThatFailsKeepsItsExitCodeAndThrowsNothing() throws Exception {
        Process p = new Process(() -> {
            throw new IllegalStateException("the target's own failure");
        });
        p.start();
        p.join();
        assertEquals(1, p.exitCode());
        p.close();
    }
}
