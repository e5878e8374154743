package multiprocessing.bench;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import multiprocessing.Multiprocessing;
import multiprocessing.Process;
import multiprocessing.SerializableRunnable;

/**
 * Start+join of a no-op process as a user's program meets it: run in a fresh JVM (by
 * bench/compare, with the class path and cache directory of the case it measures), it starts and
 * joins {@code n} no-op processes one after another and prints one line per start,
 * {@code start <i> <ms>}. The first start is the one a short program pays; the later ones show
 * the same JVM once the library's classes are loaded (and, for a jar, once the AOT cache the
 * first start trains is written). Usage: {@code ColdStart [method] [n] [plain|defined]}
 * (default spawn 6 plain). With {@code defined} the no-op lambda's class has no place on disk,
 * as a jshell snippet's: compiled before the first start and defined from bytes by a class
 * loader that serves them as a resource, so each child asks this JVM for it by name.
 */
public final class ColdStart {
    private ColdStart() {
    }

    /** The class a {@code defined} target's lambda belongs to. */
    private static final String DEFINED = """
            package defined;

            public class Noop {
                public static multiprocessing.SerializableRunnable target() {
                    return () -> { };
                }
            }
            """;

    public static void main(String[] args) throws Exception {
        String method = args.length > 0 ? args[0] : "spawn";
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 6;
        boolean defined = args.length > 2 && args[2].equals("defined");
        SerializableRunnable target = defined ? definedTarget() : () -> { };
        var ctx = Multiprocessing.getContext(method);
        for (int i = 0; i < n; i++) {
            System.out.printf("start %d %.2f%n", i, startJoin(ctx, target));
        }
        if (ctx instanceof multiprocessing.ForkServerContext fs) {
            fs.stopWarmJvms();
        }
    }

    /** A no-op whose class was compiled just now and defined from bytes, as jshell does. */
    private static SerializableRunnable definedTarget() throws Exception {
        Path dir = Files.createTempDirectory("coldstart-defined");
        try {
            Path source = dir.resolve("Noop.java");
            Files.writeString(source, DEFINED);
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            if (javac == null) {
                throw new IllegalStateException("the defined case compiles its class: run it on a JDK");
            }
            int rc = javac.run(null, null, null, "-d", dir.toString(), "-proc:none",
                    "-cp", System.getProperty("java.class.path"), source.toString());
            if (rc != 0) {
                throw new IllegalStateException("javac failed (" + rc + ")");
            }
            byte[] bytes = Files.readAllBytes(dir.resolve("defined/Noop.class"));
            Class<?> noop = Class.forName("defined.Noop", true, new BytesLoader(bytes));
            if (noop.getProtectionDomain().getCodeSource() != null
                    && noop.getProtectionDomain().getCodeSource().getLocation() != null) {
                throw new IllegalStateException("defined.Noop has a place on disk");
            }
            return (SerializableRunnable) noop.getMethod("target").invoke(null);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }
        }
    }

    /** Defines {@code defined.Noop} from bytes and serves them as its class file, as jshell's loader does. */
    private static final class BytesLoader extends ClassLoader {
        private static final String NAME = "defined.Noop";
        private static final String RESOURCE = "defined/Noop.class";
        private final byte[] bytes;

        BytesLoader(byte[] bytes) {
            super("coldstart-defined", ColdStart.class.getClassLoader());
            this.bytes = bytes;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            if (!name.equals(NAME)) {
                throw new ClassNotFoundException(name);
            }
            return defineClass(name, bytes, 0, bytes.length);
        }

        @Override
        public InputStream getResourceAsStream(String name) {
            return name.equals(RESOURCE) ? new ByteArrayInputStream(bytes) : super.getResourceAsStream(name);
        }
    }

    /** Starts and joins one process that runs {@code target}: the wall time, in ms. */
    static double startJoin(multiprocessing.Context ctx, SerializableRunnable target)
            throws InterruptedException {
        long t0 = System.nanoTime();
        Process p = ctx.process(target);
        p.start();
        p.join();
        long t1 = System.nanoTime();
        Integer code = p.exitCode();
        p.close();
        if (code == null || code != 0) {
            throw new IllegalStateException("child exit code " + code);
        }
        return (t1 - t0) / 1e6;
    }
}
