package multiprocessing.internal.wait;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

import multiprocessing.internal.posix.Futex;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.internal.wait.VirtualParking.WordQueue;

/**
 * A platform thread asleep in the kernel on the futex words where virtual threads of this
 * process are parked ({@link VirtualParking}), so that a FUTEX_WAKE from another process reaches
 * them: the few platform threads that wait on behalf of many, as the JDK's poller threads do for
 * sockets.
 *
 * <h2>Implementation note</h2>
 * With futex_waitv (Linux 5.16), one watcher sleeps on up to 127 words and a control word of
 * its own, which {@link #added} bumps and wakes when a word is given to it; more watchers start
 * only when more words than that have parked threads at once. Each round, a watcher reads each
 * of its words, unparks the nodes whose value the word no longer holds, and sleeps for the
 * values it read: a change before its sleep makes the kernel return at once, a change after it
 * comes with a FUTEX_WAKE (the parked threads are counted in the word's sleepers, so wakers do
 * wake). A change and a change back between its look and its sleep, the FUTEX_WAKE made in
 * between, pass unseen by the kernel's compare: for a node there at the look, the value it
 * waits to see change is back, as for a thread that had not yet reached the kernel (another
 * took what was released); but a node linked after the look, expecting another value than the
 * one read, would wait for the next look though the word no longer holds its value (a lone
 * virtual thread that took a semaphore's permit and waited again: attack 39). So such a link
 * nudges the watcher: its control word is bumped, so that a sleep it has not yet begun returns
 * at once. Woken on a word, it unparks the nodes whose value changed; if none did (the value
 * changed back), the first node that waited since before its sleep, the one a FUTEX_WAKE for
 * the change back may have been meant for; and if there is none, it passes the wake-up on: a
 * node linked after the watcher's look for the value a change left (a condition's waiter that
 * had just signalled) must not take the wake-up of a waiter of another process that waited
 * for that change (attack 39b: such a waiter slept on for a second). A watcher with words
 * sleeps at most {@value #IDLE_MILLIS} ms at a time: wakers of this process empty queues
 * without a system call, and an unused queue must be retired (its memory can then go) without
 * waiting for a wake-up.
 *
 * <p>A watcher with no word for a round of {@value #IDLE_MILLIS} ms ends, unless it is the last.
 * Without futex_waitv, each watcher sleeps with FUTEX_WAIT on one word and ends when it retires
 * it: a thread per word with parked threads, not a few for all. Such a watcher has no word of
 * its own to be nudged by (a FUTEX_WAKE on the watched word could wake another process's
 * sleeper instead of it), so a node linked for another value than it sleeps for parks for a
 * short while at a time instead, looking again itself (see {@link VirtualParking}).
 */
final class Watcher implements Runnable {
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final long IDLE_MILLIS = 1000;
    private static final long IDLE_NANOS = IDLE_MILLIS * 1_000_000;

    private static final ReentrantLock ALL_LOCK = new ReentrantLock();
    /** The running watchers; guarded by ALL_LOCK. */
    private static final List<Watcher> ALL = new ArrayList<>();
    /** ALL's size, for a look without the lock. */
    private static volatile int running;
    private static int started;

    private final boolean multi = Futex.waitvAvailable();
    private final int capacity = multi ? Futex.WAITV_MAX - 1 : 1;
    private final ReentrantLock lock = new ReentrantLock();
    /** The queues this watcher sleeps for; guarded by lock. */
    private final List<WordQueue> queues = new ArrayList<>();
    /** Ended (a single-word watcher whose word was retired); guarded by lock. */
    private boolean ended;
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment control = arena.allocate(JAVA_INT);

    private Watcher() {}

    /** The watcher that takes {@code q} (starting one if all are full). */
    static Watcher assign(WordQueue q) {
        ALL_LOCK.lock();
        try {
            for (Watcher w : ALL) {
                if (w.tryAdd(q)) {
                    return w;
                }
            }
            Watcher w = new Watcher();
            w.tryAdd(q);
            ALL.add(w);
            running = ALL.size();
            LibraryThreads.platform().daemon().name("multiprocessing-futex-watcher-" + started++)
                    .start(w);
            return w;
        } finally {
            ALL_LOCK.unlock();
        }
    }

