package multiprocessing.internal.heap;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.SharedMemoryCalls;
import multiprocessing.internal.shm.SharedMemoryFullException;
import multiprocessing.internal.shm.ShmObject;
import multiprocessing.internal.util.AtExit;
import multiprocessing.internal.util.LibraryLog;
import multiprocessing.internal.util.LibraryThreads;

/**
 * Small pieces of shared memory carved out of a few large shared-memory arenas (CPython's
 * {@code multiprocessing.heap}): a small value costs 16 bytes of an arena, a lock one 64-byte
 * cache line (and a quarter more, each, for its holder count), not a shared-memory object of
 * its own, so a process can have hundreds of thousands of them.
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
 * head and tail back. Arenas start at 1 MiB and double up to 64 MiB as the heap grows; their
 * first quarter holds the blocks' holder counts ({@link Holders}). A request of 256 KiB or
 * more gets an arena of its own (a dedicated arena: a header page holding its count, then the
 * block), unlinked and unmapped when freed, so that big buffers never fragment the small-object
 * arenas. Arenas other than those are never given back while the process runs: their pages
 * are reused by later blocks.
 *
 * <p>Arenas are created by the process that allocates, mapped by others on first use of a
 * block in them (once per process), registered with the resource tracker by their creator,
 * and unlinked by their creator when it exits normally (the tracker does it if it does not).
 * A process that receives a block after the arena's creator has exited cannot map it, and a
 * process that holds one refuses to send it on then ({@link #sending}: one look at /dev/shm
 * for a block it did not allocate).
 *
 * <p>Reclaiming. A block that was never sent to another process is free when its owner calls
 * {@link Block#free()} or it becomes unreachable in its owner (a Cleaner). A block that was
 * sent, small or dedicated, is free once nobody holds it any more: its holder count
 * ({@link Holders}) counts the owner (from its first send until its own block is unreachable
 * or freed), each process holding a view of it (from the first view it rebuilds until the last
 * one is collected), and each message carrying it that nobody has read yet. A message's count
 * is handed to its first reader through a ticket ({@link Receipts}); a process's hold is
 * written down there too, so the hold of a process that dies (SIGKILL included) is given back
 * by its parent when it reaps it, or by any process whose sweep finds blocks still held (at
 * most every second, less often while it finds nobody dead). The owner frees a sent block when
 * the count is zero: at once if it already is when its own block goes, else at a later sweep
 * (made during allocations, as often as there are blocks waiting, and by a thread of its own
 * while any wait: a quarter of a second after, then less and less often). A block whose count
 * is zero is never counted again (a reader finding its ticket redeemed adds a count of its own
 * only to a block still held), so a miscount can at worst keep a block until its owner exits, never
 * free memory under a holder. Counts that stay: messages never read, and messages whose sender
 * exited before they were read.
 *
 * <p>So that dropped blocks are found without waiting for a GC that the Java heap alone would
 * not start, a process asks for one: when its dedicated arenas (created, or mapped as
 * received) pass a threshold ({@code -Dmultiprocessing.heap.gcThresholdBytes}, 256 MiB), and
 * again after each half of it more, as the JDK does for direct buffers; when it holds views of
 * more than {@code -Dmultiprocessing.heap.gcThresholdViews} (8192) blocks, and again after
 * each half of that more; and, as an owner, before it adds a small arena while a quarter of
 * its small arenas is taken by blocks it has sent.
 *
 * <p>Thread-safe: one lock guards the free lists and the views; the Cleaner's thread frees
 * through it too. Holder counts and receipts change by CAS only, so a dead process's holds are
 * given back without this lock.
 */
public final class Heap {
    /** The alignment every block has at least, and the granule sizes are rounded to. */
    public static final long MIN_ALIGNMENT = 16;
    /** The largest alignment that can be asked for (arenas are mapped page-aligned). */
    public static final long MAX_ALIGNMENT = 4096;

