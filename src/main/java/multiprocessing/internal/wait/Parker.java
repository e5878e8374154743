package multiprocessing.internal.wait;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Futex;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.util.AtExit;

/**
 * The one way a thread of this library waits for something another thread or process does to
 * shared memory (what {@link java.util.concurrent.locks.LockSupport} is to
 * {@code java.util.concurrent}): every lock, semaphore, condition and queue ring waits here.
 *
 * <h2>Implementation note</h2>
 * A wait is on a {@link Site}: a 32-bit futex word and a count of the threads (of any process)
 * asleep on it, both in shared memory. The caller's {@link Attempt} says whether it can
 * proceed; a waker changes what the attempt looks at, then, if the sleepers count is non-zero,
 * changes or keeps the word and calls FUTEX_WAKE on it. A waiter
 * <ol>
 * <li>spins for a bounded time ({@code -Dmultiprocessing.wait.spinMicros}, default 50, 0 on a
 *     single CPU), trying again after each step: a process woken from the kernel on another
 *     CPU costs 30-60 us, a hand-off seen while spinning well under one. After the first
 *     microseconds ({@code -Dmultiprocessing.wait.pureSpinMicros}, default 2) each step yields
 *     the CPU instead of pausing it ({@link #pause}): the partner a spinner waits for may be
 *     queued on the same CPU (measured on a loaded 2-CPU machine, semaphore ping-pong took
 *     130 us with a 50 us pure spin and 7 us with none);</li>
 * <li>then registers in the sleepers count and, in a loop, reads the word, tries once more,
 *     and sleeps with FUTEX_WAIT for the value it read. A change between its read and its sleep
 *     makes the kernel return at once (it compares under its own lock), and the registration
 *     then look, and the waker's change then count read, are sequentially consistent, so at
 *     least one of the two sees the other: either the waker wakes or the waiter does not
 *     sleep.</li>
 * </ol>
 * The value slept for is the one the attempt failed on when it says so ({@link #failedOn}):
 * a lock's word goes from free to held and back to free many times a microsecond when threads of
 * one process share it, and a waiter that read "free", failed against a holder, and then slept
 * for "free" would sleep through that holder's release. An attempt that lost a race it could
 * have won says {@link #RETRY} and is made again at once.
 *
 * <p>Interrupts: a Java interrupt does not end a futex wait, so a platform thread that sleeps
 * interruptibly has its interrupt wake it, as the JDK's interruptible channels do: for the
 * sleep it is blocked on an {@link InterruptWake} ({@code AbstractInterruptibleChannel.begin}),
 * which {@link Thread#interrupt} closes after it has set the status. With futex_waitv (Linux
 * 5.16) the thread sleeps on two words: the shared one and a word of its own, which it sets to
 * 0 before it looks at its status and which the close sets to 1, then wakes. An interrupt after
 * the look either changes that word before the kernel compares it (the sleep returns at once)
 * or wakes the sleep: none is missed, and only the interrupted thread wakes. Without
 * futex_waitv the close wakes every sleeper on the shared word (the others look and sleep
 * again), and an interrupt that comes between the sleeper's last look at its status and its
 * entry into the kernel wakes nobody (nothing the word holds has changed), so there an
 * interruptible sleep still ends every 200 ms to look
 * ({@code -Dmultiprocessing.wait.interruptCheckMillis}). Looking every 20 ms instead, for every
 * interrupt, cost an idle child waiting on a Condition 13-14 ms of CPU a second, against 3-4
 * then. An interruptible wait for descriptors polls an eventfd beside them, which the interrupt
 * signals: an eventfd stays readable, so there an interrupt is never missed either.
 *
 * <p>Sleeps are sliced: every 200 ms when the wait is interruptible and the kernel lacks
 * futex_waitv (above), whenever the caller's {@link Watch} is due (a dead lock owner, a dead
 * queue claimant: nobody will wake for those), and at least every second in any case: a sleeper
 * that was woken in this one's place may have been killed before it took what it was woken
 * for, and nobody is left to pass its wake-up on (see "Hand-off").
 *
 * <p>Virtual threads: a virtual thread must not sleep in the kernel, where it holds its carrier
 * (with every carrier so held, the thread that would wake them never runs). It takes the same
 * steps, counted in the same sleepers count, but where a platform thread calls FUTEX_WAIT it
 * parks in {@link VirtualParking}, a queue per word in this JVM: a waker of this process unparks
 * it directly ({@link Site#wake} looks there first), and a {@link Watcher}, one of a few platform
 * threads asleep in the kernel on the words that have parked threads, unparks it for a waker of
 * another process. An interrupt unparks a virtual thread, so its sleeps are not sliced for it.
 * Waits for descriptors ({@link #awaitFd}) park the same way, with the {@link FdPoller}'s epoll
 * thread watching the descriptors. Platform threads keep the direct futex and poll(2) path.
 *
 * <p>Hand-off: a waker that wakes one sleeper (a lock's release) counts on that sleeper to
 * take what it was woken for. A sleeper that was woken and then gives up (interrupted, timed
 * out, or its watch threw) wakes one other sleeper before it leaves, as AQS's cancelled node
 * unparks its successor; otherwise the lock would be free while another waiter sleeps on. A
 * wake-up passed on needlessly only costs the woken a look. A sleeper killed (SIGKILL) after it
 * was woken passes nothing on: the others find what it left at their next look.
 *
 * <p>Exit: HotSpot's exit ({@code System.exit}, and so every child's end) waits up to 300 ms
 * for the threads inside a native call to come out of it, and a thread asleep in FUTEX_WAIT,
 * poll(2) or read(2) is inside one: a daemon thread waiting on an Event, a manager's connection
 * thread waiting for the next call, each made an exit 300 ms late (measured: a child with one
 * such thread ended 320 ms after its target, against 13-80 ms without). So every platform poll
 * here also polls the read end of an exit pipe, the words platform threads sleep on are known
 * ({@code IN_FUTEX}), and the library's last exit stage ({@link #quiesce}) sets a flag, closes
 * the pipe's write end and wakes those words. From then on no wait enters the kernel: each
 * looks again every {@value #EXIT_SLICE_MICROS} us from a {@link LockSupport#parkNanos}, which
 * the exit does not wait for. The watcher and poller threads of virtual threads wake their
 * threads and end. A thread that registers (in {@code IN_FUTEX}, or with a watcher or the
 * poller) then reads the flag, and the exit stage sets the flag then looks at the
 * registrations, so one of the two sees the other; the stage wakes again until none is left,
 * for a sleeper between its look and its system call.
 */
