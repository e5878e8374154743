package multiprocessing.internal.reduction;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

import org.apache.fory.Fory;

/**
 * The Fory instances that serve a JVM's threads, one borrowed per message, built as they are
 * first needed: the first at the JVM's first message, another only when every one built is
 * borrowed, up to a bound; past it a thread waits for one to come back.
 *
 * <p>Implementation note. Fory's own pool ({@code buildThreadSafeForyPool}) builds all of its
 * instances at once. A child that serializes on one thread (most do) needs one, and each
 * further instance cost a fresh JVM's first message about 2 ms and its share of the reducers'
 * registrations (bench/RESULTS.md, ninth session). The instances share one
 * {@link org.apache.fory.resolver.SharedRegistry}, as the instances of Fory's pool do, so a
 * class's metadata is built once per JVM, not once per instance. Borrowing takes an idle
 * instance from a queue, or claims the right to build one with a compare-and-set on the count
 * built; only a thread that can do neither waits, and an interrupt ends its wait with an
 * exception, as it ends a borrower's wait in Fory's pool (the thread stays interrupted).
 */
final class ForyPool {
    private final Supplier<Fory> factory;
    private final int capacity;
    private final ArrayBlockingQueue<Fory> idle;
    private final AtomicInteger built = new AtomicInteger();

    /**
     * @param factory builds one instance, registered as every other one is
     * @param capacity the most instances this pool builds
     */
    ForyPool(Supplier<Fory> factory, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a pool of " + capacity + " serializers");
        }
        this.factory = factory;
        this.capacity = capacity;
        this.idle = new ArrayBlockingQueue<>(capacity);
    }

    /** Runs {@code work} with an instance borrowed for its length. */
    <R> R execute(Function<Fory, R> work) {
        Fory fory = borrow();
        try {
            return work.apply(fory);
        } finally {
            idle.add(fory);
        }
    }

    /** How many instances this pool has built so far. */
    int built() {
        return built.get();
    }

    private Fory borrow() {
        while (true) {
            Fory fory = idle.poll();
            if (fory != null) {
                return fory;
            }
            for (int n = built.get(); n < capacity; n = built.get()) {
                if (built.compareAndSet(n, n + 1)) {
                    try {
                        return factory.get();
                    } catch (RuntimeException | Error e) {
                        built.decrementAndGet();
                        throw e;
                    }
                }
            }
            // Every instance is built and borrowed: one comes back when a message ends.
            // The wait is bounded so that a build that failed elsewhere, freeing its
            // place, is seen.
            try {
                fory = idle.poll(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a serializer:"
                        + " all " + capacity + " of this JVM's are in use", e);
            }
            if (fory != null) {
                return fory;
            }
        }
    }

    private static final long WAIT_MILLIS = 50;
}
