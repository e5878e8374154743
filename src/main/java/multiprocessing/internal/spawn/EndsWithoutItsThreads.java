package multiprocessing.internal.spawn;

/**
 * Marks a process target of the library's own whose process ends when the target returns,
 * waiting at most {@link #GRACE_NANOS} for the non-daemon threads its code started (Python's
 * child, and this library's, wait for them for good). A pool's worker is one: the tasks it ran
 * are the user's, and a thread one of them left behind (a metrics library's, an HTTP
 * client's) held the worker, and with it the pool's {@code close()} and {@code join()}, for
 * good (attack 48; Python's pool hangs there too). The grace lets a thread that finishes
 * writing (a file, a buffer: attack 49, a worker replaced under maxTasksPerChild) end first.
 * What the worker had to send is sent before it returns.
 */
public interface EndsWithoutItsThreads {
    /** How long such a process waits for its non-daemon threads: 5 s. */
    long GRACE_NANOS = 5_000_000_000L;
}
