package multiprocessing.pool;

/**
 * How far the feeder of an {@code imap} may read its iterable ahead of the caller: at most
 * {@code aheadMax} chunks handed to the pool and not yet finished (their items wait in the pool
 * or in a worker's pipe), and at most {@code untakenMax} chunks, and {@code bytesMax} bytes of
 * results as their workers sent them, finished and not yet taken by the caller.
 *
 * <p>A chunk's place among the finished comes back when the caller takes its results, so an
 * imap over an endless iterable whose results nobody reads holds little memory. The bound on
 * those is far larger than the one on chunks ahead: while the caller of an ordered imap waits
 * for a long task, the other workers go on with the tiny tasks after it, whose results wait
 * for the caller (with one bound for both, they soon ran out of work and idled for the rest of
 * the long task: half the speed of {@code map} on a mix of long and tiny tasks, attack 22).
 * Python's imap feeds the whole iterable at once and keeps every result until it is taken.
 * A thread pool's results are never serialized, and so have no size to bound: its imap bounds
 * the untaken as it bounds the chunks ahead (a thread pool's imap of 1 MB results filled the
 * heap with the larger bound, attack 22b).
 */
final class Window {
    private final int aheadMax;
    private final int untakenMax;
    private final long bytesMax;
    private int ahead;
    private int untaken;
    private long untakenBytes;
    private boolean unbounded;

    Window(int aheadMax, int untakenMax, long bytesMax) {
        this.aheadMax = aheadMax;
        this.untakenMax = untakenMax;
        this.bytesMax = bytesMax;
    }

    /** Waits until one more chunk may be handed to the pool, and counts it in. */
    synchronized void acquire() throws InterruptedException {
        while (!unbounded && (ahead >= aheadMax || untaken >= untakenMax
                || untakenBytes > bytesMax)) {
            wait();
        }
        ahead++;
        untaken++;
    }

    /** A chunk finished: its results (or failure) reached the caller's iterator. */
    synchronized void finished() {
        ahead--;
        notifyAll();
    }

    /** A finished chunk's results arrived, {@code bytes} as its worker sent them. */
    synchronized void arrived(long bytes) {
        untakenBytes += bytes;
    }

    /** The caller took the last result of a chunk whose results were {@code bytes}. */
    synchronized void taken(long bytes) {
        untaken--;
        untakenBytes -= bytes;
        notifyAll();
    }

    /** A chunk left the pool without reaching the iterator (dropped, aborted). */
    synchronized void dropped() {
        ahead--;
        untaken--;
        notifyAll();
    }

    /** No bound from now on: the pool is closing and reads every iterable to its end. */
    synchronized void unbound() {
        unbounded = true;
        notifyAll();
    }
}