public final class Parker {
    private Parker() {}

    /** How long a waiter spins before it sleeps (0 on a single CPU: nobody else could act). */
    public static final long SPIN_NANOS = Runtime.getRuntime().availableProcessors() < 2 ? 0
            : Long.getLong("multiprocessing.wait.spinMicros", 50) * 1000;
    /** The first part of the spin that only pauses the CPU (see {@link #pause}). */
    static final long PURE_SPIN_NANOS = Long.getLong("multiprocessing.wait.pureSpinMicros", 2) * 1000;
    /**
     * How often an interruptible sleeper looks at its interrupt status unwoken where the kernel
     * lacks futex_waitv (see "Interrupts": an interrupt wakes it, but for one that comes just
     * before it sleeps).
     */
    public static final long INTERRUPT_CHECK_MILLIS =
            Long.getLong("multiprocessing.wait.interruptCheckMillis", 200);
    private static final long INTERRUPT_CHECK_NANOS = INTERRUPT_CHECK_MILLIS * 1_000_000;
    /**
     * How often any sleeper looks again unwoken: a wake-up may have died with its waiter
     * ({@code -Dmultiprocessing.wait.recheckMillis}, for tests).
     */
    public static final long RECHECK_MILLIS =
            Long.getLong("multiprocessing.wait.recheckMillis", 1000);
    private static final long RECHECK_NANOS = RECHECK_MILLIS * 1_000_000;

    /** Results of {@link #await} other than an attempt's own (which are >= 0). */
    public static final long TIMED_OUT = -1;
    public static final long INTERRUPTED = -2;

