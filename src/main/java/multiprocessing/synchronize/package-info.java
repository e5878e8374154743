/**
 * Python's {@code multiprocessing.synchronize}: locks, semaphores, conditions, events and
 * barriers shared by processes and threads alike, as futex words in shared memory, all built on
 * one synchronizer. A lock whose owner process died raises
 * {@link multiprocessing.synchronize.OwnerDeadException} instead of hanging its next taker.
 *
 * <p>Each object lives in shared memory that its creating process allocated and unlinks as it
 * exits: a process gets one while its creator runs (captured by a child's lambda, in an object
 * sent, through a pipe or a queue), and keeps using it after the creator has exited, but a
 * process that had not received it by then cannot: sending it on then throws
 * {@link IllegalArgumentException} saying so, and a message that carried it is refused at its
 * receipt. Python refuses to send its synchronized objects anywhere but to a child at its
 * start; make an object that must outlive a child in the parent.
 *
 * <h2>Example</h2>
 * A lock and an event reach a child as the same shared memory, captured by its lambda, beside
 * the shared values of {@link multiprocessing.sharedctypes}.
 * {@snippet lang="java" :
 * import multiprocessing.Context;
 * import multiprocessing.Multiprocessing;
 * import multiprocessing.Process;
 * import multiprocessing.SerializableRunnable;
 * import multiprocessing.sharedctypes.RawValue;
 * import multiprocessing.sharedctypes.SharedInt;
 * import multiprocessing.sharedctypes.Value;
 * import multiprocessing.synchronize.Event;
 * import multiprocessing.synchronize.Lock;
 *
 * public class SharedCounters {
 *     public static void main(String[] args) throws Exception {
 *         Context ctx = Multiprocessing.getContext();
 *         Value total = ctx.value("q", 0L);      // a C long long guarded by its own RLock
 *         SharedInt hits = RawValue.ofInt(0);    // atomic without a lock
 *         Lock printLock = ctx.lock();
 *         Event go = ctx.event();
 *         SerializableRunnable work = () -> {
 *             go.await();                        // both processes start together
 *             for (int i = 0; i < 10_000; i++) {
 *                 hits.getAndAdd(1);
 *                 total.getLock().lock();        // Python's `with total.get_lock(): total.value += 1`
 *                 try {
 *                     total.value((Long) total.value() + 1);
 *                 } finally {
 *                     total.getLock().unlock();
 *                 }
 *             }
 *             printLock.lock();
 *             try {
 *                 System.out.println(Multiprocessing.currentProcess().name() + " done");
 *             } finally {
 *                 printLock.unlock();
 *             }
 *         };
 *         Process child = new Process(work);
 *         child.start();
 *         go.set();
 *         work.run();
 *         child.join();
 *         System.out.println(hits.get() + " " + total.value()); // 20000 20000
 *     }
 * }
 * }
 *
 * <h2>Virtual threads</h2>
 * Every wait of the library parks a virtual thread rather than its carrier, whichever process
 * wakes it: here 200 virtual threads of a child share 4 permits of a semaphore, and 200 of the
 * parent wait on a queue the child fills.
 * {@snippet lang="java" :
 * import java.util.concurrent.Executors;
 *
 * import multiprocessing.Process;
 * import multiprocessing.Queue;
 * import multiprocessing.synchronize.Semaphore;
 *
 * public class VirtualThreadWorkers {
 *     public static void main(String[] args) throws Exception {
 *         Queue<String> results = new Queue<>();
 *         Semaphore slots = new Semaphore(4);           // 4 at a time, across both processes
 *         Process child = new Process(() -> {
 *             try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
 *                 for (int i = 0; i < 200; i++) {
 *                     int n = i;
 *                     threads.submit(() -> {
 *                         slots.acquire();              // parks the virtual thread, not its carrier
 *                         try {
 *                             Thread.sleep(10);
 *                             results.put("request " + n + " done");
 *                         } finally {
 *                             slots.release();
 *                         }
 *                         return null;
 *                     });
 *                 }
 *             }
 *         });
 *         child.start();
 *         try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
 *             for (int i = 0; i < 200; i++) {
 *                 threads.submit(() -> System.out.println(results.get())); // woken by the child
 *             }
 *         }
 *         child.join();
 *     }
 * }
 * }
 */
package multiprocessing.synchronize;
