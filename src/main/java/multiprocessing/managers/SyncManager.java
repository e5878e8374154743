package multiprocessing.managers;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

import multiprocessing.Context;
import multiprocessing.connection.Address;
import multiprocessing.internal.managers.Registration;
import multiprocessing.internal.managers.StandardTypes;

/**
 * A manager with Python's shared types (Python's {@code SyncManager}, from
 * {@link multiprocessing.Multiprocessing#manager()} already started): dicts, lists, a
 * namespace, queues, locks and the other synchronization primitives, values and arrays, each a
 * proxy of an object in the server process. Its type ids are Python's ({@code "dict"},
 * {@code "list"}, {@code "Namespace"}, {@code "Queue"}, {@code "Lock"}...), so a client that
 * {@link #connect()}s to it can also {@link #create} them by name.
 *
 * <pre>{@code
 * try (SyncManager manager = Multiprocessing.manager()) {
 *     DictProxy<String, Integer> counts = manager.dict();
 *     Process p = new Process(() -> counts.merge("hits", 1, Integer::sum));
 *     p.start();
 *     p.join();
 * }
 * }</pre>
 */
public class SyncManager extends BaseManager {
    /** A manager on a fresh private Unix socket path with the process's key; not started. */
    public SyncManager() {
        this(null, null, null);
    }

    /**
     * Not started: {@link #start()} or {@link #connect()} it.
     *
     * @param address where the server listens (or is served, for {@link #connect()}); null for a
     *        fresh Unix socket path in the server process's private directory
     * @param authKey the key clients authenticate with; null for the process's {@code authKey()}
     */
    public SyncManager(Address address, byte[] authKey) {
        this(address, authKey, null);
    }

    /**
     * Not started; its server will be started with {@code context}.
     *
     * @param address where the server listens; null for a fresh Unix socket path in the server process's private directory
     * @param authKey the key clients authenticate with; null for the process's {@code authKey()}
     * @param context the start method of the server process, or null for the default context
     */
    public SyncManager(Address address, byte[] authKey, Context context) {
        super(address, authKey, context);
        for (Registration r : StandardTypes.SYNC) {
            registerStandard(r);
        }
    }

    /**
     * A new shared, empty dict.
     *
     * @param <K> the type of the keys
     * @param <V> the type of the values
     * @return a proxy of the dict
     */
    public <K, V> DictProxy<K, V> dict() {
        return create("dict");
    }

    /**
     * A new shared dict holding {@code initial}'s entries.
     *
     * @param <K>     the type of the keys
     * @param <V>     the type of the values
     * @param initial the entries it starts with
     * @return a proxy of the dict
     */
    public <K, V> DictProxy<K, V> dict(Map<? extends K, ? extends V> initial) {
        return create("dict", new LinkedHashMap<>(initial));
    }

    /**
     * A new shared, empty list.
     *
     * @param <E> the type of the elements
     * @return a proxy of the list
     */
    public <E> ListProxy<E> list() {
        return create("list");
    }

    /**
     * A new shared list holding {@code initial}'s elements.
     *
     * @param <E>     the type of the elements
     * @param initial the elements it starts with
     * @return a proxy of the list
     */
    public <E> ListProxy<E> list(Collection<? extends E> initial) {
        return create("list", new ArrayList<>(initial));
    }

    /** {@return a proxy of a new shared namespace, whose attributes any process sets and reads} */
    public NamespaceProxy namespace() {
        return create("Namespace");
    }

    /**
     * An unbounded shared queue.
     *
     * @param <E> the type of the items
     * @return a proxy of the queue
     */
    public <E> QueueProxy<E> queue() {
        return create("Queue");
    }

    /**
     * A shared queue of at most {@code maxsize} items (0 or less: unbounded).
     *
     * @param <E>     the type of the items
     * @param maxsize the most items it holds; 0 or less for no bound
     * @return a proxy of the queue
     */
    public <E> QueueProxy<E> queue(int maxsize) {
        return create("Queue", maxsize);
    }

    /**
     * An unbounded shared joinable queue.
     *
     * @param <E> the type of the items
     * @return a proxy of the queue
     */
    public <E> JoinableQueueProxy<E> joinableQueue() {
        return create("JoinableQueue");
    }

    /**
     * A shared joinable queue of at most {@code maxsize} items (0 or less: unbounded).
     *
     * @param <E>     the type of the items
     * @param maxsize the most items it holds; 0 or less for no bound
     * @return a proxy of the queue
     */
    public <E> JoinableQueueProxy<E> joinableQueue(int maxsize) {
        return create("JoinableQueue", maxsize);
    }

    /** {@return a lock any process may release} */
    public AcquirerProxy lock() {
        return create("Lock");
    }

    /** {@return a reentrant lock, owned by the thread (of whichever process) that acquired it} */
    public AcquirerProxy rLock() {
        return create("RLock");
    }

    /** {@return a semaphore of value 1} */
    public AcquirerProxy semaphore() {
        return create("Semaphore");
    }

    /**
     * A semaphore of value {@code value}.
     *
     * @param value the initial value
     * @return a proxy of the semaphore
     */
    public AcquirerProxy semaphore(int value) {
        return create("Semaphore", value);
    }

    /** {@return a bounded semaphore of value and maximum 1} */
    public AcquirerProxy boundedSemaphore() {
        return create("BoundedSemaphore");
    }

    /**
     * A bounded semaphore of value and maximum {@code value}.
     *
     * @param value the initial value, which releases may not exceed
     * @return a proxy of the semaphore
     */
    public AcquirerProxy boundedSemaphore(int value) {
        return create("BoundedSemaphore", value);
    }

    /** {@return a condition with a new reentrant lock of its own} */
    public ConditionProxy condition() {
        return create("Condition");
    }

    /**
     * A condition on {@code lock}, a {@link #lock()} or {@link #rLock()} of this manager.
     *
     * @param lock the lock its waiters release while they wait
     * @return a proxy of the condition
     */
    public ConditionProxy condition(AcquirerProxy lock) {
        return create("Condition", lock);
    }

    /** {@return a new shared event, not set} */
    public EventProxy event() {
        return create("Event");
    }

    /**
     * A barrier for {@code parties} parties.
     *
     * @param parties how many waiters each round lets through together
     * @return a proxy of the barrier
     */
    public BarrierProxy barrier(int parties) {
        return create("Barrier", parties);
    }

    /**
     * A shared value; the typecode is kept, as in Python, for its repr only.
     *
     * @param <T>      the type of the value
     * @param typecode a Python typecode, shown by the proxy's {@code toString}
     * @param initial  the value it starts with
     * @return a proxy of the value
     */
    public <T> ValueProxy<T> value(String typecode, T initial) {
        return create("Value", typecode, initial);
    }

    /**
     * A shared array of {@code sizeOrInitializer} zeros (an Integer), or of the elements of a
     * primitive array or collection.
     *
     * @param typecode          the elements' Python typecode
     * @param sizeOrInitializer an {@code Integer} size, or the elements
     * @return a proxy of the array
     */
    public ArrayProxy array(String typecode, Object sizeOrInitializer) {
        return create("Array", typecode, sizeOrInitializer);
    }
}
