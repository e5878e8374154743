/**
 * Python's {@code multiprocessing} for Java: processes on fresh JVMs, pipes and connections,
 * shared memory and cross-process locks, queues, pools and managers, on the Foreign Function
 * and Memory API with no JNI.
 *
 * <h2>Python's modules and their Java packages</h2>
 * <table class="striped">
 * <caption>Where each module of Python's package is</caption>
 * <thead>
 * <tr><th scope="col">Python</th><th scope="col">Java</th></tr>
 * </thead>
 * <tbody>
 * <tr><th scope="row">{@code multiprocessing} (its functions, {@code context})</th>
 *     <td>{@link multiprocessing.Multiprocessing}, {@link multiprocessing.Context} and the
 *     start methods' contexts, in package {@link multiprocessing}</td></tr>
 * <tr><th scope="row">{@code multiprocessing.process}</th>
 *     <td>{@link multiprocessing.Process}</td></tr>
 * <tr><th scope="row">{@code multiprocessing.queues}</th>
 *     <td>{@link multiprocessing.Queue}, {@link multiprocessing.SimpleQueue},
 *     {@link multiprocessing.JoinableQueue}</td></tr>
 * <tr><th scope="row">{@code multiprocessing.connection}</th>
 *     <td>package {@link multiprocessing.connection}</td></tr>
 * <tr><th scope="row">{@code multiprocessing.synchronize}</th>
 *     <td>package {@link multiprocessing.synchronize}</td></tr>
 * <tr><th scope="row">{@code multiprocessing.sharedctypes}</th>
 *     <td>package {@link multiprocessing.sharedctypes}</td></tr>
 * <tr><th scope="row">{@code multiprocessing.shared_memory}</th>
 *     <td>package {@link multiprocessing.sharedmemory}</td></tr>
 * <tr><th scope="row">{@code multiprocessing.pool}, {@code concurrent.futures.ProcessPoolExecutor}</th>
 *     <td>package {@link multiprocessing.pool}, {@link multiprocessing.ProcessPoolExecutor}</td></tr>
 * <tr><th scope="row">{@code multiprocessing.managers}</th>
 *     <td>package {@link multiprocessing.managers}</td></tr>
 * <tr><th scope="row">{@code multiprocessing.dummy}</th>
 *     <td>package {@link multiprocessing.dummy}</td></tr>
 * <tr><th scope="row">(none: Ray's {@code ray.util.multiprocessing.Pool} is the nearest)</th>
 *     <td>package {@link multiprocessing.cluster}: a pool and shared structures across machines,
 *     on Hazelcast, which only this package needs ({@code requires static})</td></tr>
 * <tr><th scope="row">{@code spawn}, {@code popen_spawn_posix}, {@code forkserver},
 *     {@code reduction}, {@code resource_sharer}, {@code heap}, {@code resource_tracker}</th>
 *     <td>implementation, under {@code multiprocessing.internal}, which this module does not
 *     export</td></tr>
 * </tbody>
 * </table>
 *
 * <h2>Running a program that uses it</h2>
 * The library calls native code through the FFM API and serializes with Apache Fory; on JDK 25
 * a program gives the JVM two options so that neither prints a warning at start:
 * <ul>
 * <li>on the class path:
 *     {@code java --enable-native-access=ALL-UNNAMED --add-opens java.base/java.lang.invoke=ALL-UNNAMED -cp ... Main}</li>
 * <li>on the module path:
 *     {@code java --enable-native-access=multiprocessing --add-opens java.base/java.lang.invoke=org.apache.fory.core -p ... -m app/app.Main}</li>
 * <li>as an executable jar, the same two in its manifest:
 *     {@code Enable-Native-Access: ALL-UNNAMED} and {@code Add-Opens: java.base/java.lang.invoke}</li>
 * </ul>
 * Without {@code --enable-native-access} the JVM warns that restricted methods were called.
 * Without the {@code --add-opens}, Fory (1.6) takes its fallback through
 * {@code sun.misc.Unsafe}, which JDK 24 and later warn about;
 * {@code --sun-misc-unsafe-memory-access=allow} silences that warning instead. Neither option is needed
 * for the library to work. Children started by the library get what they need from it: the
 * native access, no {@code sun.misc.Unsafe} warning, and on the module path the parent's own
 * module options.
 */
module multiprocessing {
    requires org.apache.fory.core;
    requires java.logging;
    // The parent's module options are passed on to a child started on the module path.
    requires java.management;
    // multiprocessing.cluster only; an application without Hazelcast uses everything else.
    requires static com.hazelcast.core;
    // Flight Recorder events (multiprocessing.internal.events), registered only when it is in use.
    requires jdk.jfr;

    // Fory reaches sun.misc.Unsafe by name when java.lang.invoke is not opened to it, but its
    // module does not require jdk.unsupported: an application whose main class is in a named
    // module would otherwise need --add-modules jdk.unsupported to run at all.
    requires jdk.unsupported;

    exports multiprocessing;
    exports multiprocessing.connection;
    exports multiprocessing.synchronize;
    exports multiprocessing.sharedmemory;
    exports multiprocessing.sharedctypes;
    exports multiprocessing.pool;
    exports multiprocessing.managers;
    exports multiprocessing.dummy;
    exports multiprocessing.cluster;
}
