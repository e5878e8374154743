package multiprocessing.internal.heap;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.SharedMemoryCalls;
import multiprocessing.internal.shm.ShmObject;
import multiprocessing.internal.util.AtExit;

/**
 * Small pieces of shared memory carved out of a few large shared-memory arenas (CPython's
 * {@code multiprocessing.heap}): a lock word or a small value costs 16 bytes of an arena, not a
 * shared-memory object of its own, so a process can have hundreds of thousands of them.
 *
 * <p>Usage: {@code Block b = Heap.allocate(8, 8); b.segment()...; b.free();} A {@link Block}
 * travels to other processes inside whatever object holds it.
 *
 * <p>Implementation note: free space is kept as spans {@code [start, stop)} of arenas, in a
 * tree ordered by size (then arena, then start), so an allocation takes the smallest span that
 * fits (best fit, as CPython does with its sorted size list), and in two hash maps per arena
 * keyed by a span's start and by its stop, so a freed block merges with its free neighbours in
 * constant time. Every block starts on a 16-byte boundary and its size is rounded up to 16
 * bytes; a larger alignment takes a span big enough for the worst-case padding and gives the
 * head and tail back. Arenas start at 1 MiB and double up to 64 MiB as the heap grows; a
 * request of 256 KiB or more gets an arena of its own, unlinked and unmapped when freed, so
 * that big buffers never fragment the small-object arenas. Arenas other than those are never
 * given back while the process runs: their pages are reused by later blocks.
 *
 * <p>Arenas are created by the process that allocates, mapped by others on first use of a
 * block in them (once per process), registered with the resource tracker by their creator,
 * and unlinked by their creator when it exits normally (the tracker does it if it does not).
 * A process that receives a block after the arena's creator has exited cannot map it.
 *
 * <p>A block becomes free when its owner calls {@link Block#free()} or, if it was never sent
 * to another process, when it becomes unreachable in its owner (a Cleaner). A sent small block
 * stays taken until freed explicitly or the owner exits ({@link Freer}): its space would be
 * reused, zeroed, under a receiver still using it.
 *
 * <p>A sent dedicated block (a queue's ring, a big array) is reclaimed once nobody holds it.
 * Its arena's first page ({@link ArenaHeader}) counts its holders: each message that carries it
 * adds one when serialized; the first view of it a process rebuilds keeps that one (the
 * process now holds it) and any further view gives it back; when the last view of a process is
 * collected (a Cleaner) the process gives its one back and unmaps the arena. The owner, once
 * its own block is unreachable, frees the arena when the count is zero: at once, or at a later
 * allocation of a dedicated block (a sweep). Freeing a dedicated arena unlinks its name and
 * unmaps it here; its memory is never handed out again, so a miscount can at worst make a
 * late receiver unable to map it, never change memory under a holder. Counts of processes that
 * died holding a view, and of messages never received, are not given back: such an arena
 * stays until its owner exits. So that dropped blocks are found without waiting for a GC that
 * the Java heap alone would not start, a process whose dedicated arenas (created, or mapped
 * as received) pass a threshold ({@code -Dmultiprocessing.heap.gcThresholdBytes}, 256 MiB)
 * asks for a GC, and again after each half of it more, as the JDK does for direct buffers.
 *
 * <p>Thread-safe: one lock guards the free lists; the Cleaner's thread frees through it too.
 */
public final class Heap {
    static final Cleaner CLEANER = Cleaner.create();

    /** The alignment every block has at least, and the granule sizes are rounded to. */
    public static final long MIN_ALIGNMENT = 16;
    /** The largest alignment that can be asked for (arenas are mapped page-aligned). */
    public static final long MAX_ALIGNMENT = 4096;