    private boolean tryAdd(WordQueue q) {
        lock.lock();
        try {
            if (ended || queues.size() >= capacity) {
                return false;
            }
            queues.add(q);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Called after a queue was given to this watcher: wakes it to sleep on the new word too. */
    void added() {
        if (multi) {
            int ignored = (int) INT.getAndAdd(control, 0L, 1);
            Futex.wake(control, 1);
        }
        // A single-word watcher is given a word only when it starts, or when it has just
        // retired its last one and not yet ended (it looks again before it ends).
    }

    /**
     * Called after a node was linked expecting another value than the one this watcher sleeps
     * for (see the class note): if it has not yet reached the kernel, it returns from its sleep
     * at once and looks again. No wake-up: once asleep in the kernel on the word, it is woken
     * by the next change's FUTEX_WAKE, which is all the node needs (a wake-up here cost the
     * round trip of a lone virtual thread's ping-pong a third more, attack 39b). False if it
     * cannot be nudged (a single-word watcher, which has no word of its own).
     */
    boolean nudge() {
        if (multi) {
            int ignored = (int) INT.getAndAdd(control, 0L, 1);
            return true;
        }
        return false;
    }

    @Override
    public void run() {
        MemorySegment entries = arena.allocate(Futex.WAITV_ENTRY, Futex.WAITV_MAX);
        MemorySegment deadline = Futex.newTimespec(arena);
        WordQueue[] watched = new WordQueue[capacity];
        int[] values = new int[capacity];
        List<Thread> woken = new ArrayList<>();
        int emptyRounds = 0;
        while (true) {
            // Read before the queues are: a queue added after this read bumps the word, and the
            // sleep below, made for this value, then returns at once.
            int controlValue = (int) INT.getVolatile(control, 0L);
            WordQueue[] mine;
            lock.lock();
            try {
                mine = queues.toArray(new WordQueue[0]);
            } finally {
                lock.unlock();
            }
            if (Parker.exiting()) {
                endForExit(woken);
                return;
            }
            // A single-word watcher ends with its word; one of several, after a round with none.
            if (mine.length == 0 && (!multi || emptyRounds > 0) && tryEnd()) {
                return;
            }
            emptyRounds = mine.length == 0 ? emptyRounds + 1 : 0;
            int n = 0;
            for (WordQueue q : mine) {
                q.lock.lock();
                try {
                    if (!q.word.scope().isAlive() || (q.isEmpty() && q.idle)) {
                        q.retire(woken);
                        remove(q);
                        continue;
                    }
                    int v = q.value();
                    q.wakeChanged(v, false, woken);
                    q.looked = true;
                    q.lookedAt = v;
                    if (q.isEmpty()) {
                        q.idle = true;
                    }
                    watched[n] = q;
                    values[n] = v;
                    n++;
                } finally {
                    q.lock.unlock();
                }
            }
            VirtualParking.unparkAll(woken);
            woken.clear();
            if (n == 0 && !multi) {
                continue; // ends, unless given a word meanwhile
            }
            // Timed while it has words (a queue emptied by wakers of this process, which do not
            // call the kernel, is seen and retired at the next looks) or is a spare.
            boolean timed = n > 0 || running > 1;
            try {
                int r = sleep(entries, deadline, watched, values, n, controlValue, timed);
                if (r >= 1 && r <= n) {
                    // futex_waitv names the last word woken: a FUTEX_WAKE on a word before it,
                    // made while this thread's entries were still queued after the first
                    // wake-up, reached it too and is not named. If that word changed since the
                    // sleep, the wake-up may have been meant for a sleeper elsewhere: taken as
                    // received, so that it is passed on if nobody here was waiting for it (a
                    // Barrier's signal, its lock word woken first: attack 39c).
                    for (int i = 0; i < r - 1; i++) {
                        if (changed(watched[i], values[i])) {
                            wokenOn(watched[i], woken);
                        }
                    }
                    wokenOn(watched[r - 1], woken);
                } else if (r == Futex.WAITV_FAULT) {
                    faulted(watched, n, woken, null);
                }
            } catch (RuntimeException e) {
                // A word's memory closed under the single-word sleep, or a kernel that refuses
                // the call: this thread must not end with threads parked on its words.
                faulted(watched, n, woken, e);
            }
            java.util.Arrays.fill(watched, 0, n, null);
        }
    }

    /**
     * Ends this watcher if it still has no queue (a single-word watcher), or none and others run
     * (one of several): then no queue can be given to it any more.
     */
    private boolean tryEnd() {
        ALL_LOCK.lock();
        try {
            lock.lock();
            try {
                if (!queues.isEmpty() || (multi && ALL.size() == 1)) {
                    return false;
                }
                ended = true;
                ALL.remove(this);
                running = ALL.size();
                return true;
            } finally {
                lock.unlock();
            }
        } finally {
            ALL_LOCK.unlock();
        }
    }

    /**
     * At exit (see Parker's "Exit"): wakes every watcher, which then wakes its threads and ends
     * (its sleep in the kernel would make the exit wait); true while any still runs.
     */
    static boolean wakeForExit() {
        ALL_LOCK.lock();
        try {
            for (Watcher w : ALL) {
                w.lock.lock();
                try {
                    int ignored = (int) INT.getAndAdd(w.control, 0L, 1);
                    if (w.multi) {
                        Futex.wake(w.control, Integer.MAX_VALUE);
                    } else {
                        for (WordQueue q : w.queues) {
                            if (q.word.scope().isAlive()) {
                                Futex.wake(q.word, Integer.MAX_VALUE);
                            }
                        }
                    }
                } finally {
                    w.lock.unlock();
                }
            }
            return !ALL.isEmpty();
        } finally {
            ALL_LOCK.unlock();
        }
    }

    /**
     * Ends this watcher, then wakes the threads of each of its queues, which then wait without
     * it. Ended first (no queue is given to it any more), each queue retired after (under its
     * own lock, which is taken before ALL_LOCK elsewhere): a thread linked meanwhile is woken
     * by the retirement, one linked later makes a new queue, and a new watcher, which ends at
     * once the same way.
     */
    private void endForExit(List<Thread> woken) {
        List<WordQueue> mine;
        ALL_LOCK.lock();
        try {
            lock.lock();
            try {
                mine = new ArrayList<>(queues);
                queues.clear();
                ended = true;
                ALL.remove(this);
                running = ALL.size();
            } finally {
                lock.unlock();
            }
        } finally {
            ALL_LOCK.unlock();
        }
        for (WordQueue q : mine) {
            q.lock.lock();
            try {
                if (!q.retired) {
                    q.retire(woken);
                }
            } finally {
                q.lock.unlock();
            }
        }
        VirtualParking.unparkAll(woken);
        woken.clear();
    }

    /**
     * One sleep in the kernel on the control word and the {@code n} words; as {@link
     * Futex#waitv}, the control word's index 0 and word {@code i}'s {@code i + 1}. Woken on
     * several words at once, the kernel names the last of them: the control word first, so
     * that its wake-up (a queue added, seen at the next round anyway) never hides a word's.
     * Two words woken at once still name one: the other's wake-up, if its word changed, is
     * taken as received too (see run); otherwise (a wake-up passed on, or a change and a
     * change back) it is seen at its sleeper's next look.
     */
    private int sleep(MemorySegment entries, MemorySegment deadline, WordQueue[] watched,
            int[] values, int n, int controlValue, boolean timed) {
        if (!multi) {
            int r = Futex.await(watched[0].word, values[0], timed ? IDLE_NANOS : -1);
            return r == Futex.WOKEN ? 1 : Futex.WAITV_CHANGED;
        }
        Futex.setWaitvEntry(entries, 0, control, controlValue);
        for (int i = 0; i < n; i++) {
            Futex.setWaitvEntry(entries, i + 1, watched[i].word, values[i]);
        }
        return Futex.waitv(entries, n + 1, timed ? System.nanoTime() + IDLE_NANOS : Long.MAX_VALUE,
                deadline);
    }

    /** Whether {@code q}'s word, still mapped, no longer holds {@code value}. */
    private static boolean changed(WordQueue q, int value) {
        try {
            return q.word.scope().isAlive() && q.value() != value;
        } catch (IllegalStateException unmapped) {
            return false; // its queue is retired at the next round
        }
    }

    /** A FUTEX_WAKE reached this watcher on {@code q}'s word: someone parked there takes it. */
    private void wokenOn(WordQueue q, List<Thread> woken) {
        boolean taken;
        q.lock.lock();
        try {
            if (!q.word.scope().isAlive()) {
                return; // unmapped: nobody to pass a wake-up to
            }
            taken = !q.retired && q.wakeChanged(q.value(), true, woken);
        } finally {
            q.lock.unlock();
        }
        VirtualParking.unparkAll(woken);
        woken.clear();
        if (!taken) {
            Futex.wake(q.word, 1); // meant for a sleeper elsewhere: pass it on
        }
    }

    /**
     * A word's memory was unmapped under the sleep: its queue is retired at the next round. If
     * no word's memory is closed (unmapped by other means, or the sleep failed otherwise), every
     * queue is retired, its threads woken to find out for themselves.
     */
    private void faulted(WordQueue[] watched, int n, List<Thread> woken, RuntimeException why) {
        for (int i = 0; i < n; i++) {
            if (!watched[i].word.scope().isAlive()) {
                return;
            }
        }
        System.getLogger(Watcher.class.getName()).log(System.Logger.Level.WARNING, "a futex word is no longer mapped, or the kernel"
                + " refused the wait; the virtual threads parked on " + n + " words are woken"
                + " to look again", why);
        for (int i = 0; i < n; i++) {
            WordQueue q = watched[i];
            q.lock.lock();
            try {
                if (!q.retired) {
                    q.retire(woken);
                    remove(q);
                }
            } finally {
                q.lock.unlock();
            }
        }
        VirtualParking.unparkAll(woken);
        woken.clear();
    }

    private void remove(WordQueue q) {
        lock.lock();
        try {
            queues.remove(q);
        } finally {
            lock.unlock();
        }
    }
}
