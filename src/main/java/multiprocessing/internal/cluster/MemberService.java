package multiprocessing.internal.cluster;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

import multiprocessing.AuthenticationError;
import multiprocessing.internal.pool.PoolAccess;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.pool.Pool;

/**
 * What a member does with the chunks it is sent: checks the seal, hands the bytes unread to one
 * of its local worker processes (a process {@link Pool} of {@code workers}, through
 * {@link PoolAccess#relay}), and seals the worker's reply for the task it answers. The member's
 * JVM never reads a task: only a worker does, once the seal has shown it comes from a holder
 * of the key.
 *
 * <p>A chunk holds one of the member's executor threads while it runs; its pool's
 * {@code terminate()} cancels it, which interrupts that thread, and the chunk is dropped, or
 * ended with its worker if it runs. When the member leaves,
 * the chunks still waiting for a worker are answered {@link Answer#UNAVAILABLE} before its
 * workers end, so their pools run them elsewhere rather than fail them. A chunk it never handed
 * to a worker (it was leaving already, or its workers cannot start) is answered
 * {@link Answer#NOT_RUN}: its pool does not count it as one of the chunk's runs (review 50: in a
 * rolling restart, a chunk handed back by one member and then by another that was leaving
 * failed, having run nowhere).
 */
final class MemberService {
    /** Where the member's Hazelcast instance keeps it (its user context). */
    static final String CONTEXT_KEY = "multiprocessing.member";

    /** The member's workers: made again after they broke (see {@link #markBroken}). */
    private volatile Pool local;
    private final int workers;
    private final Seal seal;
    private final Set<CompletableFuture<byte[]>> waiting = ConcurrentHashMap.newKeySet();
    private volatile boolean closing;
    /** The thread that waits to start new workers after they broke, if one does. */
    private volatile Thread rebuilder;
    /** Told once when the member's workers turn out to be unable to run tasks; null: none. */
    private volatile Runnable onBroken;
    private final java.util.concurrent.atomic.AtomicBoolean brokenTold =
            new java.util.concurrent.atomic.AtomicBoolean();

    MemberService(int workers, Seal seal) {
        this.workers = workers;
        this.local = Pool.builder().processes(workers).build();
        this.seal = seal;
    }

    /**
     * How long a member whose workers broke waits before it starts new ones, at first (10 s;
     * tests shorten it with the system property); the wait doubles at each break in a row, up
     * to {@link #MAX_REBUILD_MILLIS}.
     */
    static long firstRebuildMillis() {
        return Long.getLong("multiprocessing.cluster.testRebuildMillis", 10_000);
    }

    static final long MAX_REBUILD_MILLIS = 300_000;
    /** The next wait before new workers; 0: the first (guarded by this). */
    private long rebuildMillis;
    /** Whether the workers broke since they last answered a chunk. */
    private volatile boolean breaking;
    /** Told when new workers are ready to take chunks (the member records itself again). */
    private volatile Runnable onRebuilt;

    /** The threads running the chunks of each sender, to stop when it leaves. */
    private final java.util.Map<java.util.UUID, Set<Thread>> bySender = new ConcurrentHashMap<>();

    /**
     * The node {@code sender} has left the cluster: its chunks are stopped, as its pool's
     * {@code terminate()} would (attack 51: a client killed, or a member gone, left its
     * chunks running for nobody, a never-ending one holding a worker for good).
     */
    void senderGone(java.util.UUID sender) {
        Set<Thread> threads = bySender.remove(sender);
        if (threads != null) {
            threads.forEach(Thread::interrupt);
        }
    }

    byte[] run(byte[] sealedTask, java.util.UUID sender) {
        Set<Thread> threads = bySender.computeIfAbsent(sender, k -> ConcurrentHashMap.newKeySet());
        threads.add(Thread.currentThread());
        try {
            return run(sealedTask);
        } finally {
            threads.remove(Thread.currentThread());
            bySender.computeIfPresent(sender, (k, v) -> v.isEmpty() ? null : v);
            Thread.interrupted(); // a stop that came as it ended is not the executor's
        }
    }