    static final long FIRST_ARENA_SIZE = 1L << 20;
    static final long MAX_ARENA_SIZE = 64L << 20;
    static final long DEDICATED_THRESHOLD = 256L << 10;
    private static final long PAGE = 4096;
    /** Heap arenas' names start with this (after the "/"), which tells them apart in /dev/shm. */
    public static final String NAME_PREFIX = "mph_";
    /**
     * A dedicated arena's name: "x" is no hex digit, so no other arena's name starts so. A
     * receiver tells a dedicated arena (with its {@link ArenaHeader}) by its name, not by
     * anything a message or the arena's bytes say.
     */
    private static final String DEDICATED_PREFIX = "/" + NAME_PREFIX + "x";

    private static final class Holder {
        static final Heap HEAP = new Heap();
    }

    /** This process's heap. */
    static Heap instance() {
        return Holder.HEAP;
    }

    /**
     * Allocates {@code size} zeroed bytes aligned to {@code alignment} (a power of two up to
     * 4096; smaller alignments give 16) in shared memory.
     *
     * @throws IllegalArgumentException for a size below 1 or a bad alignment
     * @throws IllegalStateException when the operating system refuses a new arena
     */
    public static Block allocate(long size, long alignment) {
        return instance().malloc(size, alignment);
    }

    /** Allocates {@code size} bytes aligned to 16. */
    public static Block allocate(long size) {
        return instance().malloc(size, MIN_ALIGNMENT);
    }

    /** An arena as this process sees it: its name, its mapping, and whether it created it. */
    static final class LocalArena {
        private final String name;
        private final long size;
        private final MemorySegment segment;
        private final ShmObject shm;
        private final boolean owned;
        private final boolean dedicated;
        final int id;
        /** Views of the (dedicated) block this process holds as a receiver; under the lock. */
        int views;
        final Map<Long, Span> freeByStart = new HashMap<>();
        final Map<Long, Span> freeByStop = new HashMap<>();

        LocalArena(ShmObject shm, boolean owned, boolean dedicated, int id) {
            this.name = shm == null ? null : shm.name();
            this.size = shm == null ? 0 : shm.size();
            this.segment = shm == null ? null : shm.segment();
            this.shm = shm;
            this.owned = owned;
            this.dedicated = dedicated;
            this.id = id;
        }

        String name() {
            return name;
        }

        boolean dedicated() {
            return dedicated;
        }

        long size() {
            return size;
        }

        MemorySegment segment() {
            return segment;
        }
    }

    record Span(LocalArena arena, long start, long stop) {
        long size() {
            return stop - start;
        }
    }

    private static final Comparator<Span> BY_SIZE = Comparator.comparingLong(Span::size)
            .thenComparingInt(s -> s.arena().id).thenComparingLong(Span::start);

    /** Orders before every real arena: a probe of size n finds the smallest span >= n. */
    private static final LocalArena PROBE =
            new LocalArena(null, false, false, Integer.MIN_VALUE);

    private final ReentrantLock lock = new ReentrantLock();
    private final TreeSet<Span> free = new TreeSet<>(BY_SIZE);
    /** Every arena this process has mapped, its own and others', by name. */
    private final Map<String, LocalArena> arenas = new ConcurrentHashMap<>();
    private final List<LocalArena> owned = new ArrayList<>();
    /** Unreachable sent dedicated blocks, freed when nobody holds them any more. */
    private final List<Freer> deferred = new ArrayList<>();
    private static final long GC_THRESHOLD_MIN =
            Long.getLong("multiprocessing.heap.gcThresholdBytes", 256L << 20);
    /** Bytes of dedicated arenas created or mapped here and not yet let go of. */
    private final java.util.concurrent.atomic.AtomicLong dedicatedBytes =
            new java.util.concurrent.atomic.AtomicLong();
    /** Bytes of dedicated arenas created or mapped here since the last GC this heap asked for. */
    private final java.util.concurrent.atomic.AtomicLong sinceGc =
            new java.util.concurrent.atomic.AtomicLong();
    private long nextArenaSize = FIRST_ARENA_SIZE;
    private int nextId;
    private boolean hookInstalled;

