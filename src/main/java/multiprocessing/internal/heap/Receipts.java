package multiprocessing.internal.heap;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.ProcessIdentity;
import multiprocessing.internal.shm.IntField;
import multiprocessing.internal.shm.LongField;
import multiprocessing.internal.shm.ShmObject;
import multiprocessing.internal.util.AtExit;
import multiprocessing.internal.util.LibraryLog;

/**
 * A process's receipts for the holder counts ({@link Holders}) it has added to blocks: written
 * in shared memory of its own, named after the process's identity, so that other processes can
 * read them.
 *
 * <p>Two kinds. A <em>hold</em>: this process holds a view of a block, counted once in the
 * block's cell; when the process dies without giving it back, whoever finds it dead (its
 * parent when it reaps it, any process whose sweep finds blocks still held) gives the count
 * back in its place. A <em>ticket</em>: a message this process serialized carries a block, and
 * added one to its count for it; the receiver that deserializes the message first redeems the
 * ticket with a CAS here and keeps that count as its hold (or gives it back if it holds the
 * block already). A message deserialized more than once (the pool sends one serialized
 * function to every worker) is thus counted once: the later readers find the ticket redeemed
 * and add a count of their own, which they may only do while the block is still held.
 *
 * <h2>Implementation note</h2>
 * Receipts live in segments of 64 KiB ({@link #ENTRY} records), named {@code
 * /mph_r<pid>_<start time>_<pid namespace>_<n>}, created on first need and registered with
 * the resource tracker. An entry's {@code state} is 0 when free, else a serial number unique
 * in the process and the kind; every change of a used entry by another process is a CAS from
 * the exact state it read, so an entry redeemed or given back once is never counted again,
 * even when this process reuses it at once.
 *
 * <p>At a normal exit the process gives its holds back and unlinks its receipts. Tickets not
 * redeemed by then (their message is still in a queue or a pipe, or was never read) are left
 * as counts: the message may be read later, and its reader then finds no ticket and adds its
 * own count on top, which is safe; the block stays taken until its owner exits. The same holds
 * for the tickets of a process that died.
 */
final class Receipts {

    static final StructLayout ENTRY = MemoryLayout.structLayout(
            JAVA_LONG.withName("state"),
            JAVA_LONG.withName("arena"),
            JAVA_LONG.withName("offset"),
            JAVA_INT.withName("generation"),
            MemoryLayout.paddingLayout(4)).withName("receipt");

    private static final LongField STATE = LongField.of(ENTRY, "state");
    private static final LongField ARENA = LongField.of(ENTRY, "arena");
    private static final LongField OFFSET = LongField.of(ENTRY, "offset");
    private static final IntField GENERATION = IntField.of(ENTRY, "generation");

    static final long SEGMENT_BYTES = 64 << 10;
    static final int ENTRIES = (int) (SEGMENT_BYTES / ENTRY.byteSize());
    /** At most this many segments per process: 128 Ki receipts outstanding at once. */
    static final int MAX_SEGMENTS = 64;

    static final int HOLD = 1;
    static final int TICKET = 2;

    /** Names start so (after the "/"); {@link Heap#NAME_PREFIX} and a letter no arena has. */
    static final String PREFIX = Heap.NAME_PREFIX + "r";

    /** A receipt: where it is written and the state it was written with. */
    record Receipt(int pid, long start, int namespace, int segment, int index, long state) {
        String segmentName() {
            return segmentName(pid, start, namespace, segment);
        }

        static String segmentName(int pid, long start, int namespace, int segment) {
            return "/" + PREFIX + pid + "_" + start + "_" + Integer.toUnsignedString(namespace)
                    + "_" + segment;
        }
    }

    private static final int PID = Posix.getpid();

    private static final class Holder {
        static final Receipts MINE = new Receipts();
    }

    /** This process's receipts. */
    static Receipts mine() {
        return Holder.MINE;
    }

