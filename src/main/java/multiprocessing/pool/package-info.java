/**
 * Python's {@code multiprocessing.pool}: {@link multiprocessing.pool.Pool} of worker processes,
 * {@link multiprocessing.pool.ThreadPool} with the same interface on threads, and
 * {@link multiprocessing.pool.AsyncResult}. A task whose worker dies fails with
 * {@link multiprocessing.pool.WorkerLostException} instead of hanging the pool.
 * ({@link multiprocessing.ProcessPoolExecutor}, Python's
 * {@code concurrent.futures.ProcessPoolExecutor}, runs on the same machinery.)
 *
 * <h2>Example</h2>
 * {@code map} over two worker JVMs; {@code close()} waits for the work.
 * {@snippet lang="java" :
 * import java.util.List;
 * import java.util.stream.IntStream;
 *
 * import multiprocessing.pool.Pool;
 *
 * public class Squares {
 *     public static void main(String[] args) throws Exception {
 *         try (Pool pool = Pool.builder().processes(2).build()) { // close() waits for the work
 *             List<Integer> inputs = IntStream.range(0, 100).boxed().toList();
 *             List<Integer> squares = pool.map(x -> x * x, inputs);
 *             System.out.println(squares.subList(0, 5) + " ... computed by 2 worker JVMs");
 *         }
 *     }
 * }
 * }
 */
package multiprocessing.pool;