    /** One per process ({@link #instance()}); tests make private ones to see the free lists alone. */
    Heap() {}

    Block malloc(long size, long alignment) {
        if (size < 1) {
            throw new IllegalArgumentException("size must be positive: " + size);
        }
        if (alignment < 1 || Long.bitCount(alignment) != 1 || alignment > MAX_ALIGNMENT) {
            throw new IllegalArgumentException(
                    "alignment must be a power of two up to " + MAX_ALIGNMENT + ": " + alignment);
        }
        long align = Math.max(alignment, MIN_ALIGNMENT);
        long rounded = roundUp(size, MIN_ALIGNMENT);
        if (rounded >= DEDICATED_THRESHOLD) {
            collectIfDue(roundUp(rounded, PAGE) + ArenaHeader.BYTES);
        }
        lock.lock();
        try {
            if (rounded >= DEDICATED_THRESHOLD) {
                sweep();
                LocalArena arena = newArena(roundUp(rounded, PAGE) + ArenaHeader.BYTES, true);
                dedicatedBytes.addAndGet(arena.size());
                long start = ArenaHeader.BYTES;
                return new Block(arena, start, size,
                        new Freer(this, arena, start, arena.size() - start));
            }
            long need = rounded + (align - MIN_ALIGNMENT);
            Span span = free.ceiling(new Span(PROBE, 0, need));
            boolean reused = span != null;
            if (span == null) {
                long arenaSize = Math.max(nextArenaSize, roundUp(need, PAGE));
                nextArenaSize = Math.min(nextArenaSize * 2, MAX_ARENA_SIZE);
                LocalArena arena = newArena(arenaSize, false);
                span = new Span(arena, 0, arenaSize);
            } else {
                removeFree(span);
            }
            long start = roundUp(span.start(), align);
            long stop = start + rounded;
            if (start > span.start()) {
                addFree(new Span(span.arena(), span.start(), start));
            }
            if (stop < span.stop()) {
                addFree(new Span(span.arena(), stop, span.stop()));
            }
            Block block = new Block(span.arena(), start, size,
                    new Freer(this, span.arena(), start, rounded));
            if (reused) {
                // A new arena is zero (fresh pages); reused space still holds a freed block's bytes.
                block.segment().fill((byte) 0);
            }
            return block;
        } finally {
            lock.unlock();
        }
    }

    /** Returns the span a block held; merges it with free neighbours. */
    void release(LocalArena arena, long start, long length) {
        lock.lock();
        try {
            if (arena.dedicated) {
                dedicatedBytes.addAndGet(-arena.size());
                discard(arena);
                return;
            }
            long stop = start + length;
            Span before = arena.freeByStop.get(start);
            if (before != null) {
                removeFree(before);
                start = before.start();
            }
            Span after = arena.freeByStart.get(stop);
            if (after != null) {
                removeFree(after);
                stop = after.stop();
            }
            addFree(new Span(arena, start, stop));
        } finally {
            lock.unlock();
        }
    }

    private void addFree(Span span) {
        free.add(span);
        span.arena().freeByStart.put(span.start(), span);
        span.arena().freeByStop.put(span.stop(), span);
    }

    private void removeFree(Span span) {
        free.remove(span);
        span.arena().freeByStart.remove(span.start());
        span.arena().freeByStop.remove(span.stop());
    }