    private final List<ShmObject> segments = new ArrayList<>();
    private int[] free = new int[64];
    private int freeCount;
    /** Entries holding tickets: redeemed ones are found and reused when no entry is free. */
    private int[] issued = new int[64];
    private int issuedCount;
    private long serial;
    private boolean broken;
    private boolean hookInstalled;

    private Receipts() {}

    /** Writes a hold; null when no receipt can be written (the hold then outlives a death). */
    synchronized Receipt hold(long arenaKey, long offset, int generation) {
        return write(HOLD, arenaKey, offset, generation);
    }

    /** Writes a ticket for a message; null when none can be written (see {@link Heap}). */
    synchronized Receipt ticket(long arenaKey, long offset, int generation) {
        return write(TICKET, arenaKey, offset, generation);
    }

    /**
     * Takes back a hold this process wrote: true if it was still there, so that the caller
     * gives its count back; false if someone took it as this process's death (it was not).
     */
    synchronized boolean release(Receipt hold) {
        MemorySegment s = segments.get(hold.segment()).segment();
        long at = hold.index() * ENTRY.byteSize();
        boolean won = STATE.compareAndSet(s, at, hold.state(), 0L);
        push(hold.segment() * ENTRIES + hold.index());
        return won;
    }

    private Receipt write(int kind, long arenaKey, long offset, int generation) {
        int id = take();
        if (id < 0) {
            return null;
        }
        int segment = id / ENTRIES;
        int index = id % ENTRIES;
        MemorySegment s = segments.get(segment).segment();
        long at = index * ENTRY.byteSize();
        ARENA.set(s, at, arenaKey);
        OFFSET.set(s, at, offset);
        GENERATION.set(s, at, generation);
        long state = (++serial << 2) | kind;
        STATE.setVolatile(s, at, state);
        if (kind == TICKET) {
            issued = grow(issued, issuedCount);
            issued[issuedCount++] = id;
        }
        return new Receipt(PID, ProcessIdentity.START, ProcessIdentity.NAMESPACE, segment, index,
                state);
    }

    /** Takes left before the next look for redeemed tickets when a look found none to reuse. */
    private int skipScans;

    /** A free entry: a free one, a redeemed ticket's, or one of a new segment; -1 if none. */
    private int take() {
        if (freeCount == 0 && skipScans > 0) {
            skipScans--;
            return -1; // every entry holds an unread message's ticket: no scan each time
        }
        if (freeCount == 0) {
            reclaimRedeemed();
            if (freeCount == 0 && segments.size() >= MAX_SEGMENTS) {
                skipScans = 1024;
            }
        }
        if (freeCount == 0 && !addSegment()) {
            return -1;
        }
        return free[--freeCount];
    }

    /** Moves the entries of redeemed tickets to the free list. */
    private void reclaimRedeemed() {
        int kept = 0;
        for (int i = 0; i < issuedCount; i++) {
            int id = issued[i];
            MemorySegment s = segments.get(id / ENTRIES).segment();
            if ((long) STATE.getVolatile(s, (id % ENTRIES) * ENTRY.byteSize()) == 0L) {
                push(id);
            } else {
                issued[kept++] = id;
            }
        }
        issuedCount = kept;
        // Few back: a new segment now, rather than a scan of every ticket at each next write.
        if (freeCount > 0 && freeCount < ENTRIES / 4 && segments.size() < MAX_SEGMENTS) {
            addSegment();
        }
    }

    private void push(int id) {
        free = grow(free, freeCount);
        free[freeCount++] = id;
    }

    private static int[] grow(int[] a, int used) {
        return used < a.length ? a : java.util.Arrays.copyOf(a, a.length * 2);
    }

    private boolean addSegment() {
        if (broken || segments.size() >= MAX_SEGMENTS) {
            return false;
        }
        int n = segments.size();
        String name = Receipt.segmentName(PID, ProcessIdentity.START, ProcessIdentity.NAMESPACE, n);
        try {
            installHook();
            segments.add(ShmObject.create(name, SEGMENT_BYTES, true));
        } catch (ErrnoException | RuntimeException e) {
            broken = true;
            LibraryLog.get().log(Level.WARNING,
                    "multiprocessing: cannot write receipts for shared blocks ("
                    + e.getMessage() + "); blocks sent or received from now on are kept until"
                    + " their creator exits");
            return false;
        }
        for (int i = ENTRIES - 1; i >= 0; i--) {
            push(n * ENTRIES + i);
        }
        return true;
    }