    private static final long FAILED_ON = Long.MIN_VALUE;
    private static final long VALUE_BITS = 0xffffffffL;
    /** An attempt's result: it lost a race it could have won (a CAS); try again at once. */
    public static final long RETRY = FAILED_ON | (1L << 32);

    /**
     * An attempt's result: it failed because the word held {@code word}, so the waiter sleeps
     * only while the word still holds it. Any other negative result sleeps for the value read
     * just before the attempt, which is right where the word is a counter that every change
     * made while someone sleeps bumps ({@link Site#bumpAndWakeAll}): a change made before the
     * waiter registered is seen by its attempt, one made after moves the word off the value it
     * read.
     */
    public static long failedOn(int word) {
        return FAILED_ON | (word & VALUE_BITS);
    }

    private static boolean isFailedOn(long r) {
        return (r & ~VALUE_BITS) == FAILED_ON;
    }

    private static final VarHandle INT = JAVA_INT.varHandle();

    /** How often a wait looks again once the JVM exits (see "Exit"). */
    static final long EXIT_SLICE_MICROS = 500;
    private static final long EXIT_SLICE_NANOS = EXIT_SLICE_MICROS * 1000;
    /** Set by {@link #quiesce}: no wait enters the kernel any more. */
    private static volatile boolean exiting;
    /** The platform threads inside FUTEX_WAIT (or about to be), and their words. */
    private static final ConcurrentHashMap<Thread, MemorySegment> IN_FUTEX =
            new ConcurrentHashMap<>();
    /** The exit pipe: [read end, write end]; -1 until made (or if it cannot be). */
    private static volatile int exitReadFd = -2;
    private static int exitWriteFd = -1;

    /**
     * Fault injection for tests: a sleeper woken by a waker stalls this long before it tries
     * again, so that a test can kill its process there.
     */
    private static final long WOKEN_STALL_MILLIS =
            Long.getLong("multiprocessing.wait.testWokenStallMillis", 0);
    /**
     * Fault injection for tests: an interruptible sleeper stalls this long between its last
     * look at its interrupt status and its entry into the kernel, so that a test can interrupt
     * it there (see "Interrupts").
     */
    private static final long BEFORE_SLEEP_STALL_MILLIS =
            Long.getLong("multiprocessing.wait.testBeforeSleepStallMillis", 0);

    /**
     * Where waiters sleep: {@code word}, the futex word (4 bytes, 4-aligned), and
     * {@code sleepers}, the count of threads asleep on it (4 bytes), both in shared memory.
     */
    public record Site(MemorySegment word, MemorySegment sleepers) {
        /** Wakes up to {@code n} sleepers if there are any (after the change that lets them go). */
        public void wake(int n) {
            int s = (int) INT.getVolatile(sleepers, 0L);
            if (s > 0) {
                wakeUpTo(n, s);
            }
        }

        /**
         * If anyone sleeps on the word, adds one to it (sequentially consistent), then wakes
         * every sleeper. Nobody asleep, nothing changes: a waiter not registered yet sees the
         * caller's change in the attempt it makes after registering.
         */
        public void bumpAndWakeAll() {
            int s = (int) INT.getVolatile(sleepers, 0L);
            if (s > 0) {
                int ignored = (int) INT.getAndAdd(word, 0L, 1);
                wakeUpTo(Integer.MAX_VALUE, s);
            }
        }

        /**
         * Virtual threads of this process parked on the word first, without a system call; the
         * kernel for the rest, unless all {@code sleepers} were among those unparked.
         */
        private void wakeUpTo(int n, int sleepers) {
            int m = VirtualParking.unpark(word, n);
            if (m < n && sleepers > m) {
                Futex.wake(word, n - m);
            }
        }

        /** Wakes one other sleeper (a hand-off passed on), a virtual thread of this process first. */
        void passOn() {
            if (VirtualParking.unpark(word, 1) == 0) {
                Futex.wake(word, 1);
            }
        }

        int value() {
            return (int) INT.getVolatile(word, 0L);
        }
    }

    /**
     * One try: a result >= 0 when the caller can proceed, negative when not yet:
     * {@link #failedOn}, {@link #RETRY}, or any other negative value (see {@link #failedOn}).
     */
    @FunctionalInterface
    public interface Attempt {
        long attempt();
    }