    /**
     * A block another process allocated: maps its arena here on first use. A dedicated block
     * is a view whose holder count this process takes over from the message;
     * the arena is unmapped when the last view here is collected.
     */
    Block received(String name, long arenaSize, long offset, long size) {
        boolean counted = name.startsWith(DEDICATED_PREFIX);
        LocalArena arena;
        boolean fresh = false;
        lock.lock();
        try {
            arena = arenas.get(name);
            if (arena == null) {
                arena = attach(name, arenaSize, counted);
                arenas.put(name, arena);
                fresh = true;
            }
            // Written so that no sum overflows: the numbers come from a message.
            if (offset < 0 || size < 1 || offset > arena.size() || size > arena.size() - offset) {
                if (fresh) {
                    arenas.remove(name);
                    arena.shm.close();
                }
                throw new IllegalStateException("block [" + offset + ", +" + size
                        + ") lies outside arena " + name + " of " + arena.size() + " bytes");
            }
            if (!counted || !arena.dedicated) {
                return new Block(arena, offset, size, null);
            }
            if (arena.views++ > 0) {
                ArenaHeader.addHolders(arena.segment(), -1); // this process is counted already
            }
        } finally {
            lock.unlock();
        }
        if (fresh && !arena.owned) {
            collectIfDue(arena.size());
            dedicatedBytes.addAndGet(arena.size());
        }
        Block view = new Block(arena, offset, size, null);
        Heap.CLEANER.register(view, new ViewDropper(this, arena));
        return view;
    }

