package multiprocessing;

import multiprocessing.internal.heap.Block;
import multiprocessing.internal.queue.Ring;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * A {@link Queue} that counts unfinished tasks (Python's {@code JoinableQueue}): every put adds
 * one, every {@link #taskDone()} removes one, and {@link #join()} waits until none is left.
 * The count lives in the queue's shared memory, so producers, consumers and joiners may be in
 * any processes. The count is added before the item becomes visible, so a consumer that takes
 * the item and calls {@code taskDone()} at once never finds it missing, and when the queue's tail
 * moves past the item's place, which any process does for a producer that died, so a producer
 * killed in the middle of a put has either added its task (and its item is taken and marked
 * done by the consumer that finds it half-written) or added nothing: {@code join()} does not
 * wait for a task nobody can do (unless the process that finds the half-written item is killed
 * too, in the instant between taking it and marking it done). Python's semaphore, taken before
 * its feeder thread writes, stays taken when the producer is killed in between. A put that
 * finds 8,388,608 tasks unfinished throws {@link IllegalStateException}.
 *
 * <p>An item lost with a consumer killed while taking or processing it is never marked done: a
 * {@code join()} then waits forever, as in Python. An item taken that cannot be read in the
 * taking process (its {@code get} throws, naming why) is marked done there: nobody will get
 * it, and Python's {@code join()} would wait for it forever. So a consumer calls
 * {@code taskDone()} for the items it got, not for a {@code get} that threw.
 *
 * @param <E> the type of the items
 */
public class JoinableQueue<E> extends Queue<E> {
    static {
        Serialization.register(JoinableQueue.class, new Reducer<JoinableQueue>() {
            @Override
            public void reduce(JoinableQueue value, Out out) {
                out.writeObject(value.ring.block());
            }

            @Override
            public JoinableQueue rebuild(In in) {
                return new JoinableQueue<>(Ring.attach((Block) in.readObject()));
            }
        });
    }

    /** A joinable queue bounded only by its ring's room. */
    public JoinableQueue() {
        this(0);
    }

    /**
     * A joinable queue of at most {@code maxsize} items ({@code <= 0}: no item bound).
     *
     * @param maxsize the most items it holds; {@code <= 0} for no bound but the ring's room
     */
    public JoinableQueue(int maxsize) {
        super(Ring.create(Ring.DEFAULT_SLOTS, Ring.DEFAULT_SLOT_BYTES, maxsize, true));
    }

    JoinableQueue(Ring ring) {
        super(ring);
    }

    /**
     * Marks one task taken from the queue as done.
     *
     * @throws IllegalStateException if called more times than items were put
     */
    public void taskDone() {
        ring.taskDone(true);
    }

    /** Waits until every item put has been taken and marked done. */
    public void join() {
        ring.join();
    }
}