    /** What a sleeper looks at now and then, for events nobody will wake it for. */
    public interface Watch {
        /**
         * How long the waiter may sleep before {@link #check} is due, given the word's value
         * ({@code Long.MAX_VALUE}: never).
         */
        long interval(int word);

        /** Looks; true if the waiter should try again at once. May throw to end the wait. */
        boolean check();
    }

    /**
     * Waits until {@code attempt} succeeds, spinning then sleeping on {@code site}.
     *
     * @param start when the timeout began ({@link System#nanoTime()})
     * @param timeoutNanos negative: none; 0: one attempt only
     * @param interruptible whether an interrupt ends the wait (the status is then cleared)
     * @param watch what to look at while asleep, or null
     * @return the attempt's result, {@link #TIMED_OUT} or {@link #INTERRUPTED}
     */
    public static long await(Site site, Attempt attempt, long start, long timeoutNanos,
            boolean interruptible, Watch watch) {
        long r = attempt.attempt();
        if (r >= 0 || timeoutNanos == 0) {
            return r >= 0 ? r : TIMED_OUT;
        }
        long spin = timeoutNanos < 0 ? SPIN_NANOS : Math.min(SPIN_NANOS, timeoutNanos);
        long spun;
        while ((spun = System.nanoTime() - start) < spin) {
            pause(spun);
            r = attempt.attempt();
            if (r >= 0) {
                return r;
            }
        }
        return sleep(site, attempt, start, timeoutNanos, interruptible, watch);
    }

