package multiprocessing.internal.wait;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import multiprocessing.internal.posix.Epoll;
import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.util.LibraryThreads;

/**
 * Where a virtual thread waits for a descriptor (a connection's pipe or socket, a listener, a
 * child's pidfd, the parent's sentinel) without holding its carrier: one platform thread waits
 * in epoll for every descriptor a parked virtual thread waits on, and unparks its waiters when
 * it is ready, as the JDK's poller does for its own sockets.
 *
 * <h2>Implementation note</h2>
 * A waiter registers with each of its descriptors (a descriptor may have several waiters: each
 * gets the union of their events), arms the descriptor in epoll with EPOLLONESHOT, and parks;
 * the epoll thread, given an event, disarms (one-shot) and unparks every waiter of that
 * descriptor. Each waiter then leaves all its registrations, a descriptor with none left is
 * removed from epoll, and the waiter polls (with no timeout) to see what is ready: a wake-up
 * says only "look again". Arming a descriptor that is ready already reports it at once, so
 * readiness between the caller's last look and the registration is not lost. Registrations
 * live only while someone waits: a descriptor closed and its number reused later cannot meet a
 * stale one.
 */
final class FdPoller {
    private static final int BATCH = 64;

    private static volatile FdPoller instance;
    /**
     * Not a holder class: virtual threads that wait for another thread to initialize a class
     * pin their carriers, while those that wait for a lock park.
     */
    private static final ReentrantLock CREATE = new ReentrantLock();

    static FdPoller get() {
        FdPoller p = instance;
        if (p == null) {
            CREATE.lock();
            try {
                p = instance;
                if (p == null) {
                    instance = p = new FdPoller();
                }
            } finally {
                CREATE.unlock();
            }
        }
        return p;
    }

    /** One parked thread, waiting on one or more descriptors. */
    private static final class Waiter {
        final Thread thread = Thread.currentThread();
    }

    /** The waiters of one descriptor. */
    private static final class Entry {
        final ReentrantLock lock = new ReentrantLock();
        /** Guarded by lock. */
        final List<Waiter> waiters = new ArrayList<>(2);
        /** Events of each waiter, parallel to waiters; guarded by lock. */
        final List<Integer> events = new ArrayList<>(2);
        /** Removed from the map: a waiter that finds it so makes a new entry. Guarded by lock. */
        boolean removed;
    }

    private final int epfd;
    /** The exit pipe's read end, watched too (-1 if there is none). */
    private final int exitFd;
    private final Thread thread;
    private final ConcurrentHashMap<Integer, Entry> entries = new ConcurrentHashMap<>();
    private final ThreadLocal<MemorySegment> scratch =
            ThreadLocal.withInitial(() -> Epoll.events(Arena.ofAuto(), 1));

    private FdPoller() {
        try {
            epfd = Epoll.create();
        } catch (ErrnoException e) {
            throw new IllegalStateException("cannot create the epoll descriptor that virtual"
                    + " threads wait on: " + e.getMessage(), e);
        }
        exitFd = Parker.exitReadFd();
        if (exitFd >= 0) {
            try {
                // Level-triggered: once the JVM exits (the pipe's write end is closed), this
                // thread leaves epoll_wait for good (see Parker's "Exit").
                Epoll.arm(epfd, exitFd, 0, exitFd, scratch.get());
            } catch (ErrnoException e) {
                System.getLogger(FdPoller.class.getName()).log(System.Logger.Level.DEBUG, "cannot watch the exit pipe", e);
            }
        }
        thread = LibraryThreads.platform().daemon().name("multiprocessing-fd-poller")
                .start(this::run);
    }

