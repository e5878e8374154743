package multiprocessing;

import multiprocessing.internal.heap.Block;
import multiprocessing.internal.queue.Messages;
import multiprocessing.internal.queue.Ring;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * A plain FIFO shared by processes and threads (Python's {@code multiprocessing.SimpleQueue}):
 * put, get and empty. It is the same shared-memory ring as {@link Queue}, with the same
 * guarantees (a put is visible to every consumer when it returns; see {@link Queue} for room,
 * large messages and faults), without timeouts or an item bound.
 *
 * @param <E> the type of the items
 */
public class SimpleQueue<E> implements AutoCloseable {
    static {
        Serialization.register(SimpleQueue.class, new Reducer<SimpleQueue>() {
            @Override
            public void reduce(SimpleQueue value, Out out) {
                out.writeObject(value.ring.block());
            }

            @Override
            public SimpleQueue rebuild(In in) {
                return new SimpleQueue<>(Ring.attach((Block) in.readObject()));
            }
        });
    }

    private final Ring ring;
    private volatile boolean closed;

    /** A new queue on a ring of its own in shared memory. */
    public SimpleQueue() {
        this(Ring.create(Ring.DEFAULT_SLOTS, Ring.DEFAULT_SLOT_BYTES, 0, false));
    }

    SimpleQueue(Ring ring) {
        this.ring = ring;
    }

    /**
     * Puts {@code item}, waiting for room if the ring is full.
     *
     * @param item what to put; it is serialized now, so later changes to it are not seen
     * @throws IllegalArgumentException if {@code item} cannot be serialized (nothing is put)
     * @throws IllegalStateException if this handle is closed
     */
    public void put(E item) {
        checkOpen();
        Messages.put(ring, item, -1);
    }

    /**
     * Takes the next item, waiting as long as it takes.
     *
     * @return the item
     * @throws IllegalStateException if this handle is closed
     */
    @SuppressWarnings("unchecked")
    public E get() {
        checkOpen();
        return (E) Messages.get(ring, -1);
    }

    /** {@return whether the queue looked empty} */
    public boolean empty() {
        return ring.count() == 0;
    }

    /** Closes this handle (others keep working). Idempotent. */
    @Override
    public void close() {
        closed = true;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the queue is closed");
        }
    }

    @Override
    public String toString() {
        return "SimpleQueue[" + ring.block() + "]";
    }
}
