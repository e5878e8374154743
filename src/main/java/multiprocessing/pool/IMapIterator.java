package multiprocessing.pool;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import multiprocessing.ProcessError;
import multiprocessing.TimeoutError;
import multiprocessing.internal.util.Durations;

/**
 * The results of {@link Pool#imap} (in the order of the items) or {@link Pool#imapUnordered}
 * (in the order they finish), as they arrive (Python's {@code IMapIterator}).
 *
 * <p>An item whose task threw rethrows that exception from {@link #next()} at its position
 * (a checked exception is thrown as it is, undeclared); iteration can go on past it. With a
 * chunksize above 1 a failed chunk gives one failure, at its first item, and none of its other
 * items, as in Python. If the iterable itself throws, that exception comes at the position where
 * it threw, and iteration ends there.
 *
 * <p>{@link #hasNext()} and {@link #next()} block until the answer is known;
 * {@link #next(Duration)} gives up with {@link TimeoutError}. An interrupt while waiting throws
 * a {@link ProcessError} with the interrupt flag set again.
 *
 * <p>{@link #close()} stops the imap early: the pool reads no more of the iterable and drops
 * the tasks not yet begun, which a program that takes only the first results of an endless
 * iterable needs before the pool's own {@link Pool#close()} (which runs every task handed in):
 * <pre>{@code
 * try (Pool pool = new Pool(4); IMapIterator<Long> squares = pool.imap(x -> x * x, naturals)) {
 *     while (squares.next() < 1_000_000) { }
 * }
 * }</pre>
 *
 * @param <R> the result type
 */
public final class IMapIterator<R> implements Iterator<R>, AutoCloseable {
    /**
     * One position's outcome: a result, or a failure that accounts for {@code positions}
     * positions (the rest of its chunk), or the pool's termination ({@code positions == -1}).
     * {@code chunkLeft} counts the entries of its chunk not yet taken by the caller.
     */
    private record Entry(boolean ok, Object value, int positions, ChunkLeft chunkLeft) {}

    /** A chunk's entries not yet taken, and the size of its results as their worker sent them. */
    private static final class ChunkLeft {
        int entries;
        final long bytes;

        ChunkLeft(int entries, long bytes) {
            this.entries = entries;
            this.bytes = bytes;
        }
    }

    /** A position whose result is not delivered (the rest of a failed chunk). */
    private static final Entry SKIP = new Entry(false, null, 0, null);

    private final boolean ordered;
    private final HashMap<Long, Entry> byIndex = new HashMap<>();
    private final ArrayDeque<Entry> arrived = new ArrayDeque<>();
    /** Ordered: the next position to hand out. Unordered: positions accounted for by taken entries. */
    private long next;
    /** Unordered: positions accounted for by arrived (not yet taken) entries. */
    private long pendingPositions;
    private long total = -1;
    private Throwable aborted;
    private boolean closed;
    /** The job it is the results of, cancelled by {@link #close()}. */
    private Job job;
    /** The thread that reads the iterable, interrupted by {@link #close()}. */
    private Thread feeder;
    /**
     * Told when a chunk's results arrive and when the caller has taken every entry of a chunk:
     * results nobody takes would otherwise pile up here without bound (an unread imap over an
     * endless iterable).
     */
    private final Window window;

    IMapIterator(boolean ordered, Window window) {
        this.ordered = ordered;
        this.window = window;
    }

    synchronized void job(Job job, Thread feeder) {
        this.job = job;
        this.feeder = feeder;
    }

    synchronized void total(long n) {
        total = n;
        notifyAll();
    }

    synchronized void done(long start, List<?> results, long bytes) {
        if (closed) {
            return;
        }
        ChunkLeft left = new ChunkLeft(results.size(), bytes);
        window.arrived(bytes);
        for (int i = 0; i < results.size(); i++) {
            Entry entry = new Entry(true, results.get(i), 1, left);
            if (ordered) {
                byIndex.put(start + i, entry);
            } else {
                arrived.add(entry);
            }
        }
        pendingPositions += results.size();
        notifyAll();
    }

