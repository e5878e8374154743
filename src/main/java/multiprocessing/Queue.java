package multiprocessing;

import java.time.Duration;

import multiprocessing.internal.heap.Block;
import multiprocessing.internal.queue.Messages;
import multiprocessing.internal.queue.Ring;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.util.Durations;

/**
 * A FIFO queue shared by processes and threads (Python's {@code multiprocessing.Queue}):
 * any number of producers and consumers, in any processes, with items kept in put order per
 * producer.
 *
 * <pre>{@code
 * Queue<String> q = new Queue<>();
 * Process p = new Process(() -> q.put("hello from " + Multiprocessing.currentProcess().name()));
 * p.start();
 * System.out.println(q.get());
 * p.join();
 * }</pre>
 *
 * <h2>How it differs from CPython's, and why it matters</h2>
 * CPython's queue is a pipe fed by a background thread: {@code put} only appends to a buffer
 * in the putting process, and the item reaches the pipe later. That is why a process that put
 * items must not be joined before they are taken, and why items still buffered in a process
 * that dies are lost. Here there is no feeder thread: the item is serialized by the caller and
 * written into a ring in shared memory, and <b>when {@code put} returns the item is in shared
 * memory and visible to every consumer</b>. Nothing that {@code put} returned for is lost when
 * the producer exits right afterwards, normally or not (a message too large for the ring lives
 * in a shared-memory object of its own that outlives its producer). So {@link #joinThread()}
 * and {@link #cancelJoinThread()} have nothing to wait for or cancel: they are kept as no-ops
 * for Python code that calls them, and joining a process whose puts have returned never
 * deadlocks; one whose put still waits for room (see Capacity: a queue nobody reads fills its
 * ring, as CPython's fills its pipe) is joined once someone takes items.
 *
 * <h2>Capacity</h2>
 * {@code new Queue<>(maxsize)} holds at most {@code maxsize} items, and no more than its ring's
 * room below (a bound above 65,536 small items is the ring's). {@code new Queue<>()}
 * (or {@code maxsize <= 0}) has no item bound, but the ring has a fixed room: 64 Ki slots of 64
 * bytes (4 MiB), a small item taking one slot and a message of s serialized bytes
 * {@code ceil((s + 8) / 64)}. A put that finds the ring full waits for room like a put on a full
 * bounded queue, and {@link #putNowait} throws {@link FullException} then, where CPython's
 * would buffer without limit in the producer; so a process should not put more than that into
 * a queue nobody is reading yet. Messages larger than 512 KiB
 * serialized travel in their own shared-memory object and take one slot; their size is limited
 * by Fory (2 GiB), by /dev/shm, and by the bound on what one received message may allocate (1 GiB
 * unless the system property {@code multiprocessing.serialization.maxGraphMemoryBytes} says
 * otherwise; see the {@link multiprocessing package documentation}).
 *
 * <h2>Faults</h2>
 * <ul>
 * <li>A producer killed in the middle of {@code put} never leaves a half-written item that
 * others read: a record becomes readable only by its last write. A consumer that finds the
 * record at the head still unpublished after 100 ms checks whether its producer is alive and,
 * if not, discards it and goes on. An item is counted (in {@link #qsize()}, against
 * {@code maxsize}, and as a {@code JoinableQueue}'s unfinished task) when the queue's tail moves
 * past the room it claimed, which any process does for a producer that died, and counted out
 * when the head moves past it: a producer killed at any point of its put has either counted
 * nothing or counted an item that a consumer finds, discards and counts out, so no place under
 * {@code maxsize} and no task is kept for good. {@code qsize()}, {@code empty()} and
 * {@code full()} look for such records too (at most every 100 ms).
 * (CPython's producer takes its semaphore before its feeder thread writes, and keeps it if
 * killed in between.)</li>
 * <li>A consumer killed in the middle of {@code get} loses the one item it was taking; the
 * queue is not corrupted and others go on. The room the item held comes back when a producer
 * waiting for room notices (within 100 ms) that its consumer is dead.</li>
 * <li>An object that cannot be serialized makes {@code put} throw
 * {@link IllegalArgumentException} before anything is written; the queue is unchanged. Bytes
 * that cannot be deserialized make {@code get} throw {@link IllegalStateException}; that item is
 * consumed and the queue goes on.</li>
 * <li>A queue is a view of shared memory its creating process allocated: a process can receive
 * it only while the creator runs (as with the library's other shared objects).</li>
 * </ul>
 *
 * <p>{@link #close()} closes this handle only (Python's: "no more data will be put on this
 * queue by the current process"): {@code put} and {@code get} through it then throw
 * {@link IllegalStateException}; other handles, in this process or others, keep working.
 * Descriptors (a {@code Connection}) inside an item travel through the resource sharer, as over
 * a one-way pipe.
 *
 * @param <E> the type of the items
 */
