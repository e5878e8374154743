/**
 * Python's {@code multiprocessing.pool}: {@link multiprocessing.pool.Pool} of worker processes,
 * {@link multiprocessing.pool.ThreadPool} with the same interface on threads, and
 * {@link multiprocessing.pool.AsyncResult}. A task whose worker dies fails with
 * {@link multiprocessing.pool.WorkerLostException} instead of hanging the pool.
 */
package multiprocessing.pool;