    private static long sleep(Site site, Attempt attempt, long start, long timeoutNanos,
            boolean interruptible, Watch watch) {
        boolean virtual = Thread.currentThread().isVirtual();
        int ignored = (int) INT.getAndAdd(site.sleepers(), 0L, 1);
        boolean woken = false;
        boolean interruptedMeanwhile = false;
        long lastCheck = System.nanoTime();
        try {
            while (true) {
                int w = site.value();
                long r = attempt.attempt();
                if (r >= 0) {
                    woken = false;
                    return r;
                }
                if (r == RETRY) {
                    continue;
                }
                if (isFailedOn(r)) {
                    w = (int) r;
                }
                long now = System.nanoTime();
                long slice = timeoutNanos < 0 ? Long.MAX_VALUE : timeoutNanos - (now - start);
                if (slice <= 0) {
                    return TIMED_OUT;
                }
                if (watch != null) {
                    long interval = watch.interval(w);
                    if (interval != Long.MAX_VALUE) {
                        if (now - lastCheck >= interval) {
                            lastCheck = now;
                            if (watch.check()) {
                                continue;
                            }
                        }
                        slice = Math.min(slice, Math.max(1, interval - (now - lastCheck)));
                    }
                }
                slice = Math.min(slice, interruptible && !virtual && !Futex.waitvAvailable()
                        ? Math.min(INTERRUPT_CHECK_NANOS, RECHECK_NANOS) : RECHECK_NANOS);
                if (virtual) {
                    woken = exiting ? parkExiting(slice)
                            : VirtualParking.park(site.word(), w, slice);
                    // park() returns at once while the interrupt status is set: an uninterruptible
                    // wait clears it, and sets it again when it ends.
                    if (Thread.interrupted()) {
                        if (interruptible) {
                            return INTERRUPTED;
                        }
                        interruptedMeanwhile = true;
                    }
                    continue;
                }
                woken = sleepInKernel(site.word(), w, slice, interruptible);
                if (woken && WOKEN_STALL_MILLIS > 0) {
                    stall();
                }
                if (interruptible && Thread.interrupted()) {
                    return INTERRUPTED;
                }
            }
        } finally {
            if (woken && (int) INT.getVolatile(site.sleepers(), 0L) > 1) {
                site.passOn(); // see "Hand-off" above
            }
            ignored = (int) INT.getAndAdd(site.sleepers(), 0L, -1);
            if (interruptedMeanwhile) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * FUTEX_WAIT for a platform thread, known to {@link #quiesce}, and woken by an interrupt
     * when {@code interruptible} (see "Interrupts"); true if woken.
     */
    private static boolean sleepInKernel(MemorySegment word, int value, long nanos,
            boolean interruptible) {
        if (!interruptible) {
            return sleepInKernel(word, value, nanos, null);
        }
        InterruptWord own = Futex.waitvAvailable() ? InterruptWord.MINE.get() : null;
        InterruptWake wake = own != null ? new InterruptWake(own)
                : new InterruptWake(() -> Futex.wake(word, Integer.MAX_VALUE));
        if (own != null) {
            own.clear();
        }
        wake.arm();
        try {
            // An interrupt before arm() is seen here (arm() closes at once, and the interrupt
            // set the status before); one after it wakes the sleep below or, with a word of our
            // own, changes that word before the kernel compares it (see "Interrupts").
            if (Thread.currentThread().isInterrupted()) {
                return false;
            }
            if (BEFORE_SLEEP_STALL_MILLIS > 0) {
                stallKeepingInterrupt(BEFORE_SLEEP_STALL_MILLIS);
            }
            return sleepInKernel(word, value, nanos, own);
        } finally {
            wake.disarm();
        }
    }

    /**
     * FUTEX_WAIT for a platform thread, known to {@link #quiesce}; with {@code own}, also
     * woken by this thread's interrupt (futex_waitv); true if woken on {@code word}.
     */
    private static boolean sleepInKernel(MemorySegment word, int value, long nanos,
            InterruptWord own) {
        Thread me = Thread.currentThread();
        if (exitReadFd == -2) {
            exitReadFd(); // registers the exit stage before the first sleep in the kernel
        }
        if (exiting) {
            // Not registered: the exit stage waits until none is left in IN_FUTEX, which a
            // thread registered for each of its slices would rarely let it see.
            return parkExiting(nanos);
        }
        IN_FUTEX.put(me, word);
        try {
            if (exiting) {
                return parkExiting(nanos);
            }
            return own != null ? own.sleep(word, value, nanos)
                    : Futex.await(word, value, nanos) == Futex.WOKEN;
        } finally {
            IN_FUTEX.remove(me);
        }
    }

    /**
     * A platform thread's own futex word, which its interrupt sets and wakes while it sleeps
     * interruptibly, with the futex_waitv entries and deadline of that sleep (see
     * "Interrupts"): made once per thread, in memory of its own.
     */
    private static final class InterruptWord implements InterruptWake.Wake {
        static final ThreadLocal<InterruptWord> MINE = ThreadLocal.withInitial(InterruptWord::new);

        private final MemorySegment word;
        private final MemorySegment entries;
        private final MemorySegment deadline;

        private InterruptWord() {
            Arena arena = Arena.ofAuto();
            word = arena.allocate(JAVA_INT);
            entries = arena.allocate(Futex.WAITV_ENTRY, 2);
            deadline = Futex.newTimespec(arena);
        }

        /** Before the look at the interrupt status: an interrupt from then on sets it. */
        void clear() {
            INT.setVolatile(word, 0L, 0);
        }

        /** The interrupt's part, on the interrupting thread, after it has set the status. */
        @Override
        public void wake() {
            INT.setVolatile(word, 0L, 1);
            Futex.wake(word, 1);
        }

        /**
         * Sleeps while {@code shared} holds {@code value} and no interrupt came; true if it may
         * have been woken on {@code shared}: when woken on both words, futex_waitv names the
         * last of them (the kernel's futex_unqueue_multiple), so a wake-up of the shared word
         * that came with the interrupt's (a lock released, then its waiters interrupted) reads
         * as the interrupt's alone. Counted as woken there too, the sleeper passes a wake-up
         * on as it leaves: needless at worst, a look for the one woken; lost, it left a free
         * lock's other waiter asleep until its next recheck, a second later
         * ({@code WakeUpHandOffTest}).
         */
        boolean sleep(MemorySegment shared, int value, long nanos) {
            Futex.setWaitvEntry(entries, 0, shared, value);
            Futex.setWaitvEntry(entries, 1, word, 0);
            long deadlineNanos = nanos < 0 || nanos == Long.MAX_VALUE ? Long.MAX_VALUE
                    : System.nanoTime() + nanos;
            int r = Futex.waitv(entries, 2, deadlineNanos, deadline);
            if (r == Futex.WAITV_FAULT) {
                // As FUTEX_WAIT's EFAULT: the word is outside a mapping, a bug of the caller.
                throw new IllegalStateException("futex_waitv: the word is no longer mapped");
            }
            return r == 0 || r == 1;
        }
    }

    /**
     * What an interrupt of a thread asleep on {@code word} closes (see "Interrupts"): the
     * JDK's hook for interruptible I/O, which {@link Thread#interrupt} calls after it has set
     * the status, on the interrupting thread. One per sleep: a closed channel stays closed.
     */
    private static final class InterruptWake
            extends java.nio.channels.spi.AbstractInterruptibleChannel {
        /** What wakes the sleep: a FUTEX_WAKE, or a write to an eventfd it polls. */
        private final Wake action;

        @FunctionalInterface
        interface Wake {
            void wake() throws ErrnoException;
        }

        InterruptWake(Wake action) {
            this.action = action;
        }

        /** From here until {@link #disarm}, an interrupt of this thread closes this. */
        void arm() {
            begin();
        }

        void disarm() {
            try {
                end(true);
            } catch (java.nio.channels.AsynchronousCloseException interrupted) {
                // Closed by the interrupt: its status stays set, and the sleeper looks at it.
            }
        }

        @Override
        protected void implCloseChannel() {
            try {
                action.wake();
            } catch (ErrnoException | RuntimeException | Error e) {
                // Not thrown into Thread.interrupt(): the sleeper sees the status at its next
                // look, as before this hook.
            }
        }
    }

    /** A sleep once the JVM exits: a slice in Java, where the exit does not wait for it. */
    private static boolean parkExiting(long nanos) {
        LockSupport.parkNanos(Math.min(nanos, EXIT_SLICE_NANOS));
        return false;
    }

    /** Whether the JVM exits (see "Exit"): waits no longer enter the kernel. */
    static boolean exiting() {
        return exiting;
    }

    /**
     * The read end of the exit pipe, which every platform poll here includes (-1 if it cannot
     * be made: then an exit may wait for a poll); made, and the exit stage registered, at the
     * first wait.
     */
    static int exitReadFd() {
        int fd = exitReadFd;
        if (fd != -2) {
            return fd;
        }
        synchronized (Parker.class) {
            if (exitReadFd == -2) {
                int made = -1;
                // Not registered once the exit has begun (a program's shutdown hook, or a
                // daemon thread whose first wait comes as its JVM ends, is the first to wait):
                // then no pipe either, as nothing would close it, and no stage would bring a
                // wait out of the kernel, which HotSpot's exit would wait 300 ms for (a pool's
                // worker whose parent watcher began its first wait as the worker ended took
                // that much longer to exit, 1 start in 14): waits take the exit's way at once.
                if (!AtExit.register(AtExit.Stage.WAITS, Parker::quiesce)) {
                    exiting = true;
                } else {
                    try {
                        int[] pipe = Posix.pipe(Posix.O_CLOEXEC);
                        made = pipe[0];
                        exitWriteFd = pipe[1];
                    } catch (ErrnoException e) {
                        // Out of descriptors: waits go on without it, an exit may wait for one.
                    }
                }
                exitReadFd = made;
            }
            return exitReadFd;
        }
    }

    /**
     * The last stage of this JVM's exit: brings every wait of the library out of the kernel
     * and keeps it out (see "Exit").
     *
     * @return false if some wait had not left the kernel by the stage's deadline
     */
    static boolean quiesce() {
        exiting = true;
        synchronized (Parker.class) {
            if (exitWriteFd >= 0) {
                Posix.closeQuietly(exitWriteFd); // every poll with the read end returns
                exitWriteFd = -1;
            }
        }
        FdPoller.quiesce();
        long deadline = System.nanoTime() + 200_000_000L;
        while (true) {
            for (MemorySegment word : IN_FUTEX.values()) {
                try {
                    Futex.wake(word, Integer.MAX_VALUE);
                } catch (RuntimeException e) {
                    // Its memory is gone: its sleeper wakes at its next slice.
                }
            }
            boolean watchers = Watcher.wakeForExit();
            if (IN_FUTEX.isEmpty() && !watchers) {
                return true;
            }
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(100_000);
        }
    }

    /** Stalls without ending at an interrupt, which it keeps for after the stall. */
    private static void stallKeepingInterrupt(long millis) {
        long end = System.nanoTime() + millis * 1_000_000;
        boolean interrupted = false;
        for (long left; (left = end - System.nanoTime()) > 0; ) {
            if (Thread.interrupted()) {
                interrupted = true; // parkNanos would return at once while it is set
            } else {
                LockSupport.parkNanos(left);
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void stall() {
        try {
            Thread.sleep(WOKEN_STALL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * How long one wait of a loop that waits interruptibly for a descriptor sleeps, given what
     * is left of its time ({@code Long.MAX_VALUE}: no limit). An interrupt ends such a wait
     * anyway ("Interrupts" above): slices of {@link #RECHECK_MILLIS} matter only to a thread
     * whose interrupt cannot be hooked (out of descriptors). At least 1 ms: a shorter slice of
     * an unbounded wait would make a busy loop that takes a core from the very process waited
     * for.
     */
    public static long slice(long leftNanos) {
        return Math.min(RECHECK_NANOS, Math.max(1_000_000L, leftNanos));
    }

    /**
     * Waits up to {@code timeoutNanos} (negative: no limit) for {@code fd} to have one of
     * {@code events}: poll(2) for a platform thread, a park while the {@link FdPoller} watches it
     * for a virtual thread. Returns its revents (POLLHUP, POLLERR and POLLNVAL count as
     * ready), 0 when the time ran out, or early: a platform thread's poll that a signal ended, or
     * (when {@code interruptible}) an interrupt, whose status is kept. Callers loop on their own
     * condition and deadline.
     */
    public static int awaitFd(int fd, int events, long timeoutNanos, boolean interruptible)
            throws ErrnoException {
        if (!Thread.currentThread().isVirtual() && !interruptible) {
            int exitFd = exiting ? -1 : exitReadFd();
            if (exitFd < 0) {
                return exiting ? awaitFdsExiting(new int[] {fd}, new short[] {(short) events},
                        timeoutNanos, interruptible)[0] & 0xffff
                        : Posix.pollOne(fd, events, pollMillis(timeoutNanos));
            }
            long start = System.nanoTime();
            int r = Posix.pollTwo(fd, events, exitFd, pollMillis(timeoutNanos));
            if ((r & 0xffff) != 0 || (r >>> 16) == 0) {
                return r & 0xffff;
            }
            long left = timeoutNanos < 0 ? -1
                    : Math.max(0, timeoutNanos - (System.nanoTime() - start));
            return awaitFdsExiting(new int[] {fd}, new short[] {(short) events}, left,
                    interruptible)[0] & 0xffff;
        }
        return awaitFds(new int[] {fd}, new short[] {(short) events}, timeoutNanos,
                interruptible)[0] & 0xffff;
    }

    /** As {@link #awaitFd} for several descriptors: each one's revents, all 0 if none is ready. */
    public static short[] awaitFds(int[] fds, short[] events, long timeoutNanos,
            boolean interruptible) throws ErrnoException {
        long start = System.nanoTime();
        if (!Thread.currentThread().isVirtual()) {
            int exitFd = exiting ? -1 : exitReadFd();
            if (exitFd < 0 && exiting) {
                return awaitFdsExiting(fds, events, timeoutNanos, interruptible);
            }
            // The interrupt's eventfd (see "Interrupts"): unlike a futex word it stays readable,
            // so an interrupt just before the poll ends it too. None if it cannot be made (out
            // of descriptors): the callers' slices see the interrupt then.
            int wakeFd = interruptible ? interruptFd() : -1;
            InterruptWake wake = wakeFd < 0 ? null
                    : new InterruptWake(() -> Posix.signalEventFd(wakeFd));
            try {
                if (wake != null) {
                    wake.arm();
                    if (Thread.currentThread().isInterrupted()) {
                        return new short[fds.length];
                    }
                }
                int extra = (exitFd < 0 ? 0 : 1) + (wakeFd < 0 ? 0 : 1);
                int[] all = Arrays.copyOf(fds, fds.length + extra);
                short[] allEvents = Arrays.copyOf(events, events.length + extra);
                int exitAt = -1;
                int i = fds.length;
                if (exitFd >= 0) {
                    exitAt = i;
                    all[i] = exitFd;
                    allEvents[i++] = (short) Posix.POLLIN;
                }
                if (wakeFd >= 0) {
                    all[i] = wakeFd;
                    allEvents[i] = (short) Posix.POLLIN;
                }
                short[] revents = Posix.poll(all, allEvents, pollMillis(timeoutNanos));
                short[] mine = Arrays.copyOf(revents, fds.length);
                if (anyReady(mine) || exitAt < 0 || revents[exitAt] == 0) {
                    return mine; // ready, timed out, or interrupted (its status says)
                }
            } finally {
                if (wake != null) {
                    wake.disarm(); // no interrupt writes to the eventfd from here on
                    Posix.closeQuietly(wakeFd);
                }
            }
            long left = timeoutNanos < 0 ? -1
                    : Math.max(0, timeoutNanos - (System.nanoTime() - start));
            return awaitFdsExiting(fds, events, left, interruptible);
        }
        boolean interruptedMeanwhile = false;
        try {
            while (true) {
                short[] revents = Posix.poll(fds, events, 0);
                long left = timeoutNanos < 0 ? -1 : timeoutNanos - (System.nanoTime() - start);
                if (anyReady(revents) || (timeoutNanos >= 0 && left <= 0)) {
                    return revents;
                }
                if (exiting) {
                    return awaitFdsExiting(fds, events, left, interruptible);
                }
                if (!FdPoller.get().park(fds, events, left)) {
                    return Posix.poll(fds, events, 0); // not watchable (closed): poll says so
                }
                if (Thread.interrupted()) { // as in sleep(): park() returns at once while set
                    if (interruptible) {
                        Thread.currentThread().interrupt();
                        return Posix.poll(fds, events, 0);
                    }
                    interruptedMeanwhile = true;
                }
            }
        } finally {
            if (interruptedMeanwhile) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * As {@link #awaitFds} once the JVM exits: looks every {@value #EXIT_SLICE_MICROS} us from
     * Java (see "Exit"), until a descriptor is ready, the time runs out or (when
     * {@code interruptible}) an interrupt, whose status is kept.
     */
    private static short[] awaitFdsExiting(int[] fds, short[] events, long timeoutNanos,
            boolean interruptible) throws ErrnoException {
        long start = System.nanoTime();
        while (true) {
            short[] revents = Posix.poll(fds, events, 0);
            long left = timeoutNanos < 0 ? Long.MAX_VALUE
                    : timeoutNanos - (System.nanoTime() - start);
            if (anyReady(revents) || left <= 0
                    || (interruptible && Thread.currentThread().isInterrupted())) {
                return revents;
            }
            LockSupport.parkNanos(Math.min(left, EXIT_SLICE_NANOS));
        }
    }

    /** A new eventfd for an interrupt to signal, or -1 if none can be made. */
    private static int interruptFd() {
        try {
            return Posix.eventFd();
        } catch (ErrnoException e) {
            return -1;
        }
    }

    private static boolean anyReady(short[] revents) {
        for (short r : revents) {
            if (r != 0) {
                return true;
            }
        }
        return false;
    }

    /** poll(2)'s timeout for {@code nanos}: rounded up, negative for none. */
    private static int pollMillis(long nanos) {
        if (nanos < 0) {
            return -1;
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.ceilDiv(nanos, 1_000_000L));
    }

    /**
     * One step of a spin that has lasted {@code spunNanos}: a CPU pause at first, then a yield
     * of the processor, so that a partner queued on the same CPU runs at once (sched_yield costs
     * well under a microsecond when nothing else wants the CPU).
     */
    public static void pause(long spunNanos) {
        if (spunNanos < PURE_SPIN_NANOS) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }
}
