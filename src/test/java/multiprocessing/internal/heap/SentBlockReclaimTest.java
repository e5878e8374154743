package multiprocessing.internal.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.Queue;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;
import multiprocessing.synchronize.Lock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A block sent to another process is reclaimed once nobody holds it: a parent that makes a
 * Queue per job and sends it to a child kept every ring (4.5 MiB of /dev/shm each) until it
 * exited, and one that makes a Lock per job every lock's block; a receiver killed while it
 * held a block kept it taken for good.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 900, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SentBlockReclaimTest {

    /**
     * The heap arena of an object received from a child is unmapped here once the object is
     * dropped: a long-lived process kept every sender's small arena mapped, its memory held
     * in /dev/shm after the sender had exited and unlinked it (review 43).
     */
    @Test
    void aReceivedObjectsArenaIsUnmappedOnceDropped() throws Exception {
        Pipe pipe = Pipe.open(true);
        Connection mine = pipe.left();
        Connection theirs = pipe.right();
        Process child = new Process(() -> {
            Lock made = new Lock();
            theirs.send(made);
            theirs.recv(); // until the parent has its own view
        });
        child.start();
        java.util.Set<String> before = NoLeftoverSharedMemory.mappedHere();
        Lock received = (Lock) mine.recv();
        received.acquire();
        received.release();
        java.util.Set<String> arenas = NoLeftoverSharedMemory.mappedHere();
        arenas.removeAll(before);
        arenas.removeIf(n -> !n.startsWith(Heap.NAME_PREFIX) || n.startsWith(Heap.NAME_PREFIX + "r"));
        assertEquals(1, arenas.size(), "the child's arena, newly mapped: " + arenas);
        mine.send("done");
        child.join();
        received = null;
        java.util.Set<String> still = NoLeftoverSharedMemory.afterGcs(() -> {
            java.util.Set<String> now = NoLeftoverSharedMemory.mappedHere();
            now.retainAll(arenas);
            return now;
        });
        assertEquals(java.util.Set.of(), still, "the child's arena is still mapped here");
        pipe.close();
    }
    /**
     * Enough for the reclaim to run some fifty times (a process asks for a GC after each
     * 128 MiB of dedicated arenas past 256 MiB, some 28 rings); 10,000 took a minute of CI.
     */
    private static final int QUEUES = 3_000;
    /** Far below the 13 GiB the queues would take if none were reclaimed. */
    private static final int MAX_RINGS = 600;

    @Test
    void threeThousandQueuesSentToAChildAndDroppedKeepDevShmBounded() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection toChild = pipe.left();
            Connection fromParent = pipe.right();
            Process child = new Process(() -> {
                int received = 0;
                while (fromParent.recv() instanceof Queue<?> q) {
                    q.qsize(); // maps the ring here; then drops it
                    received++;
                }
                fromParent.send(received);
            });
            child.start();
            try {
                sendAndDrop(toChild, child);
            } finally {
                if (child.isAlive()) {
                    child.kill();
                    child.join();
                }
            }
        }
    }

    private static final int LOCKS = 100_000;
    /**
     * How much the small arenas may grow while the locks are sent: their blocks alone take
     * 6.4 MB (15 MiB of arenas as they double), so a heap that keeps them passes this.
     */
    private static final long MAX_GROWTH = 4L << 20;

    @Test
    void hundredThousandLocksSentToAChildAndDroppedKeepTheHeapBounded() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection toChild = pipe.left();
            Connection fromParent = pipe.right();
            Process child = new Process(() -> {
                int received = 0;
                while (fromParent.recv() instanceof Lock lock) {
                    lock.acquire(); // the lock works: its word is no other lock's
                    lock.release();
                    received++;
                }
                fromParent.send(received);
            });
            child.start();
            try {
                long before = smallArenaBytes();
                long most = 0;
                for (int i = 0; i < LOCKS; i++) {
                    toChild.send(new Lock());
                    if (i % 1000 == 0) {
                        long grown = smallArenaBytes() - before;
                        most = Math.max(most, grown);
                        assertTrue(grown <= MAX_GROWTH, "after " + i + " locks the small arenas"
                                + " grew by " + grown + " bytes; " + Heap.instance().reclaimState());
                    }
                }
                toChild.send("done");
                assertEquals(LOCKS, toChild.recv());
                child.join();
                assertEquals(0, child.exitCode());
                System.out.println("small arenas grew by at most " + most + " bytes; "
                        + Heap.instance().reclaimState());
            } finally {
                if (child.isAlive()) {
                    child.kill();
                    child.join();
                }
            }
        }
    }

    /**
     * A receiver killed (SIGKILL) while it held a queue's ring: its parent gives its hold back
     * when it reaps it, and the ring is freed once its owner drops the queue. It stayed until
     * the owner exited.
     */
    @Test
    void aReceiverKilledHoldingARingGivesItsHoldBackWhenReaped() throws Exception {
        killAReceiverHoldingARing(true);
    }

    /**
     * The same when nobody reaps the killed receiver yet (it is a zombie, or not this process's
     * child): the owner's sweep finds its receipts and gives its hold back.
     */
    @Test
    void aReceiverKilledHoldingARingIsFoundDeadByTheOwnersSweep() throws Exception {
        killAReceiverHoldingARing(false);
    }

    private static void killAReceiverHoldingARing(boolean reapFirst) throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection toChild = pipe.left();
            Connection fromParent = pipe.right();
            Process child = new Process(() -> {
                Queue<?> q = (Queue<?>) fromParent.recv();
                q.qsize(); // maps the ring here
                fromParent.send("holding");
                Thread.sleep(600_000);
                java.lang.ref.Reference.reachabilityFence(q);
            });
            child.start();
            try {
                java.util.Set<String> before = java.util.Set.copyOf(Heap.ownedArenaNames());
                Queue<Integer> q = new Queue<>();
                String ring = Heap.ownedArenaNames().stream()
                        .filter(n -> !before.contains(n)).findFirst().orElseThrow();
                toChild.send(q);
                assertEquals("holding", toChild.recv());
                child.kill();
                if (reapFirst) {
                    child.join();
                    // Given back by the reap itself, before any sweep: its receipts are gone.
                    assertEquals(List.of(), receiptsOf(child.pid()),
                            "the killed child's receipts, once reaped");
                } else {
                    awaitZombie(child.pid());
                }
                q = null;
                Path file = Path.of("/dev/shm", ring.substring(1));
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (Files.exists(file)) {
                    assertTrue(System.nanoTime() < deadline, "the ring " + ring + " is still"
                            + " there; " + Heap.instance().reclaimState());
                    System.gc();
                    Thread.sleep(50);
                    Heap.instance().reapAndSweep();
                }
            } finally {
                if (child.isAlive()) {
                    child.kill();
                }
                child.join();
            }
        }
    }

    /**
     * A process that holds a block of a process that has already exited (whose arena's name is
     * gone) gives its holds back at its exit and leaves no receipts: that give-back met the
     * vanished arena as a null and threw, before the receipts were unlinked.
     */
    @Test
    void aHolderThatOutlivesTheBlocksOwnerLeavesNoReceipts() throws Exception {
        holdPastTheOwner(false);
    }

    /** The same for a holder killed (SIGKILL): its parent's reaping met the null and threw. */
    @Test
    void aHolderKilledAfterTheBlocksOwnerExitedLeavesNoReceipts() throws Exception {
        holdPastTheOwner(true);
    }

    private static void holdPastTheOwner(boolean kill) throws Exception {
        try (Queue<Lock> q = new Queue<>(); Pipe pipe = Pipe.open()) {
            Connection toHolder = pipe.left();
            Connection fromParent = pipe.right();
            multiprocessing.synchronize.Event held = new multiprocessing.synchronize.Event();
            Process owner = new Process(() -> {
                Lock lock = new Lock();
                q.put(lock);
                held.await(); // its arena is unlinked at its exit: not before the holder maps it
                java.lang.ref.Reference.reachabilityFence(lock);
            });
            Process holder = new Process(() -> {
                Lock lock = q.get();
                lock.acquire(); // maps the owner's arena here: a hold
                lock.release();
                fromParent.send("holding");
                fromParent.recv(); // the owner has exited
                lock.acquire();
                lock.release();
                java.lang.ref.Reference.reachabilityFence(lock);
            });
            holder.start();
            fromParent.close(); // the holder's now: its end reads as EOF here if it dies
            owner.start();
            try {
                assertEquals("holding", toHolder.recv());
                held.set();
                owner.join();
                assertEquals(0, owner.exitCode());
                if (kill) {
                    holder.kill();
                    holder.join();
                    assertEquals(-9, holder.exitCode());
                } else {
                    toHolder.send("go");
                    holder.join();
                    assertEquals(0, holder.exitCode());
                }
                String receipts = "mph_r" + holder.pid() + "_";
                try (var names = Files.list(Path.of("/dev/shm"))) {
                    assertEquals(java.util.List.of(), names.map(f -> f.getFileName().toString())
                            .filter(n -> n.startsWith(receipts)).toList(),
                            "the holder's receipts are left");
                }
            } finally {
                for (Process p : new Process[] {owner, holder}) {
                    if (p.isAlive()) {
                        p.kill();
                    }
                    p.join();
                }
            }
        }
    }

    /** The receipt segments process {@code pid} has in /dev/shm. */
    private static List<String> receiptsOf(long pid) throws java.io.IOException {
        try (var names = Files.list(Path.of("/dev/shm"))) {
            return names.map(n -> n.getFileName().toString())
                    .filter(n -> n.startsWith(Receipts.PREFIX + pid + "_")).toList();
        }
    }

    private static void awaitZombie(long pid) throws Exception {
        Path stat = Path.of("/proc/" + pid + "/stat");
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            String s;
            try {
                s = Files.readString(stat);
            } catch (java.nio.file.NoSuchFileException reaped) {
                return; // reaped already (its holds were given back then): as good
            }
            if (s.substring(s.lastIndexOf(')') + 2).startsWith("Z")) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, "the killed child never ended: " + s);
            Thread.sleep(10);
        }
    }

    /** Bytes of this process's small arenas (the dedicated ones' names start with "x"). */
    private static long smallArenaBytes() {
        long n = 0;
        for (String name : Heap.ownedArenaNames()) {
            if (!name.startsWith("/" + Heap.NAME_PREFIX + "x")) {
                try {
                    n += Files.size(Path.of("/dev/shm", name.substring(1)));
                } catch (java.io.IOException gone) {
                    // freed meanwhile
                }
            }
        }
        return n;
    }

    private static void sendAndDrop(Connection toChild, Process child) throws Exception {
        {
            int most = 0;
            for (int i = 0; i < QUEUES; i++) {
                toChild.send(new Queue<Integer>());
                if (i % 100 == 0) {
                    int rings = ringsOfThisProcess();
                    most = Math.max(most, rings);
                    // Fail early: unreclaimed, the rings would fill the machine's /dev/shm.
                    assertTrue(rings <= MAX_RINGS, "after " + i + " queues this process still"
                            + " has " + rings + " rings in /dev/shm; " + Heap.instance().reclaimState());
                }
            }
            toChild.send("done");
            assertEquals(QUEUES, toChild.recv());
            child.join();
            assertEquals(0, child.exitCode());
            assertTrue(most <= MAX_RINGS, "at most " + most + " rings at once");
        }
    }

    /** This process's dedicated arenas still in /dev/shm (a ring each, here). */
    private static int ringsOfThisProcess() {
        int n = 0;
        for (String name : Heap.ownedArenaNames()) {
            try {
                if (Files.size(Path.of("/dev/shm", name.substring(1))) >= Heap.DEDICATED_THRESHOLD) {
                    n++;
                }
            } catch (java.io.IOException gone) {
                // freed meanwhile
            }
        }
        return n;
    }
}
