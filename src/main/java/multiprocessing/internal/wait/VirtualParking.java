package multiprocessing.internal.wait;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Where a virtual thread sleeps on a futex word without holding its carrier: a queue per word,
 * in this JVM, of parked virtual threads ({@link LockSupport#park}), which a waker of this
 * process unparks directly and a {@link Watcher} unparks for a waker of another process.
 *
 * <h2>Implementation note</h2>
 * A virtual thread that would FUTEX_WAIT for value {@code w} instead links a node holding
 * {@code w} into its word's queue, reads the word again, and parks only if it still holds
 * {@code w}. Wakers change the word first and look at the queue after (Parker's
 * {@link Parker.Site#wake}), so of a change and a link, at least one side sees the other, as the
 * kernel's compare under its own lock gives for FUTEX_WAIT. Why, in the Java memory model's
 * terms (the waker's look at the map is an acquire read, which alone would not do):
 * <ul>
 * <li>a queue already in the map is ordered by its lock: a waker that takes the lock after the
 *     link finds the node; one that took it before made its change before that, and the
 *     node's thread, taking the lock after it, reads the changed word;</li>
 * <li>a node that makes a new queue has the queue's new {@link Watcher} behind it, whose first
 *     look at the word comes after the link, and whose sleep in the kernel then takes any
 *     FUTEX_WAKE made after that look. A waker that found no queue calls FUTEX_WAKE, since the
 *     sleepers count it read includes the node's thread and it unparked nobody.</li>
 * </ul>
 *
 * <p>A waker of this process unparks up to {@code n} nodes of the word's queue, head first,
 * and asks the kernel to wake only the remainder, if the word's shared sleepers count says
 * anyone else (a platform thread, another process) sleeps there: a Lock handed between
 * virtual threads of one process costs no system call. A waker of another process can only
 * FUTEX_WAKE; for that, every queue is watched by a {@link Watcher}, a platform thread asleep
 * in the kernel on the word (with futex_waitv, on up to 127 words at once), which, woken,
 * unparks the queue's head (the one the waker meant to wake), and, whenever it looks, every
 * node whose value the word no longer holds. A node stays queued until a waker or watcher
 * unlinks it (state WOKEN: the thread owes the wake-up to someone if it then gives up, as
 * Parker's hand-off says) or its thread leaves by itself (timeout, interrupt: state LEFT).
 *
 * <p>A queue lives while its watcher keeps it: the watcher retires a queue found empty at two
 * of its looks in a row (so a word waited on again and again keeps its queue and its watcher's
 * kernel sleep), or at once if the word's memory has been unmapped. While it sleeps on a word
 * whose queue is empty, a watcher may take a FUTEX_WAKE meant for another process's sleeper; it
 * then passes the wake-up on with one FUTEX_WAKE of its own.
 */
final class VirtualParking {
    private VirtualParking() {}

    private static final VarHandle INT = JAVA_INT.varHandle();

    static final int WAITING = 0;
    static final int WOKEN = 1;
    static final int LEFT = 2;

    /**
     * How long a virtual thread parks at most, at a time, on a word whose watcher sleeps for
     * another value and cannot be nudged (without futex_waitv): a wake-up the watcher missed
     * costs it this much, not the watcher's next look (a second).
     */
    static final long UNNUDGED_NANOS = 10_000_000;

    /** Set once a virtual thread first parks here: until then a waker skips the lookup. */
    private static volatile boolean used;
    private static final ConcurrentHashMap<Long, WordQueue> QUEUES = new ConcurrentHashMap<>();

    /** One parked virtual thread and the word's value it saw. */
    static final class Node {
        final Thread thread;
        final int expected;
        Node prev;
        Node next;
        /** Written under the queue's lock; read without it by the node's own thread. */
        volatile int state;
        /**
         * Linked for another value than its watcher sleeps for, a watcher that cannot be
         * nudged: its thread parks {@link #UNNUDGED_NANOS} at most, and looks again itself.
         */
        boolean unnudged;

        Node(Thread thread, int expected) {
            this.thread = thread;
            this.expected = expected;
        }
    }

    /** The parked virtual threads of one word, and the watcher sleeping in the kernel for them. */
    static final class WordQueue {
        final MemorySegment word;
        final ReentrantLock lock = new ReentrantLock();
        private Node head;
        private Node tail;
        /** The watcher of this queue (set at creation); guarded by lock. */
        Watcher watcher;
        /** Removed from the map: a thread that finds it so makes a new queue. Guarded by lock. */
        boolean retired;
        /** Empty at the watcher's last look. Guarded by lock. */
        boolean idle;
        /** Whether the watcher has looked at the word since the queue was made. Guarded by lock. */
        boolean looked;
        /** The value the watcher read at its last look, and sleeps for. Guarded by lock. */
        int lookedAt;

        WordQueue(MemorySegment word) {
            this.word = word;
        }

        int value() {
            return (int) INT.getVolatile(word, 0L);
        }

        boolean isEmpty() {
            return head == null;
        }

        private void link(Node n) {
            n.prev = tail;
            if (tail == null) {
                head = n;
            } else {
                tail.next = n;
            }
            tail = n;
        }

        private void unlink(Node n) {
            if (n.prev == null) {
                head = n.next;
            } else {
                n.prev.next = n.next;
            }
            if (n.next == null) {
                tail = n.prev;
            } else {
                n.next.prev = n.prev;
            }
            n.prev = null;
            n.next = null;
        }

        private void wake(Node n, List<Thread> out) {
            unlink(n);
            n.state = WOKEN;
            out.add(n.thread);
        }

        /** Under lock: wakes up to {@code n} nodes, head first, into {@code out}; how many. */
        int wakeFirst(int n, List<Thread> out) {
            int m = 0;
            while (m < n && head != null) {
                wake(head, out);
                m++;
            }
            return m;
        }

        /**
         * Under lock: the watcher's look. Wakes every node whose value the word ({@code value}
         * now) no longer holds; if {@code woken} (a FUTEX_WAKE reached the watcher) and none
         * did, the first node that waited since before the watcher's sleep (see {@link
         * Watcher}'s note). Returns false if there was none for the wake-up, to pass it on.
         */
        boolean wakeChanged(int value, boolean woken, List<Thread> out) {
            boolean any = false;
            for (Node x = head; x != null; ) {
                Node next = x.next;
                if (x.expected != value) {
                    wake(x, out);
                    any = true;
                }
                x = next;
            }
            if (!woken || any) {
                return true;
            }
            for (Node x = head; x != null; x = x.next) {
                if (!looked || x.expected == lookedAt) {
                    wake(x, out);
                    return true;
                }
            }
            return false;
        }

        /** Under lock, by the watcher: takes the queue out of use. */
        void retire(List<Thread> out) {
            wakeFirst(Integer.MAX_VALUE, out);
            retired = true;
            QUEUES.remove(word.address(), this);
        }

        /** The node's thread, back from park: true if a waker or watcher woke it. */
        boolean leave(Node n) {
            if (n.state == WOKEN) {
                return true;
            }
            lock.lock();
            try {
                if (n.state == WOKEN) {
                    return true;
                }
                unlink(n);
                n.state = LEFT;
                return false;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Parks the calling virtual thread while {@code word} holds {@code expected}, until a wake-up
     * on the word, {@code nanos} (negative: no limit), an interrupt, or spuriously.
     *
     * @return true if a waker (or a watcher for one) woke it: then, if it gives up rather than
     *     take what it was woken for, it must pass the wake-up on ({@link Parker}'s hand-off)
     */
    static boolean park(MemorySegment word, int expected, long nanos) {
        Node node = new Node(Thread.currentThread(), expected);
        WordQueue q = enqueue(word, node);
        // A change made before the link was seen by no waker: it is ours to see.
        if ((int) INT.getVolatile(word, 0L) == expected) {
            if (node.unnudged) {
                nanos = nanos < 0 ? UNNUDGED_NANOS : Math.min(nanos, UNNUDGED_NANOS);
            }
            if (nanos < 0) {
                LockSupport.park(q);
            } else {
                LockSupport.parkNanos(q, nanos);
            }
        }
        return q.leave(node);
    }

    private static WordQueue enqueue(MemorySegment word, Node node) {
        if (!used) {
            used = true;
        }
        Long key = word.address();
        while (true) {
            WordQueue q = QUEUES.computeIfAbsent(key, k -> new WordQueue(word));
            Watcher added = null;
            Watcher nudged = null;
            q.lock.lock();
            try {
                if (q.retired) {
                    continue;
                }
                q.link(node);
                q.idle = false;
                if (q.watcher == null) {
                    added = q.watcher = Watcher.assign(q);
                } else if (q.looked && q.lookedAt != node.expected) {
                    // The watcher sleeps for another value than this node's: a change back to
                    // it, its FUTEX_WAKE made before the watcher reached the kernel, would let
                    // it sleep on, this node parked after the change (attack 39).
                    nudged = q.watcher;
                }
            } finally {
                q.lock.unlock();
            }
            if (added != null) {
                added.added();
            } else if (nudged != null && !nudged.nudge()) {
                node.unnudged = true; // read by this thread only, in park
            }
            return q;
        }
    }

    /**
     * Unparks up to {@code n} virtual threads of this process parked on {@code word}, after the
     * change that lets them go; returns how many.
     */
    static int unpark(MemorySegment word, int n) {
        if (!used) {
            return 0;
        }
        WordQueue q = QUEUES.get(word.address());
        if (q == null) {
            return 0;
        }
        List<Thread> woken = new ArrayList<>(n == 1 ? 1 : 8);
        int m;
        q.lock.lock();
        try {
            m = q.wakeFirst(n, woken);
        } finally {
            q.lock.unlock();
        }
        unparkAll(woken);
        return m;
    }

    static void unparkAll(List<Thread> threads) {
        for (Thread t : threads) {
            LockSupport.unpark(t);
        }
    }
}
