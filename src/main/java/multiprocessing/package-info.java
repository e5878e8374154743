/**
 * Python's {@code multiprocessing} package itself, with its modules {@code context},
 * {@code process} and {@code queues}: processes on fresh JVMs ({@link multiprocessing.Process}),
 * the module-level functions ({@link multiprocessing.Multiprocessing}), start methods and their
 * factories ({@link multiprocessing.Context}), queues between processes
 * ({@link multiprocessing.Queue}, {@link multiprocessing.SimpleQueue},
 * {@link multiprocessing.JoinableQueue}), {@link multiprocessing.ProcessPoolExecutor}, the
 * serializable functional interfaces that carry code to another process, and the exceptions.
 *
 * <p>Sub-packages mirror Python's modules: {@code connection}, {@code synchronize},
 * {@code sharedctypes}, {@code sharedmemory} ({@code shared_memory}), {@code managers},
 * {@code pool} and {@code dummy}; the module's documentation has the whole table.
 * Everything under
 * {@code multiprocessing.internal} is implementation: one layer over libc
 * ({@code internal.posix}, over jextract's bindings in {@code internal.libc}), the spawn of child
 * JVMs ({@code internal.spawn}), the one serialization configuration ({@code internal.reduction}),
 * the one message framing ({@code internal.framing}), the one futex synchronizer
 * ({@code internal.sync}), the shared heap ({@code internal.heap}), the queues' ring
 * ({@code internal.queue}), the managers' server and connections ({@code internal.managers})
 * and the resource tracker ({@code internal.tracker}).
 *
 * <h2>Examples</h2>
 * A process runs a serializable lambda in a fresh JVM; what the lambda captures travels with it.
 * Import {@code multiprocessing.Process} explicitly: {@code java.lang.Process} has the same
 * simple name.
 * {@snippet lang="java" :
 * import multiprocessing.Multiprocessing;
 * import multiprocessing.Process;
 *
 * public class Hello {
 *     public static void main(String[] args) throws Exception {
 *         String who = "world";
 *         Process p = new Process(() ->
 *                 System.out.println("hello " + who + " from " + Multiprocessing.currentProcess().name()));
 *         p.start();
 *         p.join();
 *         System.out.println(p + " ended with exit code " + p.exitCode()); // 0
 *     }
 * }
 * }
 *
 * <p>A context chooses the start method and may add options to the children's JVMs.
 * {@snippet lang="java" :
 * import multiprocessing.Context;
 * import multiprocessing.Multiprocessing;
 * import multiprocessing.Process;
 *
 * public class Options {
 *     public static void main(String[] args) throws Exception {
 *         Context ctx = Multiprocessing.getContext("spawn").withJvmOptions("-Xmx256m", "-Dmode=batch");
 *         Process p = ctx.process(() -> System.out.println(System.getProperty("mode")));
 *         p.start();
 *         p.join();
 *     }
 * }
 * }
 *
 * <p>The {@code "forkserver"} start method hands each process to a JVM booted ahead of time.
 * {@snippet lang="java" :
 * import java.time.Duration;
 * import java.util.List;
 *
 * import multiprocessing.ForkServerContext;
 * import multiprocessing.Multiprocessing;
 * import multiprocessing.Process;
 * import multiprocessing.pool.Pool;
 *
 * public class Warm {
 *     public static void main(String[] args) throws Exception {
 *         ForkServerContext ctx = ((ForkServerContext) Multiprocessing.getContext("forkserver"))
 *                 .withIdleTimeout(Duration.ofSeconds(10));
 *         for (int i = 0; i < 3; i++) {
 *             Process p = ctx.process(() -> System.out.println("hello from a warm JVM"));
 *             p.start();
 *             p.join();
 *         }
 *         try (Pool pool = ctx.pool(2)) {
 *             System.out.println(pool.map(x -> x * x, List.of(1, 2, 3)));
 *         }
 *         ctx.stopWarmJvms(); // or let them go after the idle timeout
 *     }
 * }
 * }
 *
 * <p>A {@link multiprocessing.JoinableQueue} hands work to a daemon process and waits until
 * every item is marked done.
 * {@snippet lang="java" :
 * import multiprocessing.JoinableQueue;
 * import multiprocessing.Process;
 *
 * public class Work {
 *     public static void main(String[] args) throws Exception {
 *         JoinableQueue<String> jobs = new JoinableQueue<>();
 *         Process worker = Process.builder().daemon(true).target(() -> {
 *             while (true) {
 *                 String job = jobs.get();
 *                 System.out.println("did " + job);
 *                 jobs.taskDone();
 *             }
 *         }).build();
 *         worker.start();
 *         for (String job : new String[] {"wash", "dry", "fold"}) {
 *             jobs.put(job);
 *         }
 *         jobs.join(); // every job was taken and marked done
 *     }
 * }
 * }
 *
 * <h2>What a received object may be</h2>
 * Every object that arrives from another process (through a connection, a queue or a large
 * message's shared memory) is decoded by one configuration, which refuses classes known as
 * deserialization gadgets: process and runtime control ({@code java.lang.ProcessBuilder},
 * {@code Runtime}), reflection and method handles ({@code java.lang.reflect.},
 * {@code java.lang.invoke.} but for serialized lambdas), JNDI, RMI, JMX, scripting,
 * {@code java.beans.}, {@code sun.}, {@code com.sun.}, {@code jdk.}, class loaders, invocation
 * handlers, and the gadget packages of common libraries (Commons Collections functors, Groovy,
 * Spring, C3P0, ...), and {@code java.net.URL}, whose {@code hashCode} resolves its host (a URL
 * key of a received map would make the receiver look up any name the sender chose: send a
 * {@code java.net.URI}). The application's classes, records, lambdas, exceptions and the JDK's
 * collections and value types pass. Two system properties, comma-separated, move the line:
 * {@code multiprocessing.serialization.allow} and {@code multiprocessing.serialization.deny}.
 * An entry ending in a dot names a package and its sub-packages ({@code com.acme.}), any other a
 * class and its nested classes ({@code com.acme.Plugin}); the longest matching entry decides, a
 * deny winning a tie. A refused class makes {@code recv()} or {@code get()} throw
 * {@link java.lang.IllegalStateException} naming it. One message may also allocate at most
 * {@code multiprocessing.serialization.maxGraphMemoryBytes} bytes (1 GiB by default, as Fory
 * estimates its arrays, collections and objects), and must decode to exactly its own length.
 * Objects may nest 16,384 levels deep (a chain of linked objects, a deep tree): one too deep for
 * the stack of the thread that writes or reads it is written or read again on a thread with a
 * deep stack (unless it holds the library's own objects, which are sent once: then it fails
 * clearly). One nested deeper than 16,384 levels is sent, and refused where it arrives.
 * Set these properties on the main JVM ({@code -D...}): children started by
 * {@link multiprocessing.Process} get the same values.
 */
package multiprocessing;
