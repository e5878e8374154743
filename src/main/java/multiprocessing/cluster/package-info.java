/**
 * Across machines: Python's {@code multiprocessing.pool.Pool} and shared structures on a
 * cluster of JVMs (as Ray's {@code ray.util.multiprocessing.Pool} keeps Python's Pool API on a
 * cluster), on Hazelcast, an optional dependency. {@link multiprocessing.cluster.Cluster} joins
 * or connects; {@link multiprocessing.cluster.ClusterConfig} says how;
 * {@link multiprocessing.cluster.Member} is the command that runs a member on another machine.
 * The internals are in {@code multiprocessing.internal.cluster}.
 *
 * <h2>Example</h2>
 * A client of a cluster whose members run {@code Member}: a map on their workers, then a
 * queue, a dict and a lock shared by every member and client.
 * {@snippet lang="java" :
 * import java.util.HexFormat;
 * import java.util.List;
 * import java.util.concurrent.BlockingQueue;
 * import java.util.concurrent.ConcurrentMap;
 * import java.util.concurrent.locks.Lock;
 *
 * import multiprocessing.cluster.Cluster;
 * import multiprocessing.cluster.ClusterConfig;
 * import multiprocessing.pool.Pool;
 *
 * public class Render {
 *     public static void main(String[] args) throws Exception {
 *         ClusterConfig config = ClusterConfig.builder()
 *                 .name("render")
 *                 .member("10.0.0.5:5701") // any member
 *                 .authKey(HexFormat.of().parseHex(System.getenv("MULTIPROCESSING_AUTHKEY")))
 *                 .build();
 *         try (Cluster cluster = Cluster.connect(config); Pool pool = cluster.pool()) {
 *             // In chunks, on the workers of every member; results in order, as a local Pool.
 *             List<Integer> sizes = pool.map(frame -> frame * 1024, List.of(1, 2, 3, 4));
 *             BlockingQueue<String> done = cluster.queue("done");
 *             done.put("frames " + sizes);
 *             ConcurrentMap<String, Integer> counts = cluster.dict("counts");
 *             counts.merge("frames", sizes.size(), Integer::sum); // atomic cluster-wide
 *             Lock lock = cluster.lock("report");
 *             lock.lock();
 *             try {
 *                 System.out.println(done.take() + ", " + counts);
 *             } finally {
 *                 lock.unlock();
 *             }
 *         }
 *     }
 * }
 * }
 */
package multiprocessing.cluster;
