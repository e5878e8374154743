package multiprocessing.internal.reduction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.util.concurrent.atomic.AtomicReference;

import multiprocessing.NoLeftoverSharedMemory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How deeply nested an object may be: what a thread can write, a thread with the same stack can
 * read (Fory's default read bound, 50 levels, made a chain of 51 objects sendable and then
 * unreadable, so a queue's item was lost), and what is too deep fails clearly on either side,
 * leaving the serializer usable.
 */
@ExtendWith(NoLeftoverSharedMemory.class)
class NestingDepthTest {

    static final class Link implements Serializable {
        private static final long serialVersionUID = 1L;
        Link next;
        int value;
    }

    static Link chain(int depth) {
        Link head = null;
        for (int i = 0; i < depth; i++) {
            Link l = new Link();
            l.next = head;
            l.value = i;
            head = l;
        }
        return head;
    }

    static int length(Object o) {
        int n = 0;
        for (Link l = (Link) o; l != null; l = l.next) {
            n++;
        }
        return n;
    }

    /** Runs {@code task} on a platform thread with a stack of {@code stackBytes}. */
    static <T> T onStack(long stackBytes, java.util.concurrent.Callable<T> task) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = new Thread(null, () -> {
            try {
                result.set(task.call());
            } catch (Throwable e) {
                thrown.set(e);
            }
        }, "nesting-depth-test", stackBytes);
        t.start();
        t.join();
        if (thrown.get() instanceof Exception e) {
            throw e;
        }
        if (thrown.get() != null) {
            throw new AssertionError(thrown.get());
        }
        return result.get();
    }

    @Test
    void chainsDeeperThanFiftyRoundTrip() {
        for (int depth : new int[] {51, 200, 500}) {
            assertEquals(depth, length(Serialization.deserialize(
                    Serialization.serialize(chain(depth)))), "a chain of " + depth);
        }
    }

    /**
     * A graph too deep for the writing thread's stack is written on a thread with a deep
     * one, and read likewise: what one thread can write, any thread can read.
     */
    @Test
    void aChainTooDeepForASmallStackRoundTripsAnyway() throws Exception {
        long small = 256 << 10;
        byte[] bytes = onStack(small, () -> Serialization.serialize(chain(5_000)));
        assertEquals(5_000, (int) onStack(small, () -> length(Serialization.deserialize(bytes))));
        // Through a queue, whose put writes into a buffer it rewinds for the second try.
        multiprocessing.Queue<Object> q = multiprocessing.Multiprocessing.getContext("spawn").queue();
        try {
            onStack(small, () -> {
                q.put(chain(5_000));
                return null;
            });
            assertEquals(5_000, (int) onStack(small, () -> length(q.get())));
            // Deep and over the queue's 1 MiB scratch buffer, which then grows into shared
            // memory: written again on the deep thread, it is copied here, and the thread's
            // later puts are unharmed.
            byte[] big = new byte[2 << 20];
            big[big.length - 1] = 7;
            onStack(small, () -> {
                q.put(new Object[] {chain(5_000), big});
                q.put(42);
                return null;
            });
            Object[] got = onStack(small, () -> (Object[]) q.get());
            assertEquals(5_000, length(got[0]));
            assertEquals(7, ((byte[]) got[1])[big.length - 1]);
            assertEquals(42, q.get());
        } finally {
            q.close();
        }
    }

    @Test
    void tooDeepFailsClearlyOnEitherSideAndTheSerializerStaysUsable() throws Exception {
        // Deeper than any stack here holds.
        IllegalArgumentException write = assertThrows(IllegalArgumentException.class,
                () -> Serialization.serialize(chain(2_000_000)));
        assertTrue(write.getMessage().contains("nested too deeply to write"), write.getMessage());
        assertEquals(3, length(Serialization.deserialize(Serialization.serialize(chain(3)))));

        // Deeper than the library reads at all.
        byte[] deeper = Serialization.serialize(chain(Serialization.MAX_DEPTH + 100));
        IllegalStateException beyond = assertThrows(IllegalStateException.class,
                () -> Serialization.deserialize(deeper));
        assertTrue(beyond.getMessage().contains("nested deeper than " + Serialization.MAX_DEPTH),
                beyond.getMessage());
        assertEquals(3, length(Serialization.deserialize(Serialization.serialize(chain(3)))));
    }
}