    static final long FIRST_ARENA_SIZE = 1L << 20;
    static final long MAX_ARENA_SIZE = 64L << 20;
    static final long DEDICATED_THRESHOLD = 256L << 10;
    /** The largest block asked for: rounding it up to arena pages does not overflow. */
    static final long MAX_SIZE = 1L << 60;
    private static final long PAGE = 4096;
    /** Where a dedicated arena's block starts: after the header page that holds its count. */
    static final long DEDICATED_START = PAGE;
    /** Heap arenas' names start with this (after the "/"), which tells them apart in /dev/shm. */
    public static final String NAME_PREFIX = "mph_";
    /**
     * A dedicated arena's name: "x" is no hex digit, so no other arena's name starts so. A
     * receiver tells a dedicated arena (with its header page) by its name, not by anything a
     * message or the arena's bytes say.
     */
    private static final String DEDICATED_PREFIX = "/" + NAME_PREFIX + "x";
    /** An arena's key: its 48 random bits, with this bit for a name, and this for a dedicated one. */
    private static final long KEY_MARK = 1L << 62;
    private static final long KEY_DEDICATED = 1L << 61;
    private static final long KEY_BITS = (1L << 48) - 1;

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
     * @throws IllegalArgumentException for a size below 1 or above {@link #MAX_SIZE}, or a bad
     *         alignment
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
        private final long key;
        private final long size;
        private final MemorySegment segment;
        private final ShmObject shm;
        private final boolean owned;
        private final boolean dedicated;
        final int id;
        /** The views this process holds of blocks here, by offset; under the lock. */
        final Map<Long, View> views = new HashMap<>();
        final Map<Long, Span> freeByStart = new HashMap<>();
        final Map<Long, Span> freeByStop = new HashMap<>();

        LocalArena(ShmObject shm, boolean owned, boolean dedicated, int id) {
            this.name = shm == null ? null : shm.name();
            this.key = shm == null ? 0 : arenaKey(shm.name());
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

        long key() {
            return key;
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

    /** This process's views of one block: how many, and the receipt of its hold (or null). */
    private static final class View {
        final int generation;
        final Receipts.Receipt hold;
        int count = 1;

        View(int generation, Receipts.Receipt hold) {
            this.generation = generation;
            this.hold = hold;
        }
    }

    record Span(LocalArena arena, long start, long stop) {
        long size() {
            return stop - start;
        }
    }

    /**
     * Smallest first, then by arena and start. A class, not {@code Comparator}'s combinators:
     * their lambdas are the JDK's, which the AOT cache does not keep, spun in every child that
     * receives a shared block.
     */
    private static final Comparator<Span> BY_SIZE = new BySize();

    private static final class BySize implements Comparator<Span> {
        @Override
        public int compare(Span a, Span b) {
            int c = Long.compare(a.size(), b.size());
            if (c == 0) {
                c = Integer.compare(a.arena().id, b.arena().id);
            }
            return c != 0 ? c : Long.compare(a.start(), b.start());
        }
    }

    /** Orders before every real arena: a probe of size n finds the smallest span >= n. */
    private static final LocalArena PROBE =
            new LocalArena(null, false, false, Integer.MIN_VALUE);

    private final ReentrantLock lock = new ReentrantLock();
    private final TreeSet<Span> free = new TreeSet<>(BY_SIZE);
    /** Every arena this process has mapped, its own and others', by name. */
    private final Map<String, LocalArena> arenas = new ConcurrentHashMap<>();
    private final List<LocalArena> owned = new ArrayList<>();
    /** Sent blocks their owner let go of, freed when nobody holds them any more. */
    private final List<Freer> deferred = new ArrayList<>();
    /** Allocations and deferrals since the last sweep of {@link #deferred}. */
    private int sinceSweep;
    /** Whether a {@link SweepLater} is scheduled (under the lock), and its next delay. */
    private boolean sweepScheduled;
    private long sweepDelayNanos;
    private static final long SWEEP_MIN_NANOS = 250_000_000L;
    private static final long SWEEP_MAX_NANOS = 5_000_000_000L;
    private static final long GC_THRESHOLD_MIN =
            Long.getLong("multiprocessing.heap.gcThresholdBytes", 256L << 20);
    private static final long GC_THRESHOLD_VIEWS =
            Long.getLong("multiprocessing.heap.gcThresholdViews", 8192);
    /** Bytes of dedicated arenas created or mapped here and not yet let go of. */
    private final AtomicLong dedicatedBytes = new AtomicLong();
    /** Bytes of dedicated arenas created or mapped here since the last GC this heap asked for. */
    private final AtomicLong sinceGc = new AtomicLong();
    /** Views of blocks held here (under the lock), and views made since the last GC. */
    private long heldViews;
    private long viewsSinceGc;
    /** Owner blocks and views let go of (by the Cleaner, mostly): how a GC's effect shows. */
    private final AtomicLong letGo = new AtomicLong();
    /** Bytes of small arenas, and of this process's blocks in them that it has sent (not freed). */
    private long smallArenaBytes;
    private final AtomicLong escapedBytes = new AtomicLong();
    /** When dead processes' receipts were last looked for, and the wait before the next look. */
    private volatile long lastReapNanos = System.nanoTime();
    private volatile long reapIntervalNanos = REAP_MIN_NANOS;
    private static final long REAP_MIN_NANOS = 1_000_000_000L;
    private static final long REAP_MAX_NANOS = 30_000_000_000L;
    private long nextArenaSize = FIRST_ARENA_SIZE;
    private int nextId;
    private boolean hookInstalled;

    /** One per process ({@link #instance()}); tests make private ones to see the free lists alone. */
    Heap() {}

    Block malloc(long size, long alignment) {
        if (size < 1) {
            throw new IllegalArgumentException("size must be positive: " + size);
        }
        if (size > MAX_SIZE) {
            // Rounded up near Long.MAX_VALUE it would wrap negative: a free span lost, the
            // free list corrupted (review 43).
            throw new IllegalArgumentException("a shared block of " + size
                    + " bytes is more than any machine's shared memory can hold");
        }
        if (alignment < 1 || Long.bitCount(alignment) != 1 || alignment > MAX_ALIGNMENT) {
            throw new IllegalArgumentException(
                    "alignment must be a power of two up to " + MAX_ALIGNMENT + ": " + alignment);
        }
        long align = Math.max(alignment, MIN_ALIGNMENT);
        long rounded = roundUp(size, MIN_ALIGNMENT);
        try {
            try {
                return mallocOnce(size, align, rounded);
            } catch (SharedMemoryFullException full) {
                // /dev/shm is full, perhaps of blocks this process dropped, which only a GC
                // finds: a 64 MiB /dev/shm (Docker's) fills long before the GC threshold, and
                // its 13th queue was refused while the 12 before were garbage. Once more
                // after one.
                requestGc(true);
                return mallocOnce(size, align, rounded);
            }
        } finally {
            reapIfDue();
        }
    }

    private Block mallocOnce(long size, long align, long rounded) {
        if (rounded >= DEDICATED_THRESHOLD) {
            long arenaSize = roundUp(rounded, PAGE) + DEDICATED_START;
            collectIfDue(arenaSize);
            return mallocDedicated(size, arenaSize);
        }
        long need = rounded + (align - MIN_ALIGNMENT);
        Block block = mallocSmall(size, rounded, align, need, false);
        if (block == null) {
            // A new arena is due while a quarter of the small arenas is blocks sent away:
            // dropped ones are found by a GC, which the Java heap alone may not start.
            requestGc(true);
            block = mallocSmall(size, rounded, align, need, true);
        }
        return block;
    }

    private Block mallocDedicated(long size, long arenaSize) {
        lock.lock();
        try {
            sweepIfDue();
            LocalArena arena = newArena(arenaSize, true);
            dedicatedBytes.addAndGet(arena.size());
            return newBlock(arena, DEDICATED_START, size, arena.size() - DEDICATED_START, false);
        } finally {
            lock.unlock();
        }
    }

    /** A small block; null (with nothing done) when a GC should come before a new arena. */
    private Block mallocSmall(long size, long rounded, long align, long need, boolean grow) {
        lock.lock();
        try {
            sweepIfDue();
            Span span = free.ceiling(new Span(PROBE, 0, need));
            boolean reused = span != null;
            if (span == null && !deferred.isEmpty()) {
                sweep();
                span = free.ceiling(new Span(PROBE, 0, need));
                reused = span != null;
            }
            if (span == null && !grow && smallArenaBytes > 0
                    && escapedBytes.get() >= smallArenaBytes / 4) {
                return null;
            }
            if (span == null) {
                // The first quarter of an arena holds the counts: what is left must fit.
                long least = roundUp(Math.ceilDiv(4 * need, 3), PAGE);
                long arenaSize = Math.max(nextArenaSize, least);
                LocalArena arena;
                try {
                    arena = newArena(arenaSize, false);
                } catch (SharedMemoryFullException e) {
                    if (arenaSize <= Math.max(least, FIRST_ARENA_SIZE)) {
                        throw e;
                    }
                    // No room for the next, larger arena (a small /dev/shm, as Docker's 64
                    // MiB): one as small as the first may still fit.
                    arenaSize = Math.max(least, FIRST_ARENA_SIZE);
                    arena = newArena(arenaSize, false);
                }
                // Grown only by an arena made: failed creations used to double it, until no
                // arena fit beside anything and every small object failed for good.
                nextArenaSize = Math.min(nextArenaSize * 2, MAX_ARENA_SIZE);
                smallArenaBytes += arenaSize;
                span = new Span(arena, Holders.tableBytes(arenaSize), arenaSize);
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
            return newBlock(span.arena(), start, size, rounded, reused);
        } finally {
            lock.unlock();
        }
    }

    private Block newBlock(LocalArena arena, long start, long size, long length, boolean reused) {
        int generation = Holders.reset(arena.segment(), start);
        Block block = new Block(arena, start, size, generation,
                new Freer(this, arena, start, length, generation));
        if (reused) {
            // A new arena is zero (fresh pages); reused space still holds a freed block's bytes.
            block.segment().fill((byte) 0);
        }
        return block;
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

    // ---- names

    /** The key of a heap arena's name, 0 if {@code name} is not one this heap makes. */
    static long arenaKey(String name) {
        boolean dedicated = name.startsWith(DEDICATED_PREFIX);
        int from = dedicated ? DEDICATED_PREFIX.length() : NAME_PREFIX.length() + 1;
        if (!name.startsWith("/" + NAME_PREFIX) || name.length() <= from
                || name.length() > from + 12) {
            return 0;
        }
        long bits;
        try {
            bits = Long.parseLong(name.substring(from), 16);
        } catch (NumberFormatException e) {
            return 0;
        }
        // Names are written without leading zeros: exactly one spelling per key.
        if (!Long.toHexString(bits).equals(name.substring(from))) {
            return 0;
        }
        return KEY_MARK | (dedicated ? KEY_DEDICATED : 0) | bits;
    }

    /** The name of the arena of key {@code key} (see {@link #arenaKey}), null if none. */
    static String arenaName(long key) {
        if ((key & ~(KEY_MARK | KEY_DEDICATED | KEY_BITS)) != 0 || (key & KEY_MARK) == 0) {
            return null;
        }
        return ((key & KEY_DEDICATED) != 0 ? DEDICATED_PREFIX : "/" + NAME_PREFIX)
                + Long.toHexString(key & KEY_BITS);
    }

    /**
     * Whether a block may start at {@code offset} of an arena of {@code arenaSize} bytes: a
     * dedicated arena's at {@link #DEDICATED_START}, a small one's on a granule after the
     * counts, so that its count is a cell of the table and never another block's bytes.
     */
    static boolean validStart(boolean dedicated, long arenaSize, long offset) {
        if (dedicated) {
            return offset == DEDICATED_START && arenaSize > DEDICATED_START;
        }
        return offset % MIN_ALIGNMENT == 0 && offset >= Holders.tableBytes(arenaSize)
                && offset < arenaSize;
    }

    // ---- receiving

    /** As {@link #received(String, long, long, long, int, Receipts.Receipt)}, with no ticket. */
    Block received(String name, long arenaSize, long offset, long size) {
        return received(name, arenaSize, offset, size, 0, null);
    }

    /**
     * A block a message carried: maps its arena here on first use and makes a view of it,
     * this process's hold on it (see the class comment), taken over from the message's ticket
     * or added.
     *
     * @throws IllegalStateException when the message does not name a block of a heap arena
     *     of this user, or names one that nobody holds any more
     */
    Block received(String name, long arenaSize, long offset, long size, int generation,
            Receipts.Receipt ticket) {
        long key = arenaKey(name);
        if (key == 0) {
            throw new IllegalStateException("a received block names " + name
                    + ", which is not a heap arena's name");
        }
        boolean dedicated = (key & KEY_DEDICATED) != 0;
        LocalArena arena;
        boolean fresh = false;
        lock.lock();
        try {
            arena = arenas.get(name);
            if (arena == null) {
                arena = attach(name, dedicated);
                fresh = true;
            }
            // Written so that no sum overflows: the numbers come from a message.
            if (arena.size() != arenaSize || !validStart(dedicated, arena.size(), offset)
                    || size < 1 || size > arena.size() - offset) {
                if (fresh) {
                    arena.shm.close();
                }
                throw new IllegalStateException("block [" + offset + ", +" + size
                        + ") of an arena of " + arenaSize + " bytes does not fit heap arena "
                        + name + " of " + arena.size() + " bytes");
            }
            boolean redeemed = ticket != null
                    && Receipts.redeem(ticket, key, offset, generation);
            View view = arena.views.get(offset);
            if (view != null) {
                if (view.generation != generation) {
                    giveBackIf(redeemed, arena, offset, generation);
                    throw stale(name, offset);
                }
                view.count++;
                // This process holds the block already: the message's count goes back.
                giveBackIf(redeemed, arena, offset, generation);
            } else {
                if (!redeemed && !Holders.addIfHeld(arena.segment(), offset, generation)) {
                    if (fresh) {
                        arena.shm.close();
                    }
                    throw stale(name, offset);
                }
                if (fresh) {
                    arenas.put(name, arena);
                }
                view = new View(generation, Receipts.mine().hold(key, offset, generation));
                arena.views.put(offset, view);
                heldViews++;
                viewsSinceGc++;
            }
        } finally {
            lock.unlock();
        }
        if (fresh && dedicated && !arena.owned) {
            collectIfDue(arena.size());
            dedicatedBytes.addAndGet(arena.size());
        }
        Block block = new Block(arena, offset, size, generation, null);
        block.whenUnreachable(new ViewDropper(this, arena, offset));
        viewGcIfDue();
        return block;
    }

    private static void giveBackIf(boolean redeemed, LocalArena arena, long offset,
            int generation) {
        if (redeemed) {
            Holders.remove(arena.segment(), offset, generation);
        }
    }

    private static IllegalStateException stale(String name, long offset) {
        return new IllegalStateException("the block at " + offset + " of heap arena " + name
                + " has been freed: nobody held it any more when this message was read (a"
                + " message carrying shared memory that was read twice, or that was written"
                + " after its block had been freed)");
    }

    /** A view of a received block here is gone: the last one gives this process's count back. */
    private void dropView(LocalArena arena, long offset) {
        letGo.incrementAndGet();
        lock.lock();
        try {
            View view = arena.views.get(offset);
            if (view == null || --view.count > 0) {
                return;
            }
            arena.views.remove(offset);
            heldViews--;
            if (view.hold == null || Receipts.mine().release(view.hold)) {
                Holders.remove(arena.segment(), offset, view.generation);
            }
            if (!arena.owned && arena.views.isEmpty()) {
                // Unmapped with its last view, small arenas too: a long-lived process that
                // received objects from short-lived ones kept each one's arena mapped, its
                // memory held in /dev/shm after its creator had exited and unlinked it (review
                // 43). A later message naming it maps it again, while its creator lives.
                arenas.remove(arena.name());
                if (arena.dedicated) {
                    dedicatedBytes.addAndGet(-arena.size());
                }
                arena.shm.close();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Holds no reference to the view, so the Cleaner can run it. */
    private record ViewDropper(Heap heap, LocalArena arena, long offset) implements Runnable {
        @Override
        public void run() {
            heap.dropView(arena, offset);
        }
    }

    /**
     * A message carries {@code block}: one count for it, with a ticket for its reader; the
     * owner's first send also counts the owner as a holder.
     */
    static Receipts.Receipt sending(Block block, Freer freer) {
        LocalArena arena = block.arena();
        if (!arena.owned && !java.nio.file.Files.exists(ShmObject.DIRECTORY.resolve(
                arena.name().substring(1)))) {
            // Refused here, where the receiver would fail later (a child started with it died
            // at its start, "never ran"; a message carrying it was lost at its get): its
            // creator unlinked the arena as it exited (attack 35).
            throw new IllegalStateException("a shared object received from another process"
                    + " cannot be sent on: the process that created it has exited, and a"
                    + " process that did not map its shared memory (" + arena.name()
                    + ") before then cannot map it any more");
        }
        if (freer != null && freer.escaped.compareAndSet(false, true)) {
            Holders.add(arena.segment(), block.offset(), block.generation());
            if (!arena.dedicated) {
                freer.heap.escapedBytes.addAndGet(freer.length);
            }
        }
        Holders.add(arena.segment(), block.offset(), block.generation());
        return Receipts.mine().ticket(arena.key(), block.offset(), block.generation());
    }

    /**
     * A message that carried {@code block} with {@code ticket} ({@link #sending}) will never be
     * read: its count is given back, its ticket redeemed here, as its reader would have.
     */
    static void unsent(Block block, Receipts.Receipt ticket) {
        LocalArena arena = block.arena();
        if (ticket == null
                || Receipts.redeem(ticket, arena.key(), block.offset(), block.generation())) {
            Holders.remove(arena.segment(), block.offset(), block.generation());
        }
    }

    /**
     * Gives back one count of the block ({@code arenaKey}, {@code offset}, {@code generation})
     * for a process that cannot (it died, or is exiting): maps the arena for it, once per
     * {@code mapped}, which the caller closes.
     */
    static void giveBack(long arenaKey, long offset, int generation, Map<String, ShmObject> mapped) {
        String name = arenaName(arenaKey);
        if (name == null) {
            return;
        }
        ShmObject arena = mapped.get(name);
        if (arena == null && !mapped.containsKey(name)) {
            try {
                arena = ShmObject.attach(name, -1, "heap arena " + name);
            } catch (ErrnoException | RuntimeException e) {
                arena = null; // its owner has exited: nobody counts any more
            }
            mapped.put(name, arena);
        }
        if (arena != null && validStart((arenaKey & KEY_DEDICATED) != 0, arena.size(), offset)) {
            Holders.remove(arena.segment(), offset, generation);
        }
    }

    // ---- owners letting go

    /** The owner let go of a sent block: freed now if nobody holds it, else at a sweep. */
    void freeWhenUnheld(Freer freer) {
        lock.lock();
        try {
            if (Holders.unheld(freer.arena.segment(), freer.start, freer.generation)) {
                releaseEscaped(freer);
            } else {
                deferred.add(freer);
                sinceSweep++;
                if (!sweepScheduled) {
                    sweepScheduled = true;
                    sweepDelayNanos = SWEEP_MIN_NANOS;
                    SweepLater.schedule(this, sweepDelayNanos);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sweeps while blocks wait for their holders, on a thread of its own: soon after a sweep
     * freed some, less and less often while none, up to every 5 s (so a block a holder lets go
     * of late is freed within that; 30 s were a long time for /dev/shm, attack 33). Sweeps
     * made by allocations alone left a block that its owner dropped first (a program drops an
     * array a pool's map captured when the map returns; the workers give theirs back when
     * idle) in /dev/shm until the owner allocated again, perhaps never (attack 32).
     */
    private void sweepLater() {
        reapIfDue();
        lock.lock();
        try {
            int before = deferred.size();
            sweep();
            if (deferred.isEmpty()) {
                sweepScheduled = false;
                return;
            }
            sweepDelayNanos = deferred.size() < before ? SWEEP_MIN_NANOS
                    : Math.min(SWEEP_MAX_NANOS, sweepDelayNanos * 2);
            SweepLater.schedule(this, sweepDelayNanos);
        } finally {
            lock.unlock();
        }
    }

    /** A sweep of one heap to come: a class, not a lambda, as the heap's other tasks. */
    private static final class SweepLater implements Runnable {
        private static final ScheduledThreadPoolExecutor EXECUTOR =
                new ScheduledThreadPoolExecutor(1, r -> {
                    Thread t = LibraryThreads.unstarted("multiprocessing-heap-sweeper", r);
                    t.setDaemon(true);
                    return t;
                });
        private final Heap heap;

        private SweepLater(Heap heap) {
            this.heap = heap;
        }

        static void schedule(Heap heap, long delayNanos) {
            EXECUTOR.schedule(new SweepLater(heap), delayNanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public void run() {
            heap.sweepLater();
        }
    }

    private void releaseEscaped(Freer freer) {
        if (!freer.arena.dedicated) {
            escapedBytes.addAndGet(-freer.length);
        }
        freer.lastRites();
        release(freer.arena, freer.start, freer.length);
    }

    /**
     * Sweeps when as many allocations and deferrals as an eighth of the waiting blocks have
     * happened since the last sweep: each costs a constant share of a sweep, however many wait.
     */
    private void sweepIfDue() {
        if (!deferred.isEmpty() && ++sinceSweep >= Math.max(32, deferred.size() / 8)) {
            sweep();
        }
    }

    /** Frees the deferred blocks nobody holds any more (under the lock). */
    private void sweep() {
        sinceSweep = 0;
        for (Iterator<Freer> it = deferred.iterator(); it.hasNext(); ) {
            Freer f = it.next();
            if (Holders.unheld(f.arena.segment(), f.start, f.generation)) {
                it.remove();
                releaseEscaped(f);
            }
        }
    }

    /**
     * Gives back the holds of processes that died holding blocks, when blocks wait for their
     * holders: at most every second, and less often (up to every 30 s) while nobody is found
     * dead.
     */
    private void reapIfDue() {
        long now = System.nanoTime();
        if (now - lastReapNanos < reapIntervalNanos) {
            return;
        }
        lock.lock();
        try {
            if (deferred.isEmpty()) {
                return;
            }
        } finally {
            lock.unlock();
        }
        lastReapNanos = now;
        int before = deferredCount();
        reapAndSweep();
        reapIntervalNanos = deferredCount() < before ? REAP_MIN_NANOS
                : Math.min(REAP_MAX_NANOS, reapIntervalNanos * 2);
    }

    private int deferredCount() {
        lock.lock();
        try {
            return deferred.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * A child this process started has ended: gives back the holds it left (a process killed,
     * or one that never ran its exit hooks) at once, rather than at a later sweep. {@code
     * start} is its start time (0: unknown, and /dev/shm is listed to find them).
     */
    public static void processEnded(int pid, long start) {
        Receipts.reapEnded(pid, start);
    }

    /**
     * Gives back the holds of every process that died holding blocks and removes its receipts,
     * as a sweep does when blocks wait (for diagnostics and tests: receipts a dead process of
     * another program left are not this program's leftovers).
     */
    public static void reapDeadReceipts() {
        Receipts.reapDead(0);
    }

    /** Runs the sweep now, looking for dead holders first. */
    void reapAndSweep() {
        Receipts.reapDead(0);
        lock.lock();
        try {
            sweep();
        } finally {
            lock.unlock();
        }
    }

    // ---- garbage collection

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
        requestGc(false);
    }

    /**
     * As {@link #collectIfDue}, for views of blocks held here: past the threshold, after half
     * of it more views, or half as many as are held, whichever is more, so that a process that
     * keeps what it receives asks for a GC a logarithmic number of times.
     */
    private void viewGcIfDue() {
        lock.lock();
        try {
            if (heldViews <= GC_THRESHOLD_VIEWS
                    || viewsSinceGc < Math.max(GC_THRESHOLD_VIEWS / 2, heldViews / 2)) {
                return;
            }
            viewsSinceGc = 0;
        } finally {
            lock.unlock();
        }
        requestGc(false);
    }

    /**
     * Asks for a GC if this process holds views of other processes' blocks and maps dedicated
     * arenas (blocks of 256 KiB and more, a queue's ring): for a caller that has just dropped
     * objects that may hold some (a pool worker gone idle drops its jobs' functions), so that
     * their holds are given back now, not at a GC that a process with nothing to do would
     * never start. Small blocks alone (a lock, a value) are left to the usual thresholds: a
     * GC costs an idle worker ~8 ms of CPU (attack 32). Does not wait for the Cleaner's
     * thread, which gives them back: the caller may have work again at once.
     */
    public static void collectDroppedViews() {
        Heap heap = instance();
        heap.lock.lock();
        try {
            if (heap.heldViews == 0 || heap.dedicatedBytes.get() == 0) {
                return;
            }
        } finally {
            heap.lock.unlock();
        }
        System.gc();
    }

    /**
     * A GC, then a wait for the Cleaner's thread to let go of what it found (blocks of this
     * owner, views of others'): 20 ms, or, {@code untilDone}, as long as it makes progress, up
     * to half a second (an owner about to add an arena would rather reuse what it sent).
     */
    private void requestGc(boolean untilDone) {
        System.gc();
        try {
            long seen = letGo.get();
            for (int waited = 0; waited < (untilDone ? 500 : 20); waited += 20) {
                Thread.sleep(20);
                long now = letGo.get();
                if (now == seen && waited >= 40) {
                    break;
                }
                seen = now;
            }
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

    // ---- arenas

    private LocalArena attach(String name, boolean dedicated) {
        try {
            return new LocalArena(ShmObject.attach(name, -1, "heap arena " + name),
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

    // ---- for tests and diagnostics

    /** What waits to be reclaimed and what counts toward the next GC. */
    String reclaimState() {
        lock.lock();
        try {
            StringBuilder holders = new StringBuilder();
            for (Freer f : deferred.subList(0, Math.min(5, deferred.size()))) {
                holders.append(Holders.count(Holders.get(f.arena.segment(), f.start)))
                        .append(' ');
            }
            return "deferred " + deferred.size() + " (holders " + holders + "), dedicated bytes "
                    + dedicatedBytes.get() + ", since the last GC " + sinceGc.get()
                    + ", small arenas " + smallArenaBytes + " bytes, sent " + escapedBytes.get()
                    + ", views held " + heldViews;
        } finally {
            lock.unlock();
        }
    }

    /** The mapping of arena {@code name} here, null if it is not mapped. */
    MemorySegment arenaSegment(String name) {
        LocalArena arena = arenas.get(name);
        return arena == null ? null : arena.segment();
    }

    /** Bytes of the small arenas this heap has created. */
    long smallArenaBytes() {
        lock.lock();
        try {
            return smallArenaBytes;
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

    /**
     * Names of the shared memory this heap keeps for this process's life: its arenas and its
     * receipts (for tests and diagnostics).
     */
    public static List<String> ownedNames() {
        List<String> names = new ArrayList<>(ownedArenaNames());
        names.addAll(Receipts.mine().names());
        return names;
    }

    private static long roundUp(long value, long multiple) {
        return (value + multiple - 1) & -multiple;
    }

    /**
     * Gives a block's space back when its owner calls {@link Block#free()} or the block
     * becomes unreachable. A block that was sent to another process ({@link #escaped}) may be
     * in use there still: its owner's count is given back and the space is freed only once
     * nobody holds it ({@link Heap#freeWhenUnheld}); reusing it at once (zeroed, for another
     * lock or value) would change the receivers' object under them.
     */
    static final class Freer implements Runnable {
        private final Heap heap;
        private final LocalArena arena;
        private final long start;
        private final long length;
        private final int generation;
        /** Set when the owner first serializes the block for another process. */
        final AtomicBoolean escaped = new AtomicBoolean();
        /** What the block's owner has run on its memory before the space is handed out again. */
        volatile java.util.function.Consumer<MemorySegment> beforeReuse;

        Freer(Heap heap, LocalArena arena, long start, long length, int generation) {
            this.heap = heap;
            this.arena = arena;
            this.start = start;
            this.length = length;
            this.generation = generation;
        }

        @Override
        public void run() {
            heap.letGo.incrementAndGet();
            if (escaped.get()) {
                Holders.remove(arena.segment(), start, generation);
                heap.freeWhenUnheld(this);
                return;
            }
            lastRites();
            heap.release(arena, start, length);
        }

        /** Runs {@link #beforeReuse} on the block's memory, once: nobody can reach it now. */
        void lastRites() {
            java.util.function.Consumer<MemorySegment> action = beforeReuse;
            beforeReuse = null;
            if (action == null) {
                return;
            }
            try {
                action.accept(arena.segment().asSlice(start, length));
            } catch (RuntimeException | Error e) {
                LibraryLog.get().log(System.Logger.Level.DEBUG, "what a freed block held could"
                        + " not be let go of: " + e);
            }
        }
    }
}
