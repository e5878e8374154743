package multiprocessing.queue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import multiprocessing.EmptyException;
import multiprocessing.FullException;
import multiprocessing.JoinableQueue;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Queue;
import multiprocessing.SimpleQueue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The queues between threads of one process: semantics, bounds, timeouts, misuse. */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class QueueThreadsTest {

    /** A value object holding a buffer, as a program's message might. */
    record Packet(int n, java.nio.ByteBuffer body) implements java.io.Serializable {}

    /**
     * A ByteBuffer got from a queue is the caller's own: it was a view of the buffer the
     * thread reads every item into, so the next get on that thread rewrote it (review 44), and,
     * for a large item, of a mapping closed as the get returned ("Already closed").
     */
    @Test
    void aByteBufferGotFromAQueueIsNotRewrittenByTheNextGet() throws Exception {
        try (Queue<Object> q = new Queue<>()) {
            byte[] big = new byte[1 << 20];
            java.util.Arrays.fill(big, (byte) 7);
            q.put(java.nio.ByteBuffer.wrap("first".getBytes()));
            q.put(new Packet(1, java.nio.ByteBuffer.wrap("one".getBytes())));
            q.put(java.nio.ByteBuffer.wrap(big));
            q.put(java.nio.ByteBuffer.wrap("second".getBytes()).asReadOnlyBuffer());
            q.put(new Packet(2, java.nio.ByteBuffer.wrap("two".getBytes())));
            java.nio.ByteBuffer first = (java.nio.ByteBuffer) q.get();
            Packet one = (Packet) q.get();
            java.nio.ByteBuffer large = (java.nio.ByteBuffer) q.get();
            java.nio.ByteBuffer second = (java.nio.ByteBuffer) q.get();
            q.get();
            q.put(java.nio.ByteBuffer.allocateDirect(4).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                    .putInt(0, 0x01020304));
            java.nio.ByteBuffer direct = (java.nio.ByteBuffer) q.get();
            assertEquals("first", text(first));
            assertEquals("second", text(second));
            assertEquals(java.nio.ByteOrder.LITTLE_ENDIAN, direct.order());
            assertEquals(0x01020304, direct.getInt(0));
            assertEquals("one", text(one.body()));
            assertEquals(1 << 20, large.remaining());
            assertEquals(7, large.get(large.position() + 12345));
        }
    }

    /**
     * A shared array in an item a queue refused (full, or the item could not be written) is
     * freed once the program drops it: the refused message kept it counted as held for a
     * reader that never came, and the array's 512 KiB stayed in /dev/shm until the process
     * exited (review 43; a producer dropping frames while its consumer lags).
     */
    @Test
    void aSharedArrayInAnItemTheQueueRefusedIsFreedWhenDropped() throws Exception {
        try (Queue<Object> q = new Queue<>(1)) {
            q.put("filler"); // full from here on
            java.util.Set<String> before = NoLeftoverSharedMemory.names();
            for (int i = 0; i < 3; i++) {
                multiprocessing.sharedctypes.SharedDoubleArray frame =
                        multiprocessing.sharedctypes.RawArray.ofDoubles(1 << 16);
                assertThrows(FullException.class, () -> q.putNowait(frame));
                assertThrows(FullException.class,
                        () -> q.put(frame, Duration.ofMillis(10)));
                Runnable notSerializable = () -> { };
                assertThrows(IllegalArgumentException.class,
                        () -> q.put(List.of(frame, notSerializable), Duration.ofMillis(10)));
            }
            java.util.Set<String> made = NoLeftoverSharedMemory.afterGcs(() -> {
                java.util.Set<String> now = NoLeftoverSharedMemory.names();
                now.removeAll(before);
                now.removeIf(n -> n.startsWith("mph_r")); // this process's receipts: kept
                return now;
            });
            assertEquals(java.util.Set.of(), made, "the dropped arrays' memory is still there");
            assertEquals("filler", q.get());
        }
    }

    /**
     * join() returns once the unfinished count has dropped to zero, as Python's does, though
     * an item is put again at once: it looked at the count again when it woke, found the next
     * item's, and waited on (review 44; a "wait until idle" monitor never returned while work
     * flowed).
     */
    @Test
    void joinReturnsAtAZeroEvenIfAnItemIsPutRightAfter() throws Exception {
        try (JoinableQueue<Integer> q = new JoinableQueue<>()) {
            q.put(1);
            java.util.concurrent.CountDownLatch joined = new java.util.concurrent.CountDownLatch(1);
            Thread joiner = Thread.ofPlatform().daemon().start(() -> {
                q.join();
                joined.countDown();
            });
            Thread.sleep(300); // asleep in the kernel by now
            assertEquals(1, q.get());
            q.taskDone();
            q.put(2); // before the joiner has run again
            assertTrue(joined.await(10, java.util.concurrent.TimeUnit.SECONDS),
                    "join() missed the moment the count was zero");
            assertEquals(2, q.get());
            q.taskDone();
            joiner.join();
        }
    }

    /**
     * full() says when putNowait would throw: an unbounded queue whose ring is out of room
     * said it was not full, and the Python idiom {@code if not q.full(): q.put_nowait(x)}
     * threw FullException (review 44).
     */
    @Test
    void fullIsTrueWhenTheRingHasNoRoom() {
        try (Queue<Integer> q = new Queue<>()) {
            int put = 0;
            while (!q.full()) {
                q.putNowait(put++);
                assertTrue(put <= 1 << 20, "never full");
            }
            assertThrows(FullException.class, () -> q.putNowait(-1));
            assertEquals(0, q.get());
            assertFalse(q.full(), "a slot was freed");
            q.putNowait(put);
        }
    }

    /**
     * A queue every process has dropped takes its unread large messages with it: their
     * shared-memory objects stayed in /dev/shm until the program ended (the resource tracker's
     * unlink), where a pipe's unread bytes go with the pipe.
     */
    @Test
    void aDroppedQueueTakesItsUnreadLargeMessagesWithIt() throws Exception {
        java.util.Set<String> before = NoLeftoverSharedMemory.names();
        Queue<byte[]> q = new Queue<>();
        q.put(new byte[1 << 20]);
        q.put(new byte[3 << 20]);
        q.put(new byte[10]);
        java.util.Set<String> made = NoLeftoverSharedMemory.names();
        made.removeAll(before);
        assertTrue(made.stream().filter(n -> n.startsWith("mpq_")).count() == 2,
                "two large messages' objects: " + made);
        q.close();
        q = null;
        java.util.Set<String> left = NoLeftoverSharedMemory.afterGcs(() -> {
            java.util.Set<String> now = NoLeftoverSharedMemory.names();
            now.retainAll(made);
            now.removeIf(n -> n.startsWith("mph_r")); // this process's receipts: kept
            return now;
        });
        assertEquals(java.util.Set.of(), left, "what the dropped queue held is still there");
    }

    private static String text(java.nio.ByteBuffer b) {
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return new String(bytes);
    }

    /**
     * A put's 1 MiB native buffer is lent per call, not kept by its thread: 400 virtual threads
     * that each put one item once grew the process by 400 MB, for good.
     */
    @Test
    void virtualThreadsThatEachPutOnceKeepNoNativeBuffers() throws Exception {
        try (Queue<Integer> q = new Queue<>()) {
            q.put(0);
            q.get();
            long before = residentKilobytes();
            for (int i = 0; i < 400; i++) {
                int item = i;
                Thread.ofVirtual().start(() -> q.put(item)).join();
                assertEquals(item, q.get());
            }
            long grown = residentKilobytes() - before;
            assertTrue(grown < 150_000, "the process grew by " + grown + " kB");
        }
    }

    /**
     * A virtual thread's put that waits for room on a full queue holds a copy of its record,
     * not a 1 MiB native buffer: 300 such waiters held 300 MB.
     */
    @Test
    void virtualThreadsWaitingForRoomHoldNoNativeBuffers() throws Exception {
        try (Queue<Integer> q = new Queue<>(1)) {
            q.put(-1);
            q.get();
            long before = residentKilobytes();
            q.put(-1); // full from here on
            List<Thread> waiting = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                int item = i;
                waiting.add(Thread.ofVirtual().start(() -> q.put(item)));
            }
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (waiting.stream().anyMatch(t -> t.getState() != Thread.State.WAITING
                    && t.getState() != Thread.State.TIMED_WAITING)
                    && System.nanoTime() < deadline) {
                Thread.sleep(20); // every put serialized and waiting for room
            }
            long grown = residentKilobytes() - before;
            List<Integer> got = new ArrayList<>();
            for (int i = 0; i < 301; i++) {
                got.add(q.get());
            }
            for (Thread t : waiting) {
                t.join();
            }
            assertEquals(301, got.size());
            assertEquals(300, got.stream().filter(i -> i >= 0).distinct().count());
            assertTrue(grown < 150_000, "300 waiting puts grew the process by " + grown + " kB");
        }
    }

    /**
     * Virtual threads that wait for room on a small queue, and others that put at once, each
     * serialize into a buffer of their own: a buffer given back twice (once before a wait and
     * again after it) was lent to two threads at once, which delivered each other's bytes.
     */
    @Test
    void manyVirtualProducersOnASmallQueueDeliverEveryItemIntact() throws Exception {
        try (Queue<String> q = new Queue<>(2)) {
            int n = 2000;
            List<Thread> producers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String item = i + ":" + "x".repeat(i % 300);
                producers.add(Thread.ofVirtual().start(() -> q.put(item)));
            }
            java.util.Set<String> got = new java.util.HashSet<>();
            for (int i = 0; i < n; i++) {
                got.add(q.get());
            }
            for (Thread t : producers) {
                t.join();
            }
            java.util.Set<String> expected = new java.util.HashSet<>();
            for (int i = 0; i < n; i++) {
                expected.add(i + ":" + "x".repeat(i % 300));
            }
            assertEquals(expected, got);
        }
    }

    private static long residentKilobytes() throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }

    @Test
    void fifoOfMixedItemsIncludingNullAndALargeMessage() {
        try (Queue<Object> q = new Queue<>()) {
            assertTrue(q.empty());
            byte[] big = new byte[3 << 20];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) (i * 31);
            }
            byte[] mid = new byte[700_000]; // above the ring's inline limit, below 1 MiB
            mid[699_999] = 7;
            q.put("a");
            q.put(null);
            q.put(List.of(1, 2, 3));
            q.put(big);
            q.put(mid);
            q.put(new byte[4096]);
            assertEquals(6, q.qsize());
            assertFalse(q.empty());
            assertEquals("a", q.get());
            assertNull(q.get());
            assertEquals(List.of(1, 2, 3), q.get());
            assertArrayEquals(big, (byte[]) q.get());
            assertArrayEquals(mid, (byte[]) q.get());
            assertEquals(4096, ((byte[]) q.get()).length);
            assertTrue(q.empty());
            assertEquals(0, q.qsize());
        }
    }

    @Test
    void maxsizeBlocksAndTimesOut() throws Exception {
        Queue<Integer> q = new Queue<>(2);
        q.put(1);
        q.putNowait(2);
        assertTrue(q.full());
        assertThrows(FullException.class, () -> q.putNowait(3));
        long t0 = System.nanoTime();
        assertThrows(FullException.class, () -> q.put(3, Duration.ofMillis(200)));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 190 && ms < 5000, "put timed out after " + ms + " ms");
        // Timed from before the getter starts, which waits 200 ms from its own start: a
        // pause of the test's thread after it cannot shorten the wait measured (attack 57).
        t0 = System.nanoTime();
        Thread getter = multiprocessing.Later.run(200, q::get);
        q.put(3); // blocks until the getter makes room
        ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 190, "put returned after " + ms + " ms, before the getter made room");
        getter.join();
        assertEquals(2, q.qsize());
        assertEquals(2, q.get());
        assertEquals(3, q.get());
        assertThrows(EmptyException.class, q::getNowait);
        t0 = System.nanoTime();
        assertThrows(EmptyException.class, () -> q.get(Duration.ofMillis(150)));
        ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 140 && ms < 5000, "get timed out after " + ms + " ms");
        BooleanSupplier empty = q::empty;
        assertTrue(empty.getAsBoolean());
    }

    @Test
    void misuseFailsClearlyAndTheQueueGoesOn() {
        Queue<Object> q = new Queue<>();
        Runnable notSerializable = () -> {};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> q.put(List.of(1, notSerializable)));
        assertTrue(e.getMessage().contains("cannot send"), e.getMessage());
        assertTrue(q.empty());
        q.put("still works");
        assertEquals("still works", q.get());
        assertThrows(IllegalStateException.class, q::joinThread);
        q.cancelJoinThread();
        q.close();
        q.close();
        q.joinThread();
        assertThrows(IllegalStateException.class, () -> q.put("x"));
        assertThrows(IllegalStateException.class, q::get);

        SimpleQueue<String> s = new SimpleQueue<>();
        s.put("x");
        assertFalse(s.empty());
        assertEquals("x", s.get());
        assertTrue(s.empty());
        s.close();
        s.close();
        assertThrows(IllegalStateException.class, () -> s.put("y"));
        assertThrows(IllegalStateException.class, s::get);

        JoinableQueue<String> j = new JoinableQueue<>();
        j.put("t");
        j.get();
        j.taskDone();
        j.join();
        assertThrows(IllegalStateException.class, j::taskDone);
    }

    static final class Link implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        Link next;
    }

    /**
     * An item taken that cannot be read here (nested deeper than the library reads) throws
     * from get() and counts as done: nobody will ever get it, and join() waited for it for
     * good (as Python's does).
     */
    @Test
    void anItemThatCannotBeReadCountsAsDone() throws Exception {
        JoinableQueue<Object> j = new JoinableQueue<>();
        try {
            Link head = null;
            for (int i = 0; i < 20_000; i++) {
                Link l = new Link();
                l.next = head;
                head = l;
            }
            j.put(head);
            j.put("fine");
            IllegalStateException e = assertThrows(IllegalStateException.class, j::get);
            assertTrue(e.getMessage().contains("nested deeper"), e.getMessage());
            assertEquals("fine", j.get());
            j.taskDone();
            Thread joiner = Thread.ofPlatform().daemon().start(j::join);
            joiner.join(5_000);
            assertFalse(joiner.isAlive(), "join() still waits for the unreadable item");
        } finally {
            j.close();
        }
    }

    @Test
    void manyThreadsKeepPerProducerOrderAndLoseNothing() throws Exception {
        int producers = 4;
        int per = 50_000;
        Queue<Long> q = new Queue<>();
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            long id = p;
            threads.add(new Thread(() -> {
                for (int i = 0; i < per; i++) {
                    q.put(id << 32 | i);
                }
            }));
        }
        int consumers = 3;
        AtomicInteger bad = new AtomicInteger();
        ConcurrentLinkedQueue<int[]> counts = new ConcurrentLinkedQueue<>();
        for (int c = 0; c < consumers; c++) {
            threads.add(new Thread(() -> {
                int[] last = new int[producers];
                java.util.Arrays.fill(last, -1);
                int[] n = new int[producers];
                while (true) {
                    long v = q.get();
                    if (v < 0) {
                        break;
                    }
                    int p = (int) (v >>> 32);
                    int i = (int) v;
                    if (i <= last[p]) {
                        bad.incrementAndGet();
                    }
                    last[p] = i;
                    n[p]++;
                }
                counts.add(n);
            }));
        }
        threads.forEach(Thread::start);
        for (int p = 0; p < producers; p++) {
            threads.get(p).join();
        }
        for (int c = 0; c < consumers; c++) {
            q.put(-1L);
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(0, bad.get(), "order broken or duplicates");
        int[] total = new int[producers];
        for (int[] n : counts) {
            for (int p = 0; p < producers; p++) {
                total[p] += n[p];
            }
        }
        for (int p = 0; p < producers; p++) {
            assertEquals(per, total[p], "producer " + p);
        }
        assertTrue(q.empty());
    }
}