    private byte[] run(byte[] sealedTask) {
        if (closing || notRunForTest()) {
            return Answer.notRun("it is leaving the cluster");
        }
        if (breakForTest()) {
            markBroken(local);
            return Answer.notRun("its workers cannot run tasks (a test broke them)");
        }
        byte[] task;
        try {
            task = seal.open(Answer.TASK, sealedTask, "the task sent to this member");
        } catch (AuthenticationError e) {
            return Answer.refused(e.getMessage());
        }
        CompletableFuture<byte[]> reply = new CompletableFuture<>();
        Pool pool = null;
        waiting.add(reply);
        try {
            // Checked after joining the waiting ones: close() either sees this one or was seen.
            if (closing) {
                return Answer.notRun("it is leaving the cluster");
            }
            pool = local;
            Runnable stop = PoolAccess.get().relay(pool, task, reply::complete);
            byte[] bytes;
            try {
                bytes = reply.get();
            } catch (InterruptedException cancelled) {
                // Its pool was terminated (Hazelcast interrupts a cancelled task's thread):
                // the chunk stops too, and its worker with it if it runs (attack 51: it ran
                // on, a never-ending task holding the worker, and this thread, for good).
                stop.run();
                throw cancelled;
            }
            if (bytes == null && closing) {
                // Cut off by the member's leaving (its workers are being stopped): it may
                // have begun. A result that came first is answered (attack 49: it was
                // dropped, and the chunk ran twice).
                return Answer.unavailable("it left the cluster while the task waited or ran");
            }
            if (bytes == null) {
                // Not run at all: its pool broke (its workers fail to start) while it waited.
                markBroken(pool);
                return Answer.notRun("its workers cannot run tasks (they fail to start)");
            }
            if (breaking) {
                breaking = false; // its workers run chunks again: the next break waits least
                synchronized (this) {
                    rebuildMillis = 0;
                }
            }
            return Answer.ok(seal.seal(Answer.REPLY, bytes, Seal.sealOf(sealedTask)));
        } catch (RuntimeException cannotRun) {
            // Its pool was terminated, or is broken (its workers fail to start): the chunk may
            // run elsewhere. Nothing is thrown to Hazelcast, which would Java-serialize it.
            if (!closing) {
                markBroken(pool);
            }
            return Answer.notRun("its workers cannot take the task: " + cannotRun.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Answer.unavailable("it is shutting down");
        } catch (ExecutionException e) {
            return Answer.unavailable("its worker failed to answer: " + e.getCause());
        } finally {
            waiting.remove(reply);
        }
    }

    /**
     * Fault injection for tests: while the system property {@value #TEST_NOT_RUN} holds a
     * count above zero, this member answers that many chunks {@link Answer#NOT_RUN} as a
     * leaving member does, counting down (set in a member's JVM by the test).
     */
    static final String TEST_NOT_RUN = "multiprocessing.cluster.testNotRun";

    /**
     * Fault injection for tests: while the system property {@value #TEST_BREAK} is set, the
     * next chunk finds this member's workers broken, as one does when they fail to start.
     */
    static final String TEST_BREAK = "multiprocessing.cluster.testBreak";

    private static boolean breakForTest() {
        return System.getProperty(TEST_BREAK) != null && System.clearProperty(TEST_BREAK) != null;
    }

    private static boolean notRunForTest() {
        if (System.getProperty(TEST_NOT_RUN) == null) {
            return false;
        }
        synchronized (MemberService.class) {
            String left = System.getProperty(TEST_NOT_RUN);
            if (left == null || Integer.parseInt(left) <= 0) {
                return false;
            }
            System.setProperty(TEST_NOT_RUN, Integer.toString(Integer.parseInt(left) - 1));
            return true;
        }
    }

    /**
     * Has {@code action} run once if this member's workers turn out unable to run tasks (its
     * pool broke): it withdraws the member's record, so that pools stop choosing a member that
     * answers at once and so looked the least loaded (review 50).
     */
    void onBroken(Runnable action) {
        onBroken = action;
    }

    /** Whether its workers turned out unable to run tasks. */
    boolean broken() {
        return brokenTold.get();
    }

    private void markBroken(Pool which) {
        Runnable action = onBroken;
        if (which == local && action != null && brokenTold.compareAndSet(false, true)) {
            breaking = true;
            action.run();
            // A passing cause (workers killed as they started, by the OOM killer; a spawn
            // refused once) must not take the member out for good: it idled with no workers
            // and never came back (attack 51). It starts new ones after a wait, and records
            // itself again; a lasting cause makes it wait longer each time.
            long wait;
            synchronized (this) {
                wait = rebuildMillis == 0 ? firstRebuildMillis() : rebuildMillis;
                rebuildMillis = Math.min(MAX_REBUILD_MILLIS, wait * 2);
            }
            rebuilder = LibraryThreads.platform().daemon().name("multiprocessing-member-rebuild")
                    .start(() -> rebuildAfter(wait));
        }
    }

    private void rebuildAfter(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            return;
        }
        Pool broken;
        synchronized (this) {
            if (closing) {
                return;
            }
            broken = local;
            local = Pool.builder().processes(workers).build();
        }
        broken.terminate();
        brokenTold.set(false);
        Runnable action = onRebuilt;
        if (action != null && !closing) {
            action.run();
        }
    }

    /** Has {@code action} run when new workers replace broken ones. */
    void onRebuilt(Runnable action) {
        onRebuilt = action;
    }

    /** Hands back the chunks not yet answered, then ends the workers and waits for them. */
    void close() {
        Pool current;
        synchronized (this) {
            closing = true;
            current = local;
        }
        Thread r = rebuilder;
        if (r != null) {
            // Else it kept this service, and its closed pool, for its wait (up to 5 min).
            r.interrupt();
        }
        for (CompletableFuture<byte[]> f : waiting) {
            f.complete(null);
        }
        current.terminate();
    }

    /** The pids of the member's worker processes. */
    java.util.List<Long> workerPids() {
        return local.workerPids();
    }
}
