package multiprocessing.pool;

/**
 * Told how far a {@code map}, {@code imap} or {@code starmap} of a pool has come (see
 * {@link Pool#onProgress}). Called from the pool's result thread after each chunk: keep it
 * short.
 */
@FunctionalInterface
public interface ProgressListener {
    /**
     * @param done  items whose result (or error) has arrived
     * @param total items in the call; -1 while an {@code imap}'s iterable is not yet exhausted
     */
    void progress(long done, long total);
}
