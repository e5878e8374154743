package multiprocessing.internal.cluster;

import java.util.AbstractQueue;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import com.hazelcast.collection.IQueue;

import multiprocessing.AuthenticationError;

/**
 * A cluster-wide {@link BlockingQueue} on a Hazelcast {@link IQueue} of sealed bytes: an
 * element is serialized and sealed for this queue by whoever puts it, and its seal is checked
 * before it is deserialized by whoever takes it. An element that does not carry the key (put
 * there by a peer without it) is taken off the queue and thrown away with an
 * {@link AuthenticationError}; the next call goes on with the next element.
 */
final class SealedQueue<E> extends AbstractQueue<E> implements BlockingQueue<E> {
    /** Of Object: what a peer without the key put there may be of any type (refused on read). */
    private final IQueue<Object> queue;
    private final Sealer sealer;
    private final String name;
    private final byte[] bound;

    SealedQueue(IQueue<Object> queue, Sealer sealer, String name) {
        this.queue = queue;
        this.sealer = sealer;
        this.name = name;
        this.bound = Seal.utf8(name);
    }

    private byte[] in(Object e) {
        return sealer.seal("queue", e, bound);
    }

    private E out(Object b) {
        return b == null ? null : sealer.open("queue", b, what(), bound);
    }

    private String what() {
        return "an element of queue '" + name + "'";
    }

    @Override
    public boolean offer(E e) {
        return queue.offer(in(e));
    }

    @Override
    public void put(E e) throws InterruptedException {
        queue.put(in(e));
    }

    @Override
    public boolean offer(E e, long timeout, TimeUnit unit) throws InterruptedException {
        return queue.offer(in(e), timeout, unit);
    }

    @Override
    public E take() throws InterruptedException {
        return out(Sealer.reading(what(), () -> queue.take()));
    }

    @Override
    public E poll(long timeout, TimeUnit unit) throws InterruptedException {
        return out(Sealer.reading(what(), () -> queue.poll(timeout, unit)));
    }

    @Override
    public E poll() {
        return out(Sealer.reading(what(), () -> queue.poll()));
    }

    @Override
    public E peek() {
        return out(Sealer.reading(what(), () -> queue.peek()));
    }

    @Override
    public int size() {
        return queue.size();
    }

    @Override
    public int remainingCapacity() {
        return queue.remainingCapacity();
    }

    @Override
    public boolean contains(Object o) {
        return o != null && queue.contains(in(o));
    }

    @Override
    public boolean remove(Object o) {
        return o != null && queue.remove(in(o));
    }

    @Override
    public void clear() {
        queue.clear();
    }

    @Override
    public int drainTo(Collection<? super E> c) {
        return drainTo(c, Integer.MAX_VALUE);
    }

    /**
     * Takes up to {@code max} elements into {@code c}; one that does not carry the key is
     * dropped, and reported once the others are in {@code c}.
     */
    @Override
    public int drainTo(Collection<? super E> c, int max) {
        if (c == this) {
            throw new IllegalArgumentException("cannot drain a queue into itself");
        }
        List<Object> taken = new ArrayList<>();
        // Hazelcast reads them all before it hands any over: those it took are lost with one
        // it cannot read (a peer that reaches the cluster can clear it anyway).
        Sealer.reading(what() + " drained with others (lost with it)",
                () -> queue.drainTo(taken, max));
        AuthenticationError refused = null;
        int n = 0;
        for (Object b : taken) {
            try {
                c.add(out(b));
                n++;
            } catch (AuthenticationError e) {
                refused = e;
            }
        }
        if (refused != null) {
            throw refused;
        }
        return n;
    }

    /**
     * The elements now, first to last; {@code remove()} removes the element from the queue
     * (the first equal one).
     */
    @Override
    public Iterator<E> iterator() {
        return new SnapshotIterator<>(Sealer.reading(what(), () -> new ArrayList<>(queue)),
                this::out, queue::remove);
    }

    @Override
    public String toString() {
        return "<cluster queue '" + name + "'>";
    }
}