    synchronized void failed(long start, int size, Throwable error) {
        if (closed) {
            return;
        }
        Entry entry = new Entry(false, error, size, new ChunkLeft(1, 0));
        if (ordered) {
            byIndex.put(start, entry);
            for (int i = 1; i < size; i++) {
                byIndex.put(start + i, SKIP);
            }
        } else {
            arrived.add(entry);
        }
        pendingPositions += size;
        notifyAll();
    }

    synchronized void abort(Throwable error) {
        if (aborted == null) {
            aborted = error;
        }
        notifyAll();
    }

    /** Waits until the next entry (or the end) is known; returns it, null at the end. */
    private synchronized Entry peek(long deadline, boolean timed) {
        while (true) {
            if (closed) {
                return null;
            }
            if (ordered) {
                Entry e;
                while ((e = byIndex.get(next)) == SKIP) {
                    byIndex.remove(next);
                    next++;
                }
                if (e != null) {
                    return e;
                }
                if (total >= 0 && next >= total) {
                    return null;
                }
            } else {
                if (!arrived.isEmpty()) {
                    return arrived.peek();
                }
                if (total >= 0 && next >= total) {
                    return null;
                }
            }
            if (aborted != null) {
                return new Entry(false, aborted, -1, null);
            }
            if (!timed && job != null && job.waitHereNeverEnds()) {
                throw Job.waitNeverEnds(); // in a callback of the pool's result thread
            }
            long left = timed ? deadline - System.nanoTime() : Long.MAX_VALUE;
            if (left <= 0) {
                throw new TimeoutError("no next result in time");
            }
            try {
                if (timed) {
                    wait(left / 1_000_000, (int) (left % 1_000_000));
                } else {
                    wait();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ProcessError("interrupted while waiting for a result", e);
            }
        }
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    private synchronized void take(Entry entry) {
        if (entry.positions() == -1) {
            // The pool was terminated: this failure ends the iteration.
            total = next;
            byIndex.clear();
            arrived.clear();
            aborted = null;
            return;
        }
        if (ordered) {
            byIndex.remove(next);
            next++;
        } else {
            arrived.poll();
            next += entry.positions();
        }
        if (--entry.chunkLeft().entries == 0) {
            window.taken(entry.chunkLeft().bytes);
        }
    }

    @Override
    public boolean hasNext() {
        return peek(0, false) != null;
    }

    @Override
    public R next() {
        return deliver(peek(0, false));
    }

    /**
     * The next result, waiting at most {@code timeout} (Python's {@code next(timeout)}).
     *
     * @param timeout how long to wait at most
     * @return the next result
     * @throws TimeoutError if it does not arrive in time
     * @throws NoSuchElementException past the last result
     */
    public R next(Duration timeout) {
        return deliver(peek(Durations.deadline(timeout), true));
    }

    /**
     * Ends the imap here: the pool reads no more of its iterable (a thread of the pool
     * blocked in its {@code hasNext()} or {@code next()} is interrupted), tasks not yet begun
     * are dropped (those running finish, their results unseen), and the results not yet taken
     * are let go. Iteration ends ({@link #hasNext()} is false). A second call does nothing.
     */
    @Override
    public void close() {
        Job j;
        Thread f;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            byIndex.clear();
            arrived.clear();
            j = job;
            f = feeder;
            notifyAll();
        }
        if (j != null) {
            j.cancel();
            window.unbound(); // a feeder waiting for room sees the cancel
            // An iterable blocked in hasNext() or next() (a queue's take()) is interrupted,
            // as terminate() does: the pool's close() waited for its next item (attack 46).
            f.interrupt();
        }
    }

    @SuppressWarnings("unchecked")
    private R deliver(Entry entry) {
        if (entry == null) {
            throw new NoSuchElementException(isClosed() ? "the iterator was closed"
                    : "no more results");
        }
        take(entry);
        if (entry.ok()) {
            return (R) entry.value();
        }
        throw Pool.<RuntimeException>sneaky((Throwable) entry.value());
    }
}
