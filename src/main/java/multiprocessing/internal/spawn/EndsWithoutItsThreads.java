package multiprocessing.internal.spawn;

/**
 * Marks a process target of the library's own whose process ends when the target returns,
 * without waiting for the non-daemon threads its code started (Python's child, and this
 * library's, wait for them). A pool's worker is one: the tasks it ran are the user's, and a
 * thread one of them left behind (a metrics library's, an HTTP client's) held the worker, and
 * with it the pool's {@code close()} and {@code join()}, for good (attack 48; Python's pool
 * hangs there too). What the worker had to send is sent before it returns.
 */
public interface EndsWithoutItsThreads {}
