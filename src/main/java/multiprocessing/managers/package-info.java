/**
 * Python's {@code multiprocessing.managers}: a server process holding shared objects, and
 * proxies through which any process calls them.
 *
 * <p>{@link multiprocessing.managers.BaseManager} registers types and starts, serves or
 * connects to a server; {@link multiprocessing.managers.SyncManager} adds Python's shared
 * types (dict, list, namespace, queues, locks, values); {@link
 * multiprocessing.managers.SharedMemoryManager} hands out shared memory it unlinks at shutdown.
 * A proxy is a {@link java.lang.reflect.Proxy} of the registered interface and of {@link
 * multiprocessing.managers.BaseProxy}.
 *
 * <p>Beyond Python: a process keeps a few connections to a manager however many proxies and
 * threads use it, and calls from many threads travel over them at once; a shared dict's and
 * list's compound methods ({@code merge}, {@code compute}, {@code removeIf}...) run in the
 * server atomically; iteration works on a snapshot taken by one call. The internals are in
 * {@code multiprocessing.internal.managers}.
 *
 * <h2>Example</h2>
 * A shared dict that four processes update through their proxies, each update one atomic step
 * in the server.
 * {@snippet lang="java" :
 * import java.util.ArrayList;
 * import java.util.List;
 *
 * import multiprocessing.Multiprocessing;
 * import multiprocessing.Process;
 * import multiprocessing.managers.DictProxy;
 * import multiprocessing.managers.SyncManager;
 *
 * public class Counts {
 *     public static void main(String[] args) throws Exception {
 *         try (SyncManager manager = Multiprocessing.manager()) { // close() shuts the server down
 *             DictProxy<String, Integer> counts = manager.dict();
 *             List<Process> children = new ArrayList<>();
 *             for (int i = 0; i < 4; i++) {
 *                 Process p = new Process(() -> {
 *                     for (int k = 0; k < 1000; k++) {
 *                         counts.merge("hits", 1, Integer::sum); // one atomic step in the server
 *                     }
 *                 });
 *                 p.start();
 *                 children.add(p);
 *             }
 *             for (Process p : children) {
 *                 p.join();
 *             }
 *             System.out.println(counts); // {hits=4000}
 *         }
 *     }
 * }
 * }
 */
package multiprocessing.managers;