    /** The last view of a received dedicated block here is gone: gives its count back. */
    private void dropView(LocalArena arena) {
        lock.lock();
        try {
            if (--arena.views > 0) {
                return;
            }
            ArenaHeader.addHolders(arena.segment(), -1);
            if (!arena.owned) {
                arenas.remove(arena.name());
                dedicatedBytes.addAndGet(-arena.size());
                arena.shm.close();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Holds no reference to the view, so the Cleaner can run it. */
    private record ViewDropper(Heap heap, LocalArena arena) implements Runnable {
        @Override
        public void run() {
            heap.dropView(arena);
        }
    }

    /** A message carries a dedicated block: counted as a holder until a process receives it. */
    static void sending(LocalArena arena) {
        if (arena.dedicated) {
            ArenaHeader.addHolders(arena.segment(), 1);
        }
    }

    /** The owner dropped a sent dedicated block: freed now if nobody holds it, else later. */
    void defer(Freer freer) {
        lock.lock();
        try {
            deferred.add(freer);
            sweep();
        } finally {
            lock.unlock();
        }
    }

    /** Frees the deferred blocks nobody holds any more (under the lock). */
    private void sweep() {
        for (java.util.Iterator<Freer> it = deferred.iterator(); it.hasNext(); ) {
            Freer f = it.next();
            if (ArenaHeader.holders(f.arena.segment()) <= 0) {
                it.remove();
                release(f.arena, f.start, f.length);
            }
        }
    }

    /**
     * Asks for a GC when the dedicated arenas of this process pass the threshold, and then again
     * each time half of it more has been created or mapped: the blocks dropped here (and the
     * views dropped by receivers, which do the same) are found only by a GC, which a Java heap
     * that holds little would not start by itself. Not at every allocation past the threshold:
     * what the GC finds is freed later (the Cleaner's thread, a receiver's own GC), so the
     * bytes still counted right after one say little.
     */
    private void collectIfDue(long more) {
        long since = sinceGc.addAndGet(more);
        if (dedicatedBytes.get() + more <= GC_THRESHOLD_MIN || since < GC_THRESHOLD_MIN / 2) {
            return;
        }
        sinceGc.set(0);
        System.gc();
        try {
            Thread.sleep(20); // lets the Cleaner's thread run what the GC found
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lock.lock();
        try {
            sweep();
        } finally {
            lock.unlock();
        }
    }

    private LocalArena attach(String name, long expectedSize, boolean dedicated) {
        try {
            return new LocalArena(ShmObject.attach(name, expectedSize, "heap arena " + name),
                    false, dedicated, -1);
        } catch (ErrnoException e) {
            throw new IllegalStateException("cannot map heap arena " + name
                    + (e.errno() == SharedMemoryCalls.ENOENT
                            ? " (has the process that created it exited?)" : "")
                    + ": " + e.getMessage(), e);
        }
    }

    /** A new arena, its pages reserved (a full /dev/shm fails here, saying so). */
    private LocalArena newArena(long size, boolean dedicated) {
        installHook();
        ShmObject shm;
        try {
            shm = ShmObject.createUnique(dedicated ? DEDICATED_PREFIX : "/" + NAME_PREFIX, size,
                    true);
        } catch (ErrnoException e) {
            throw new IllegalStateException("cannot create a heap arena of " + size
                    + " bytes: " + e.getMessage(), e);
        }
        LocalArena arena = new LocalArena(shm, true, dedicated, nextId++);
        arenas.put(arena.name(), arena);
        owned.add(arena);
        return arena;
    }

    private void discard(LocalArena arena) {
        owned.remove(arena);
        arenas.remove(arena.name());
        unlinkQuietly(arena.name());
        arena.shm.close();
    }

    private static void unlinkQuietly(String name) {
        ShmObject.unlinkQuietly(name);
    }

    /**
     * A normal exit unlinks this process's arenas once the non-daemonic children have been
     * joined (a child that starts after {@code main} returned still maps them); memory mapped
     * by processes still running stays valid for them (only new attachments fail).
     */
    private void installHook() {
        if (hookInstalled) {
            return;
        }
        hookInstalled = true;
        AtExit.register(AtExit.Stage.RELEASE, this::unlinkArenas);
    }

    /** Unlinks every arena this heap created (at exit; a test's private heap when done). */
    void unlinkArenas() {
        List<LocalArena> mine;
        lock.lock();
        try {
            mine = List.copyOf(owned);
            owned.clear();
        } finally {
            lock.unlock();
        }
        for (LocalArena arena : mine) {
            unlinkQuietly(arena.name());
        }
    }

    /** For tests: what waits to be reclaimed and what counts toward the next GC. */
    String reclaimState() {
        lock.lock();
        try {
            StringBuilder holders = new StringBuilder();
            for (Freer f : deferred.subList(0, Math.min(5, deferred.size()))) {
                holders.append(ArenaHeader.holders(f.arena.segment())).append(' ');
            }
            return "deferred " + deferred.size() + " (holders " + holders + "), dedicated bytes "
                    + dedicatedBytes.get() + ", since the last GC " + sinceGc.get();
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@code offset} of this process's arena {@code name} lies in free space. */
    boolean isFree(String name, long offset) {
        lock.lock();
        try {
            LocalArena arena = arenas.get(name);
            if (arena == null) {
                return false;
            }
            for (Span span : arena.freeByStart.values()) {
                if (span.start() <= offset && offset < span.stop()) {
                    return true;
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Names of the arenas this process created and still has (for tests and diagnostics). */
    public static List<String> ownedArenaNames() {
        Heap heap = instance();
        heap.lock.lock();
        try {
            return heap.owned.stream().map(LocalArena::name).toList();
        } finally {
            heap.lock.unlock();
        }
    }

    private static long roundUp(long value, long multiple) {
        return (value + multiple - 1) & -multiple;
    }

    /**
     * Gives a block's space back: when its owner calls {@link Block#free()}, or when the block
     * becomes unreachable, unless it has been sent to another process ({@link #escaped}): that
     * process may be using the memory still, and reusing it (zeroed, for another lock or value)
     * would change its object under it, so such a block's space stays taken until the owner
     * frees it or exits.
     */
    static final class Freer implements Runnable {
        private final Heap heap;
        private final LocalArena arena;
        private final long start;
        private final long length;
        /** Set when the owner serializes the block for another process. */
        volatile boolean escaped;
        /** Set by {@link Block#free()}: the owner says nobody uses the block any more. */
        volatile boolean explicit;

        Freer(Heap heap, LocalArena arena, long start, long length) {
            this.heap = heap;
            this.arena = arena;
            this.start = start;
            this.length = length;
        }

        @Override
        public void run() {
            if (escaped && !explicit) {
                if (arena.dedicated) {
                    heap.defer(this);
                }
                return;
            }
            heap.release(arena, start, length);
        }
    }
}