    private void installHook() {
        if (!hookInstalled) {
            hookInstalled = true;
            AtExit.register(AtExit.Stage.RELEASE, this::exit);
        }
    }

    /** At exit: gives every hold back and unlinks the receipts (tickets stay counted). */
    private void exit() {
        List<ShmObject> mine;
        synchronized (this) {
            broken = true; // nothing is written from here on
            mine = List.copyOf(segments);
        }
        Map<String, ShmObject> arenas = new HashMap<>();
        try {
            for (ShmObject segment : mine) {
                giveBackHolds(segment.segment(), arenas);
            }
        } finally {
            closeAll(arenas);
        }
        for (ShmObject segment : mine) {
            ShmObject.unlinkQuietly(segment.name());
        }
    }

    /** The names of this process's receipt segments (they live as long as it does). */
    synchronized List<String> names() {
        return segments.stream().map(ShmObject::name).toList();
    }

    // ---- in other processes

    /** Recently used receipt segments of other processes, mapped here. */
    private static final Map<String, ShmObject> MAPPED = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ShmObject> eldest) {
            if (size() > 16) {
                eldest.getValue().close();
                return true;
            }
            return false;
        }
    };

    /**
     * Redeems a ticket a message carried for the block ({@code arenaKey}, {@code offset},
     * {@code generation}): true if this caller now owns the count the ticket stood for; false
     * if the ticket was redeemed before, or cannot be found (its writer has exited and its
     * receipts are gone: its count stays, see the class comment).
     */
    static boolean redeem(Receipt ticket, long arenaKey, long offset, int generation) {
        if (ticket.pid() <= 0 || ticket.segment() < 0 || ticket.segment() >= MAX_SEGMENTS
                || ticket.index() < 0 || ticket.index() >= ENTRIES
                || (ticket.state() & 3) != TICKET) {
            return false;
        }
        if (ticket.pid() == PID && ticket.start() == ProcessIdentity.START
                && ticket.namespace() == ProcessIdentity.NAMESPACE) {
            return mine().redeemOwn(ticket, arenaKey, offset, generation);
        }
        synchronized (MAPPED) {
            String name = ticket.segmentName();
            ShmObject segment = MAPPED.get(name);
            if (segment == null) {
                try {
                    segment = ShmObject.attach(name, SEGMENT_BYTES, "receipts " + name);
                } catch (ErrnoException | RuntimeException e) {
                    return false;
                }
                MAPPED.put(name, segment);
            }
            return redeemIn(segment.segment(), ticket, arenaKey, offset, generation);
        }
    }

    private synchronized boolean redeemOwn(Receipt ticket, long arenaKey, long offset,
            int generation) {
        if (ticket.segment() >= segments.size()) {
            return false;
        }
        return redeemIn(segments.get(ticket.segment()).segment(), ticket, arenaKey, offset,
                generation);
    }

    private static boolean redeemIn(MemorySegment s, Receipt ticket, long arenaKey, long offset,
            int generation) {
        long at = ticket.index() * ENTRY.byteSize();
        if ((long) STATE.getVolatile(s, at) != ticket.state()
                || (long) ARENA.get(s, at) != arenaKey || (long) OFFSET.get(s, at) != offset
                || (int) GENERATION.get(s, at) != generation) {
            return false;
        }
        return STATE.compareAndSet(s, at, ticket.state(), 0L);
    }

    /**
     * Gives back the holds of process {@code pid}, which started at {@code start} and has
     * ended (a child just reaped), and removes its receipts: looks up its segments by name, in
     * the order it made them, where {@link #reapDead} lists /dev/shm (~1 ms per thousand
     * entries there, at every reap). With {@code start} 0 (unknown), lists as that does.
     */
    static void reapEnded(int pid, long start) {
        if (start <= 0) {
            reapDead(pid);
            return;
        }
        Map<String, ShmObject> arenas = new HashMap<>();
        try {
            for (int n = 0; n < MAX_SEGMENTS; n++) {
                String name = Receipt.segmentName(pid, start, ProcessIdentity.NAMESPACE, n);
                if (!Files.exists(ShmObject.DIRECTORY.resolve(name.substring(1)),
                        LinkOption.NOFOLLOW_LINKS)) {
                    break; // made in order, unlinked together
                }
                reapSegment(name, arenas);
            }
        } finally {
            closeAll(arenas);
        }
    }

    /**
     * Gives back the holds of processes that have died (all of them, or those of {@code pid}
     * when it is above 0) and removes their receipts.
     */
    static void reapDead(int pid) {
        String prefix = PREFIX + (pid > 0 ? pid + "_" : "");
        Map<String, List<String>> byProcess = new TreeMap<>();
        try (Stream<Path> names = Files.list(ShmObject.DIRECTORY)) {
            names.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(prefix))
                    .forEach(n -> {
                        int last = n.lastIndexOf('_');
                        if (last > PREFIX.length()) {
                            byProcess.computeIfAbsent(n.substring(PREFIX.length(), last),
                                    k -> new ArrayList<>()).add(n);
                        }
                    });
        } catch (IOException | RuntimeException e) {
            return;
        }
        Map<String, ShmObject> arenas = new HashMap<>();
        try {
            for (Map.Entry<String, List<String>> e : byProcess.entrySet()) {
                String[] id = e.getKey().split("_");
                if (id.length != 3) {
                    continue; // not a name this library writes
                }
                int p;
                long start;
                int namespace;
                try {
                    p = Integer.parseInt(id[0]);
                    start = Long.parseLong(id[1]);
                    namespace = Integer.parseUnsignedInt(id[2]);
                } catch (RuntimeException malformed) {
                    continue; // not a name this library writes
                }
                if ((p == PID && start == ProcessIdentity.START)
                        || ProcessIdentity.alive(p, start, namespace)) {
                    continue;
                }
                for (String name : e.getValue()) {
                    reapSegment("/" + name, arenas);
                }
            }
        } finally {
            closeAll(arenas);
        }
    }

    private static void reapSegment(String name, Map<String, ShmObject> arenas) {
        ShmObject segment;
        try {
            segment = ShmObject.attach(name, -1, "receipts " + name);
        } catch (ErrnoException e) {
            return; // reaped by someone else meanwhile, or another user's
        } catch (IllegalStateException e) {
            if (e.getMessage() != null && e.getMessage().contains("size 0")) {
                ShmObject.unlinkQuietly(name); // its process died creating it
            }
            return;
        }
        try {
            if (segment.size() >= SEGMENT_BYTES) {
                giveBackHolds(segment.segment(), arenas);
            }
        } finally {
            segment.close();
        }
        ShmObject.unlinkQuietly(name);
        synchronized (MAPPED) {
            ShmObject mapped = MAPPED.remove(name);
            if (mapped != null) {
                mapped.close();
            }
        }
    }

    /** Unmaps the arenas a give-back mapped (null: one whose owner had exited). */
    private static void closeAll(Map<String, ShmObject> arenas) {
        for (ShmObject arena : arenas.values()) {
            if (arena != null) {
                arena.close();
            }
        }
    }

    /** Takes every hold of {@code s} (one CAS each) and gives its count back. */
    private static void giveBackHolds(MemorySegment s, Map<String, ShmObject> arenas) {
        for (int i = 0; i < ENTRIES; i++) {
            long at = i * ENTRY.byteSize();
            long state = (long) STATE.getVolatile(s, at);
            if ((state & 3) != HOLD || !STATE.compareAndSet(s, at, state, 0L)) {
                continue;
            }
            Heap.giveBack((long) ARENA.get(s, at), (long) OFFSET.get(s, at),
                    (int) GENERATION.get(s, at), arenas);
        }
    }

}
