package multiprocessing.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import multiprocessing.Context;
import multiprocessing.EmptyException;
import multiprocessing.JoinableQueue;
import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.Queue;
import multiprocessing.connection.Pipe;
import multiprocessing.synchronize.Semaphore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The queues between real processes (child JVMs), including the fault cases. */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class QueueProcessesTest {
    static final int PRODUCERS = 4;
    static final int PER_PRODUCER = 100_000;
    static final int CONSUMERS = 2;

    /** Travels inside another object: the queues inside arrive as themselves. */
    record Wiring(Queue<Long> items, Queue<BitSet[]> results) implements Serializable {}

    @Test
    void fourProducersTwoConsumersNothingLostNothingDuplicatedOrderKept() throws Exception {
        Wiring w = new Wiring(new Queue<>(), new Queue<>());
        List<Process> consumers = new ArrayList<>();
        for (int c = 0; c < CONSUMERS; c++) {
            Process p = new Process(() -> {
                BitSet[] seen = new BitSet[PRODUCERS];
                int[] last = new int[PRODUCERS];
                for (int i = 0; i < PRODUCERS; i++) {
                    seen[i] = new BitSet(PER_PRODUCER);
                    last[i] = -1;
                }
                while (true) {
                    long v = w.items().get();
                    if (v < 0) {
                        break;
                    }
                    int producer = (int) (v >>> 32);
                    int i = (int) v;
                    if (i <= last[producer]) {
                        throw new IllegalStateException("producer " + producer + ": " + i
                                + " after " + last[producer]);
                    }
                    last[producer] = i;
                    seen[producer].set(i);
                }
                w.results().put(seen);
            });
            p.start();
            consumers.add(p);
        }
        List<Process> producers = new ArrayList<>();
        for (int p = 0; p < PRODUCERS; p++) {
            long id = p;
            Process proc = new Process(() -> {
                for (int i = 0; i < PER_PRODUCER; i++) {
                    w.items().put(id << 32 | i);
                }
            });
            proc.start();
            producers.add(proc);
        }
        long t0 = System.nanoTime();
        for (Process p : producers) {
            p.join();
            assertEquals(0, p.exitCode());
            p.close();
        }
        for (int c = 0; c < CONSUMERS; c++) {
            w.items().put(-1L);
        }
        BitSet[] all = new BitSet[PRODUCERS];
        for (int i = 0; i < PRODUCERS; i++) {
            all[i] = new BitSet();
        }
        int got = 0;
        for (int c = 0; c < CONSUMERS; c++) {
            BitSet[] seen = w.results().get(Duration.ofSeconds(120));
            for (int i = 0; i < PRODUCERS; i++) {
                assertFalse(all[i].intersects(seen[i]), "an item of producer " + i
                        + " reached both consumers");
                all[i].or(seen[i]);
                got += seen[i].cardinality();
            }
        }
        for (Process p : consumers) {
            p.join();
            assertEquals(0, p.exitCode());
            p.close();
        }
        System.out.printf("4x%d items through 2 consumers in %d ms (with JVM starts)%n",
                PER_PRODUCER, (System.nanoTime() - t0) / 1_000_000);
        for (int i = 0; i < PRODUCERS; i++) {
            assertEquals(PER_PRODUCER, all[i].cardinality(), "producer " + i);
        }
        assertEquals(PRODUCERS * PER_PRODUCER, got);
        assertTrue(w.items().empty());
    }

    @Test
    void aProducerThatExitsRightAfterPuttingLosesNothingAndTheQueueCrossesAPipe()
            throws Exception {
        Queue<Object> q = new Queue<>();
        try (Pipe pipe = Pipe.open(false)) {
            var in = pipe.left();
            Process p = new Process(() -> {
                try {
                    @SuppressWarnings("unchecked")
                    Queue<Object> received = (Queue<Object>) in.recv();
                    for (int i = 0; i < 1000; i++) {
                        received.put(i);
                    }
                    received.put(new byte[2 << 20]); // by reference, in its own shm object
                    received.put("last");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                // returns at once: the JVM exits right after the last put
            });
            p.start();
            pipe.right().send(q);
            p.join();
            assertEquals(0, p.exitCode());
            p.close();
        }
        for (int i = 0; i < 1000; i++) {
            assertEquals(i, q.get(Duration.ofSeconds(5)));
        }
        assertEquals(2 << 20, ((byte[]) q.get(Duration.ofSeconds(5))).length);
        assertEquals("last", q.get(Duration.ofSeconds(5)));
        assertThrows(EmptyException.class, q::getNowait);
    }

    @Test
    void maxsizeBoundsAProducerInAnotherProcess() throws Exception {
        Queue<Integer> q = new Queue<>(3);
        Semaphore started = new Semaphore(0);
        Process p = new Process(() -> {
            started.release();
            for (int i = 0; i < 20; i++) {
                q.put(i);
            }
            try {
                q.put(99, Duration.ofMillis(200));
            } catch (multiprocessing.FullException e) {
                q.put(-1); // reports the timeout once there is room
            }
        });
        p.start();
        assertTrue(started.acquire(Duration.ofSeconds(60)));
        for (int i = 0; i < 20; i++) {
            Thread.sleep(5);
            assertTrue(q.qsize() <= 3, "qsize " + q.qsize());
            assertEquals(i, q.get(Duration.ofSeconds(30)));
        }
        Thread.sleep(50);
        // the child's put(99) could not time out while the queue had room: it went in
        Object next = q.get(Duration.ofSeconds(30));
        assertTrue(next.equals(99) || next.equals(-1), "got " + next);
        p.join();
        assertEquals(0, p.exitCode());
        p.close();
    }

    record Tasks(JoinableQueue<Integer> tasks, Queue<Integer> results) implements Serializable {}

    @Test
    void joinableQueueJoinWaitsForTaskDoneAcrossProcesses() throws Exception {
        Tasks t = new Tasks(Multiprocessing.getContext().joinableQueue(), new Queue<>());
        List<Process> workers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            Process p = new Process(() -> {
                while (true) {
                    int task = t.tasks().get();
                    if (task < 0) {
                        t.tasks().taskDone();
                        return;
                    }
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                    t.results().put(task * task);
                    t.tasks().taskDone();
                }
            });
            p.start();
            workers.add(p);
        }
        for (int i = 0; i < 50; i++) {
            t.tasks().put(i);
        }
        t.tasks().join();
        assertEquals(50, t.results().qsize(), "every result is in before join returns");
        long sum = 0;
        for (int i = 0; i < 50; i++) {
            sum += t.results().get();
        }
        assertEquals(40425, sum);
        t.tasks().put(-1);
        t.tasks().put(-1);
        t.tasks().join();
        for (Process p : workers) {
            p.join();
            assertEquals(0, p.exitCode());
            p.close();
        }
        assertThrows(IllegalStateException.class, t.tasks()::taskDone);
    }

    @Test
    void a256MiBMessageBetweenChildrenWithBoundedHeaps() throws Exception {
        Context ctx = Multiprocessing.getContext().withJvmOptions("-Xmx600m");
        int size = 256 << 20;
        Queue<byte[]> q = new Queue<>();
        Queue<Long> result = new Queue<>();
        Process producer = ctx.process(() -> {
            byte[] msg = new byte[size];
            for (int i = 0; i < size; i += 4096) {
                msg[i] = (byte) (i >>> 12);
            }
            msg[size - 1] = 42;
            q.put(msg);
        });
        Process consumer = ctx.process(() -> {
            byte[] msg = q.get();
            long sum = msg.length;
            for (int i = 0; i < msg.length; i += 4096) {
                sum += msg[i];
            }
            sum += msg[size - 1];
            result.put(sum);
        });
        long t0 = System.nanoTime();
        producer.start();
        consumer.start();
        producer.join();
        assertEquals(0, producer.exitCode(), "the producer ran out of heap?");
        long sum = result.get(Duration.ofSeconds(120));
        consumer.join();
        assertEquals(0, consumer.exitCode(), "the consumer ran out of heap?");
        long expected = size + 42;
        for (int i = 0; i < size; i += 4096) {
            expected += (byte) (i >>> 12);
        }
        assertEquals(expected, sum);
        System.out.printf("256 MiB through a queue between two -Xmx600m children: %d ms%n",
                (System.nanoTime() - t0) / 1_000_000);
        producer.close();
        consumer.close();
    }

    @Test
    void aConsumerKilledMidGetLosesOneItemAndOthersGoOn() throws Exception {
        Context stalling = Multiprocessing.getContext()
                .withJvmOptions("-Dmultiprocessing.queue.testTakeStallMillis=600000");
        Queue<byte[]> q = new Queue<>();
        Semaphore ready = new Semaphore(0);
        Process victim = stalling.process(() -> {
            ready.release();
            q.get(); // claims the first item, then stalls until killed
        });
        victim.start();
        assertTrue(ready.acquire(Duration.ofSeconds(60)));
        byte[] item = new byte[4000];
        q.put(item);
        long deadline = System.nanoTime() + 30_000_000_000L;
        // the victim has claimed it when no one else can get it and it is counted out (the
        // head's move past its claim counts it)
        while (true) {
            Thread.sleep(100);
            try {
                q.getNowait();
                throw new AssertionError("the victim did not take the item");
            } catch (EmptyException expected) {
                if (q.qsize() == 0) {
                    break;
                }
            }
            assertTrue(System.nanoTime() < deadline);
        }
        Thread.sleep(300);
        victim.kill();
        victim.join();
        victim.close();
        // Cycle the whole ring several times: producers must get the dead consumer's room back.
        Thread producer = new Thread(() -> {
            for (int i = 0; i < 5000; i++) {
                item[0] = (byte) i;
                item[1] = (byte) (i >> 8);
                q.put(item);
            }
        });
        producer.start();
        for (int i = 0; i < 5000; i++) {
            byte[] got = q.get(Duration.ofSeconds(30));
            assertEquals((byte) i, got[0]);
            assertEquals((byte) (i >> 8), got[1]);
        }
        producer.join();
        assertEquals(0, q.qsize(), "the lost item's count was given back");
    }

    /**
     * A producer killed while its large item waits for a place in a full queue leaves nothing
     * in /dev/shm: the item's shared memory has no name until the put has room. Before, each
     * such kill left the item's object there until the program's end (attack 35: 700 KB a
     * kill). Both large paths: an item copied into an object of its size, and one grown into
     * an object while it is written (past 1 MiB).
     */
    @ParameterizedTest
    @ValueSource(ints = {700_000, 3_000_000})
    void aProducerKilledWhileALargeItemWaitsLeavesNoSharedMemory(int size) throws Exception {
        Queue<byte[]> q = new Queue<>(1);
        java.util.Set<String> before = NoLeftoverSharedMemory.names();
        Semaphore putting = new Semaphore(0);
        Process victim = new Process(() -> {
            q.put(new byte[size]);
            putting.release();
            q.put(new byte[size]); // waits for the place until killed
        });
        victim.start();
        assertTrue(putting.acquire(Duration.ofSeconds(60)));
        Thread.sleep(500); // the second item written, its put waiting
        victim.kill();
        victim.join();
        victim.close();
        assertEquals(size, q.get(Duration.ofSeconds(60)).length);
        java.util.Set<String> left = new java.util.TreeSet<>(NoLeftoverSharedMemory.names());
        left.removeAll(before);
        left.removeIf(name -> !name.startsWith("mpq_"));
        assertEquals(java.util.Set.of(), left, "a large message's objects left in /dev/shm");
        assertTrue(q.empty());
    }

    /**
     * A producer killed while its put waits for room in a full ring: it has put nothing, so it
     * must count nothing. It used to count the item before it waited: join() then never
     * returned and qsize() stayed one too high.
     */
    @Test
    void aProducerKilledWhileWaitingForRoomCountsNothing() throws Exception {
        JoinableQueue<Integer> q = new JoinableQueue<>();
        int n = 0;
        while (true) {
            try {
                q.putNowait(n);
                n++;
            } catch (multiprocessing.FullException full) {
                break;
            }
        }
        Semaphore putting = new Semaphore(0);
        Process victim = new Process(() -> {
            putting.release();
            q.put(-1);
        });
        victim.start();
        assertTrue(putting.acquire(Duration.ofSeconds(60)));
        Thread.sleep(500); // asleep in put, waiting for room
        victim.kill();
        victim.join();
        victim.close();
        assertEquals(n, q.qsize());
        for (int i = 0; i < n; i++) {
            assertEquals(i, q.get(Duration.ofSeconds(60)));
            q.taskDone();
        }
        assertTrue(q.empty(), "qsize " + q.qsize());
        Thread joiner = new Thread(q::join);
        joiner.setDaemon(true);
        joiner.start();
        joiner.join(10_000);
        assertFalse(joiner.isAlive(), "join() returns once every item put is done");
        assertThrows(EmptyException.class, q::getNowait);
    }

    /**
     * Producers of a bounded queue killed while waiting for room in a ring filled by large items
     * (before maxsize is reached): each used to keep the place under maxsize it had reserved,
     * so the queue ended full while empty.
     */
    @Test
    void boundedProducersKilledWhileWaitingForRoomLeaveEveryPlace() throws Exception {
        byte[] big = new byte[480_000]; // 8 fill the 4 MiB ring
        int victims = 3;
        Queue<byte[]> q = new Queue<>(8 + victims);
        int stored = 0;
        while (true) {
            try {
                q.putNowait(big);
                stored++;
            } catch (multiprocessing.FullException full) {
                break;
            }
        }
        assertTrue(stored < 8 + victims, "the ring filled before maxsize: " + stored);
        Semaphore putting = new Semaphore(0);
        List<Process> killed = new ArrayList<>();
        for (int i = 0; i < victims; i++) {
            Process victim = new Process(() -> {
                putting.release();
                q.put(big);
            });
            victim.start();
            killed.add(victim);
        }
        for (int i = 0; i < victims; i++) {
            assertTrue(putting.acquire(Duration.ofSeconds(60)));
        }
        Thread.sleep(500); // asleep in put, waiting for room
        for (Process victim : killed) {
            victim.kill();
            victim.join();
            victim.close();
        }
        assertEquals(stored, q.qsize(), "the killed producers put nothing");
        for (int i = 0; i < stored; i++) {
            assertEquals(big.length, q.get(Duration.ofSeconds(60)).length);
        }
        assertEquals(0, q.qsize());
        byte[] small = new byte[1];
        for (int i = 0; i < 8 + victims; i++) {
            q.putNowait(small); // every place under maxsize is there
        }
        assertThrows(multiprocessing.FullException.class, () -> q.putNowait(small));
    }

    /**
     * A producer killed between claiming its slots and moving the tail past them (attack 25):
     * the consumer that recovers its claim moves the tail too (it left the tail behind the head,
     * and every later put of the queue failed once its producers were gone), and uncounts only
     * what the producer counted (a JoinableQueue's count went one too low: a consumer's own
     * taskDone() threw; and qsize() one too low, 0 with an item there). The victim's first put
     * is of one slot and goes through; its second stalls after its claim.
     */
    @Test
    void aProducerKilledBetweenItsClaimAndTheTailLeavesTheQueueWhole() throws Exception {
        Context stalling = Multiprocessing.getContext()
                .withJvmOptions("-Dmultiprocessing.queue.testClaimStallMillis=600000");
        JoinableQueue<String> q = new JoinableQueue<>();
        q.put("before");
        Process victim = stalling.process(() -> {
            q.put("warm");
            q.put("claimed, never written ".repeat(20));
        });
        victim.start();
        assertEquals("before", q.get(Duration.ofSeconds(60)));
        assertEquals("warm", q.get(Duration.ofSeconds(60)));
        Thread.sleep(500); // the second put, at once after the first, is in its stall
        assertTrue(victim.isAlive());
        victim.kill();
        victim.join();
        victim.close();
        // Finds the dead claim at the head and frees it.
        assertThrows(EmptyException.class, () -> q.get(Duration.ofMillis(500)));
        q.taskDone();
        q.taskDone(); // threw: the recovery had counted the dead claim's task done
        q.put("after", Duration.ofSeconds(5)); // threw FullException: the tail behind the head
        assertEquals(1, q.qsize(), "the dead claim was uncounted without having been counted");
        assertEquals("after", q.get(Duration.ofSeconds(5)));
        q.taskDone();
        Thread joiner = Thread.ofPlatform().start(q::join);
        joiner.join(10_000);
        assertFalse(joiner.isAlive(), "join() returns once every task is done");
        assertThrows(IllegalStateException.class, q::taskDone);
    }

    /**
     * Producers killed after finding room and a place and before claiming them: they used to
     * count their put there (a JoinableQueue's task, a bounded queue's place), and the count
     * stayed for good: join() waited for ever and Queue(1) was full while empty (attack 59).
     * The victims stall at that point (a test hook) until killed.
     */
    @Test
    void producersKilledBetweenFindingRoomAndClaimingItCountNothing() throws Exception {
        Context stalling = Multiprocessing.getContext()
                .withJvmOptions("-Dmultiprocessing.queue.testFindStallMillis=600000");
        JoinableQueue<String> tasks = new JoinableQueue<>();
        Queue<String> one = new Queue<>(1);
        Semaphore putting = new Semaphore(0);
        List<Process> victims = new ArrayList<>();
        victims.add(stalling.process(() -> {
            putting.release();
            tasks.put("never");
        }));
        victims.add(stalling.process(() -> {
            putting.release();
            one.put("never");
        }));
        for (Process victim : victims) {
            victim.start();
        }
        assertTrue(putting.acquire(Duration.ofSeconds(60)));
        assertTrue(putting.acquire(Duration.ofSeconds(60)));
        Thread.sleep(500); // in the stall
        for (Process victim : victims) {
            assertTrue(victim.isAlive());
            victim.kill();
            victim.join();
            victim.close();
        }
        assertEquals(0, tasks.qsize());
        Thread joiner = Thread.ofPlatform().start(tasks::join);
        joiner.join(10_000);
        assertFalse(joiner.isAlive(), "join() waits for the killed producer's task");
        tasks.put("after");
        assertEquals("after", tasks.get(Duration.ofSeconds(5)));
        tasks.taskDone();
        assertThrows(IllegalStateException.class, tasks::taskDone);

        assertEquals(0, one.qsize());
        one.put("after", Duration.ofSeconds(5)); // threw FullException: its place kept
        assertThrows(multiprocessing.FullException.class, () -> one.putNowait("second"));
        assertEquals("after", one.get(Duration.ofSeconds(5)));
    }

    /**
     * A producer killed in the middle of writing its item: a loop that drains the queue while
     * it is not empty sees it empty (a look for dead claimants runs in qsize() and empty() too,
     * at most every 100 ms), where it went on seeing the dead record, and its next get waited
     * for good (attack 61).
     */
    @Test
    void aQueueWhoseProducerWasKilledMidPutLooksEmptyWithoutAGet() throws Exception {
        Context stalling = Multiprocessing.getContext()
                .withJvmOptions("-Dmultiprocessing.queue.testPutStallMillis=600000");
        multiprocessing.SimpleQueue<String> q = new multiprocessing.SimpleQueue<>();
        Queue<String> one = new Queue<>(1);
        Semaphore putting = new Semaphore(0);
        Process victim = stalling.process(() -> {
            putting.release();
            q.put("half-written ".repeat(50));
        });
        Process second = stalling.process(() -> {
            putting.release();
            one.put("half-written ".repeat(50));
        });
        victim.start();
        second.start();
        assertTrue(putting.acquire(Duration.ofSeconds(60)));
        assertTrue(putting.acquire(Duration.ofSeconds(60)));
        while (q.empty() || one.qsize() == 0) {
            Thread.sleep(20); // until both are in their stall, their claims made
        }
        assertTrue(one.full());
        victim.kill();
        second.kill();
        victim.join();
        second.join();
        victim.close();
        second.close();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!q.empty() || !one.empty()) {
            assertTrue(System.nanoTime() < deadline, "the dead producers' records still count");
            Thread.sleep(20);
        }
        assertEquals(0, one.qsize());
        assertFalse(one.full());
        one.putNowait("after");
        assertEquals("after", one.get(Duration.ofSeconds(5)));
    }

    @Test
    void aProducerKilledMidPutLeavesNothingReadable() throws Exception {
        Context stalling = Multiprocessing.getContext()
                .withJvmOptions("-Dmultiprocessing.queue.testPutStallMillis=600000");
        Queue<String> q = new Queue<>();
        Semaphore putting = new Semaphore(0);
        q.put("before");
        Process victim = stalling.process(() -> {
            putting.release();
            q.put("half-written ".repeat(50));
        });
        victim.start();
        assertTrue(putting.acquire(Duration.ofSeconds(60)));
        while (q.qsize() < 2) {
            Thread.sleep(20);
        }
        Thread.sleep(300);
        q.put("after");
        victim.kill();
        victim.join();
        victim.close();
        assertEquals("before", q.get(Duration.ofSeconds(60)));
        long t0 = System.nanoTime();
        assertEquals("after", q.get(Duration.ofSeconds(60)));
        System.out.printf("the dead producer's record was skipped after %d ms%n",
                (System.nanoTime() - t0) / 1_000_000);
        assertThrows(EmptyException.class, () -> q.get(Duration.ofMillis(300)));
        assertEquals(0, q.qsize());

        // A consumer that only polls (getNowait, or get with timeouts under the 100 ms check)
        // must get past a dead producer's record too: it used to check only while asleep for
        // 100 ms in one call, so it never did and saw nothing put after that record.
        Process second = stalling.process(() -> {
            putting.release();
            q.put("half-written again");
        });
        second.start();
        assertTrue(putting.acquire(Duration.ofSeconds(60)));
        while (q.qsize() < 1) {
            Thread.sleep(20);
        }
        Thread.sleep(300);
        q.put("after the second");
        second.kill();
        second.join();
        second.close();
        String got = null;
        for (long end = System.nanoTime() + 60_000_000_000L; got == null && System.nanoTime() < end; ) {
            try {
                got = q.getNowait();
            } catch (EmptyException e) {
                try {
                    got = q.get(Duration.ofMillis(20));
                } catch (EmptyException again) {
                    Thread.sleep(10);
                }
            }
        }
        assertEquals("after the second", got, "a polling consumer gets past the dead producer's record");
        assertEquals(0, q.qsize());
    }
}
