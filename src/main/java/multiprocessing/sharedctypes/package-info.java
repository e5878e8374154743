/**
 * Python's {@code multiprocessing.sharedctypes}: C values and arrays in shared memory with
 * Python's typecodes or a {@link java.lang.foreign.MemoryLayout}, their lock-carrying
 * {@code Value}/{@code Array} forms, and typed views ({@code SharedInt}, {@code SharedLong},
 * {@code SharedDouble}, typed arrays) whose updates are atomic across processes.
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
 * A {@code Value} guarded by its own lock and an atomic {@code SharedInt}, counted up by two
 * processes at once.
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
 */
package multiprocessing.sharedctypes;
