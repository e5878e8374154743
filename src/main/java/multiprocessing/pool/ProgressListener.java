package multiprocessing.pool;

/**
 * Told how far a {@code map}, {@code imap} or {@code starmap} of a pool has come (see
 * {@link Pool#onProgress}). Called from the pool's result thread after each chunk: keep it
 * short.
 */
@FunctionalInterface
public interface ProgressListener {
    /**
     * Told that {@code done} of the call's {@code total} items have their result; {@code done}
     * only grows, and a call whose items all have theirs ends with {@code done == total}.
     *
     * @param done  items whose result (or error) has arrived
     * @param total items in the call; -1 while an {@code imap}'s iterable is not yet exhausted
     */
    void progress(long done, long total);
}