    /**
     * At exit (see Parker's "Exit"): the poller thread, woken by the exit pipe, unparks every
     * waiter and ends; this waits briefly for it to leave the kernel.
     */
    static void quiesce() {
        FdPoller p = instance;
        if (p != null && p.exitFd >= 0) {
            try {
                p.thread.join(java.time.Duration.ofMillis(200));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Parks the calling virtual thread until one of {@code fds} may have one of its
     * {@code events} (or an error or hang-up), {@code nanos} pass (negative: no limit), an
     * interrupt, or spuriously. The caller then polls to see what is ready.
     *
     * @return false if a descriptor cannot be watched (closed: the caller's poll reports it)
     */
    boolean park(int[] fds, short[] events, long nanos) {
        Waiter w = new Waiter();
        int registered = 0;
        try {
            for (; registered < fds.length; registered++) {
                if (!register(fds[registered], events[registered] & 0xffff, w)) {
                    return false;
                }
            }
            // Registered, then looks: the exit unparks every registered waiter after it set
            // the flag, so a waiter that sees no exit here is unparked if one comes.
            if (Parker.exiting()) {
                return true;
            }
            if (nanos < 0) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, nanos);
            }
            return true;
        } finally {
            for (int i = 0; i < registered; i++) {
                deregister(fds[i], w);
            }
        }
    }

    private boolean register(int fd, int events, Waiter w) {
        while (true) {
            Entry e = entries.computeIfAbsent(fd, k -> new Entry());
            e.lock.lock();
            try {
                if (e.removed) {
                    continue;
                }
                e.waiters.add(w);
                e.events.add(events);
                try {
                    Epoll.arm(epfd, fd, union(e) | Epoll.EPOLLONESHOT, fd, scratch.get());
                } catch (ErrnoException ex) {
                    e.waiters.remove(e.waiters.size() - 1);
                    e.events.remove(e.events.size() - 1);
                    if (e.waiters.isEmpty()) {
                        remove(fd, e);
                    }
                    return false;
                }
                return true;
            } finally {
                e.lock.unlock();
            }
        }
    }

    private static int union(Entry e) {
        int u = 0;
        for (int ev : e.events) {
            u |= ev;
        }
        return u;
    }

    private void deregister(int fd, Waiter w) {
        Entry e = entries.get(fd);
        if (e == null) {
            return;
        }
        e.lock.lock();
        try {
            int i = e.waiters.indexOf(w);
            if (i < 0) {
                return;
            }
            e.waiters.remove(i);
            e.events.remove(i);
            if (e.waiters.isEmpty()) {
                Epoll.disarm(epfd, fd, scratch.get());
                remove(fd, e);
            }
        } finally {
            e.lock.unlock();
        }
    }

    /** Every waiter looks again; from now on they wait without this thread. */
    private void unparkAllForExit() {
        for (Entry e : entries.values()) {
            e.lock.lock();
            try {
                for (Waiter w : e.waiters) {
                    LockSupport.unpark(w.thread);
                }
            } finally {
                e.lock.unlock();
            }
        }
    }

    private void remove(int fd, Entry e) {
        e.removed = true;
        entries.remove(fd, e);
    }

    private void run() {
        MemorySegment ready = Epoll.events(Arena.ofAuto(), BATCH);
        List<Thread> woken = new ArrayList<>();
        while (true) {
            int n;
            try {
                n = Epoll.wait(epfd, ready, BATCH, -1);
            } catch (ErrnoException e) {
                System.getLogger(FdPoller.class.getName()).log(System.Logger.Level.ERROR, "epoll_wait failed; virtual threads waiting"
                        + " on descriptors are no longer woken", e);
                return;
            }
            for (int i = 0; i < n; i++) {
                int fd = (int) Epoll.dataAt(ready, i);
                if (fd == exitFd) {
                    unparkAllForExit();
                    return;
                }
                Entry e = entries.get(fd);
                if (e == null) {
                    continue;
                }
                e.lock.lock();
                try {
                    for (Waiter w : e.waiters) {
                        woken.add(w.thread);
                    }
                } finally {
                    e.lock.unlock();
                }
            }
            for (Thread t : woken) {
                LockSupport.unpark(t);
            }
            woken.clear();
        }
    }
}