public class Queue<E> implements AutoCloseable {
    static {
        Serialization.register(Queue.class, new Reducer<Queue>() {
            @Override
            public void reduce(Queue value, Out out) {
                out.writeObject(value.ring.block());
            }

            @Override
            public Queue rebuild(In in) {
                return new Queue<>(Ring.attach((Block) in.readObject()));
            }
        });
    }

    final Ring ring;
    private volatile boolean closed;

    /** A queue bounded only by its ring's room. */
    public Queue() {
        this(0);
    }

    /**
     * A queue of at most {@code maxsize} items ({@code <= 0}: no item bound).
     *
     * @param maxsize the most items it holds; {@code <= 0} for no bound but the ring's room
     */
    public Queue(int maxsize) {
        this(Ring.create(Ring.DEFAULT_SLOTS, Ring.DEFAULT_SLOT_BYTES, maxsize, false));
    }

    Queue(Ring ring) {
        this.ring = ring;
    }

    /**
     * Puts {@code item}, waiting as long as it takes for room.
     *
     * @param item what to put; it is serialized now, so later changes to it are not seen
     */
    public void put(E item) {
        put(item, -1);
    }

    /**
     * Puts {@code item}, waiting up to {@code timeout} for room.
     *
     * @param item    what to put
     * @param timeout how long to wait for room
     * @throws FullException if there was no room in time
     * @throws IllegalArgumentException if {@code item} cannot be serialized (nothing is put)
     * @throws IllegalStateException if this handle is closed
     */
    public void put(E item, Duration timeout) {
        put(item, nanos(timeout));
    }

    /**
     * Puts {@code item} if there is room now; {@link FullException} otherwise.
     *
     * @param item what to put
     */
    public void putNowait(E item) {
        put(item, 0);
    }

    /**
     * Python's {@code put(obj, block)}: blocks if {@code block}, else as {@link #putNowait}.
     *
     * @param item  what to put
     * @param block whether to wait for room
     */
    public void put(E item, boolean block) {
        put(item, block ? -1 : 0);
    }

    private void put(E item, long timeoutNanos) {
        checkOpen();
        if (!Messages.put(ring, item, timeoutNanos)) {
            throw new FullException();
        }
    }

    /** {@return the next item, taken after waiting as long as it takes} */
    public E get() {
        return get(-1);
    }

    /**
     * Takes the next item, waiting up to {@code timeout}.
     *
     * @param timeout how long to wait for an item
     * @return the item
     * @throws EmptyException if none came in time
     * @throws IllegalStateException if this handle is closed
     */
    public E get(Duration timeout) {
        return get(nanos(timeout));
    }

    /**
     * Takes the next item if there is one now; {@link EmptyException} otherwise.
     *
     * @return the item
     */
    public E getNowait() {
        return get(0);
    }

    /**
     * Python's {@code get(block)}: waits if {@code block}, else as {@link #getNowait}.
     *
     * @param block whether to wait for an item
     * @return the item
     */
    public E get(boolean block) {
        return get(block ? -1 : 0);
    }

    @SuppressWarnings("unchecked")
    private E get(long timeoutNanos) {
        checkOpen();
        Object o = Messages.get(ring, timeoutNanos);
        if (o == Messages.NONE) {
            throw new EmptyException();
        }
        return (E) o;
    }

    /**
     * {@return the approximate number of items in the queue (others may change it at any moment)}
     */
    public int qsize() {
        return ring.count();
    }

    /** {@return whether the queue looked empty (approximate, as in Python)} */
    public boolean empty() {
        return ring.count() == 0;
    }

    /**
     * {@return whether the queue looked full: holding {@code maxsize} items, or its ring out of
     * room (see Capacity), so that {@link #putNowait} would throw {@link FullException}
     * (approximate, as in Python)}
     */
    public boolean full() {
        int max = ring.maxsize();
        return (max > 0 && ring.count() >= max) || !ring.hasRoom();
    }

    /** {@return the bound given at creation; 0 for none} */
    public int maxsize() {
        return ring.maxsize();
    }

    /** Closes this handle: further put/get through it throw. Idempotent. */
    @Override
    public void close() {
        closed = true;
    }

    /**
     * Kept for Python code: CPython waits here for its feeder thread to flush. There is none
     * here (a put is in shared memory when it returns), so this returns at once.
     *
     * @throws IllegalStateException if the queue is not closed (as CPython asserts)
     */
    public void joinThread() {
        if (!closed) {
            throw new IllegalStateException("joinThread() on a queue that is not closed");
        }
    }

    /**
     * Kept for Python code: CPython stops waiting for its feeder thread at exit, at the risk of
     * losing buffered items. There is no feeder here and nothing buffered: a no-op.
     */
    public void cancelJoinThread() {
        // nothing is ever buffered in this process
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the queue is closed");
        }
    }

    /** {@code timeout} in nanoseconds, -1 (none) when it is beyond what a long holds. */
    static long nanos(Duration timeout) {
        long nanos = Durations.nanos(timeout);
        return nanos == Long.MAX_VALUE ? -1 : nanos;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + ring.block() + ", qsize=" + qsize() + "]";
    }
}
