package multiprocessing.internal.queue;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static multiprocessing.internal.queue.RingLayout.DONE;
import static multiprocessing.internal.queue.RingLayout.HEAD;
import static multiprocessing.internal.queue.RingLayout.JOINABLE;
import static multiprocessing.internal.queue.RingLayout.JOIN_EPOCH;
import static multiprocessing.internal.queue.RingLayout.MAXSIZE;
import static multiprocessing.internal.queue.RingLayout.ROOM_HELD;
import static multiprocessing.internal.queue.RingLayout.TAIL;
import static multiprocessing.internal.queue.RingLayout.advanced;
import static multiprocessing.internal.queue.RingLayout.between;
import static multiprocessing.internal.queue.RingLayout.difference;
import static multiprocessing.internal.queue.RingLayout.position;
import static multiprocessing.internal.queue.RingLayout.records;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

import multiprocessing.internal.heap.Block;
import multiprocessing.internal.heap.Heap;
import multiprocessing.internal.events.QueueWaitEvent;
import multiprocessing.internal.events.QueueWaits;
import multiprocessing.internal.events.Recorder;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.ProcessIdentity;
import multiprocessing.internal.wait.Parker;

/**
 * A bounded multi-producer multi-consumer ring of variable-length records in shared memory:
 * the transport under {@code Queue}, {@code SimpleQueue} and {@code JoinableQueue}.
 *
 * <h2>Implementation note</h2>
 * The ring is {@code n} fixed-size slots (a power of two) with one 64-bit state word per slot,
 * after Vyukov's bounded MPMC queue, extended to records that span {@code k} consecutive slots
 * (wrapping at the end of the data area). Positions ({@code tail}, {@code head}, a record's
 * position) count slots and only grow, modulo 2^40 ({@link RingLayout#POSITION_BITS}: the
 * state words below are kept modulo 2^40 too); position {@code p} lives in slot
 * {@code i = p mod n} and lap {@code L = p / n}. A slot's state word holds, relative to {@code base = p - i = L * n}
 * (so that zeroed memory is an empty ring with no initialisation):
 * <ul>
 * <li>{@code base}: free for position {@code p};</li>
 * <li>{@code base + 1}: a published record starts here;</li>
 * <li>negative: claimed, with the claimant's pid, the record's {@code k} and {@code L mod 2^20}
 *     packed in; WRITING by a producer or READING by a consumer (RECOVERED too for a claim
 *     taken over from a dead claimant);</li>
 * <li>{@code base + n}: freed, that is free for the next lap.</li>
 * </ul>
 * Only the first slot of a record changes state; the others keep their free value until the
 * record is freed, when each is set to its next lap's free value.
 *
 * <p>Put: a producer reads {@code tail = t}; if slot {@code t} is free for its lap and so are
 * the other {@code k - 1} slots (only a consumer freeing them can change them meanwhile, since
 * claims are made at the tail only), it CASes slot {@code t} to WRITING(pid, k, lap) and then
 * moves the tail's word past it ({@code t + k}, one record more: see Counting). Whoever sees a
 * claim of the current lap at the tail (WRITING, or READING when a recovery took it over and
 * died before it moved the tail) moves the tail past it, and so does the consumer that
 * recovers a dead producer's claim at the head, so a producer killed between its two CASes
 * stops nobody. It then writes the record (length, flags, payload) and publishes with a CAS
 * from its WRITING word to {@code base + 1}. Get: a consumer reads {@code head = h}; a published slot is
 * claimed by CAS to READING(pid, k, lap), then {@code head} is CASed to {@code h + k} (helped
 * by anyone who sees the READING word, as for the tail); the payload is copied out, then the
 * slots are freed, the first one last.
 *
 * <p>Counting: the tail's and the head's words also count the records moved past (modulo
 * 2^24, beside the position), so whichever CAS moves the tail past a claim counts the item
 * put, and whichever moves the head past one counts it taken: {@code qsize} is their
 * difference, a maxsize bound is checked against the tail's word the claim is made under (see
 * {@link #claimAt}), and a JoinableQueue's unfinished tasks are the tail's count less
 * {@code done}. When a producer counted its item in a word of its own before its claim, one
 * killed between the two left a count wrong for good: a place under maxsize taken, or a task
 * that kept {@code join()} waiting for ever (attacks 25 and 59). Python's semaphores keep
 * such a count too.
 *
 * <p>The pid, k and lap in a claimed word make a dead claimant's record recoverable by anyone
 * without trusting anything else it wrote. The claimant is the pid together with the stamp of
 * its start time and pid namespace ({@link ProcessIdentity#stamp}) that it writes beside the
 * word once its claim is made and clears before it lets go, as a lock's owner is: a live
 * process that was given a dead claimant's pid is not the claimant, and a claimant of another
 * pid namespace is never taken for dead. Until its stamp is written a claim is judged by its
 * pid alone, and so is a RECOVERED claim, whose slot still holds the dead claimant's stamp
 * until it is freed. A consumer waiting on a WRITING record whose
 * producer has died, or a producer waiting for room behind a READING record whose consumer has
 * died (looked for at most every {@value #CHECK_MILLIS} ms by each process: while a call
 * waits, when a non-blocking or short call finds nothing, and in {@link #count}), takes the claim over with a CAS
 * (WRITING or READING of the dead pid to READING of its own) and frees the record without
 * delivering it. A record a dead producer never published is thus never read as data, and the
 * item a dead consumer held is lost but its room comes back.
 *
 * <p>Waiting: a thread that cannot proceed waits in {@link Parker} on its side's futex word
 * ({@code notEmpty} for consumers, {@code notFull} for producers) and sleepers count; the other
 * side bumps the word and wakes every sleeper of it only when the count is non-zero. A queue's
 * sleeper looks for dead claimants every {@value #CHECK_MILLIS} ms (nobody wakes it for those);
 * a manager link's does not, as its claimants are the link's two processes and one that dies
 * ends the link (see {@code await}).
 */
public final class Ring {
    static final long CHECK_MILLIS = 100;
    private static final long CHECK_NANOS = CHECK_MILLIS * 1_000_000;

    /**
     * Fault-injection for tests: a put stalls this long after writing half its record and a
     * get this long after claiming one, so that a test can kill the process at that point.
     */
    private static final long PUT_STALL_MILLIS = Long.getLong("multiprocessing.queue.testPutStallMillis", 0);
    private static final long TAKE_STALL_MILLIS = Long.getLong("multiprocessing.queue.testTakeStallMillis", 0);
    /**
     * Fault-injection for tests: a claim of more than one slot stalls this long once it is made
     * and before the tail is moved past it, so that a test can kill its producer there.
     */
    private static final long CLAIM_STALL_MILLIS =
            Long.getLong("multiprocessing.queue.testClaimStallMillis", 0);
    /**
     * Fault-injection for tests: a put stalls this long once it has found room and a place
     * under maxsize and before it claims them, so that a test can kill its producer there.
     */
    private static final long FIND_STALL_MILLIS =
            Long.getLong("multiprocessing.queue.testFindStallMillis", 0);

    /**
     * The most tasks a JoinableQueue holds unfinished: puts and tasks done are counted modulo
     * 2^24 ({@link RingLayout#RECORD_COUNT_BITS}), and a put past this many is refused, with
     * room to spare for producers racing past the check. Python's is its semaphore's bound
     * (SEM_VALUE_MAX: 2^31 - 1 on Linux, 32,767 on macOS).
     */
    static final int MAX_UNFINISHED = 1 << (RingLayout.RECORD_COUNT_BITS - 1);

    /** This process's id, stored in claims. */
    static final int PID = Posix.getpid();

    private static final long CLAIMED = Long.MIN_VALUE;
    private static final long READING = 1L << 62;
    private static final int PID_SHIFT = 40;
    /** A claim taken over from a dead claimant: its slot's stamp is still the dead one's. */
    static final long RECOVERED = 1L << 39;
    private static final int K_SHIFT = 20;
    private static final long FIELD_MASK = (1L << 20) - 1;
    /** k: a record spans at most slots / 8 + 1 slots ({@link #largestInline}), below 2^18. */
    private static final long K_MASK = (1L << 19) - 1;
    private static final long PID_MASK = (1L << 22) - 1;

    /**
     * How many times {@link #count} reads the head again while the tail moves: a reader that
     * keeps losing the race to busy producers takes a bounded count instead of spinning.
     */
    private static final int COUNT_TRIES = 4;

    /** Default slot count and size: 64 Ki slots of 64 bytes, 4 MiB of records. */
    public static final int DEFAULT_SLOTS = 1 << 16;
    public static final int DEFAULT_SLOT_BYTES = 64;

    private final Block block;
    private final String objectName;
    private final long offset;
    private final MemorySegment header;
    private final MemorySegment seq;
    private final MemorySegment data;
    private final Parker.Site consumers;
    private final Parker.Site producers;
    private final Parker.Site joiners;
    private final Parker.Watch recovery = new Parker.Watch() {
        @Override
        public long interval(int word) {
            return CHECK_NANOS;
        }

        @Override
        public boolean check() {
            return recoverIfDue(System.nanoTime());
        }
    };
    private final int slots;
    private final long mask;
    private final int slotBytes;
    private final long dataBytes;
    /**
     * The header's maxsize and joinable, which never change once the ring is made: read once,
     * not on every put, from the cache line that every taskDone() writes ({@code done}).
     */
    private final int maxsize;
    private final boolean joinable;

    private Ring(Block block) {
        this(block, block.segment(), block.arenaName(), block.offset());
    }

    /**
     * @param block the heap block the ring lies in, or null for memory of its own
     * @param objectName the shared-memory object the ring lies in, {@code offset} bytes in
     */
    private Ring(Block block, MemorySegment all, String objectName, long offset) {
        this.block = block;
        this.objectName = objectName;
        this.offset = offset;
        this.header = all.asSlice(0, RingLayout.HEADER_BYTES);
        if ((int) RingLayout.MAGIC_FIELD.getVolatile(header) != RingLayout.MAGIC) {
            throw new IllegalStateException("not a queue's ring: " + place());
        }
        this.slots = (int) RingLayout.SLOTS.get(header);
        this.slotBytes = (int) RingLayout.SLOT_BYTES.get(header);
        // The header is shared memory another process wrote: a geometry that does not fit the
        // block would index outside it, or make every record length look valid.
        if (!validGeometry(slots, slotBytes) || RingLayout.bytes(slots, slotBytes) > all.byteSize()) {
            throw new IllegalStateException("not a queue's ring: " + place() + " says " + slots
                    + " slots of " + slotBytes + " bytes, which do not fit its "
                    + all.byteSize() + " bytes");
        }
        this.maxsize = (int) MAXSIZE.get(header);
        this.joinable = (int) JOINABLE.get(header) != 0;
        this.mask = slots - 1;
        this.dataBytes = (long) slots * slotBytes;
        this.seq = all.asSlice(RingLayout.seqOffset(), RingLayout.SLOT_STATE_BYTES * slots);
        this.data = all.asSlice(RingLayout.dataOffset(slots), dataBytes);
        this.consumers = new Parker.Site(RingLayout.NOT_EMPTY.word(header),
                RingLayout.CONSUMER_SLEEPERS.word(header));
        this.producers = new Parker.Site(RingLayout.NOT_FULL.word(header),
                RingLayout.PRODUCER_SLEEPERS.word(header));
        this.joiners = new Parker.Site(RingLayout.JOIN_EPOCH.word(header),
                RingLayout.JOIN_SLEEPERS.word(header));
    }

    /** A new empty ring; {@code maxsize <= 0}: bounded by its room only. */
    public static Ring create(int slots, int slotBytes, int maxsize, boolean joinable) {
        if (!validGeometry(slots, slotBytes)) {
            throw new IllegalArgumentException("bad ring geometry: " + slots + " x " + slotBytes);
        }
        // Page-aligned: the header's groups of fields must start on cache lines of their own
        // (RingLayout), and a ring, megabytes at its default size, wastes no padding for it.
        Block block = Heap.allocate(RingLayout.bytes(slots, slotBytes), Heap.MAX_ALIGNMENT);
        format(block.segment(), slots, slotBytes, maxsize, joinable);
        // A queue dropped by every process with large messages unread: their objects go with
        // it, as a pipe's bytes do, not at the program's end (the resource tracker's).
        block.beforeReuse(memory -> Messages.discard(attach(memory, "a dropped queue", 0)));
        return new Ring(block);
    }

    private static void format(MemorySegment h, int slots, int slotBytes, int maxsize,
            boolean joinable) {
        RingLayout.SLOTS.set(h, slots);
        RingLayout.SLOT_BYTES.set(h, slotBytes);
        MAXSIZE.set(h, Math.max(0, maxsize));
        JOINABLE.set(h, joinable ? 1 : 0);
        RingLayout.MAGIC_FIELD.setVolatile(h, RingLayout.MAGIC);
    }

    /**
     * A new empty unbounded ring in {@code memory}, zeroed memory of its own ({@link
     * #bytes} long) rather than a block of the heap: {@code offset} bytes into the
     * shared-memory object {@code objectName}. Such a ring carries a manager's calls, not a
     * queue's items: its waits are not recorded as QueueGet and QueuePut events.
     */
    public static Ring create(MemorySegment memory, String objectName, long offset, int slots,
            int slotBytes) {
        if (!validGeometry(slots, slotBytes) || memory.byteSize() < RingLayout.bytes(slots, slotBytes)) {
            throw new IllegalArgumentException("bad ring geometry: " + slots + " x " + slotBytes
                    + " in " + memory.byteSize() + " bytes");
        }
        format(memory, slots, slotBytes, 0, false);
        return new Ring(null, memory, objectName, offset);
    }

    /** The ring {@link #create(MemorySegment, String, long, int, int)} made, mapped here. */
    public static Ring attach(MemorySegment memory, String objectName, long offset) {
        return new Ring(null, memory, objectName, offset);
    }

    /** The bytes a ring of {@code slots} slots of {@code slotBytes} bytes takes. */
    public static long bytes(int slots, int slotBytes) {
        return RingLayout.bytes(slots, slotBytes);
    }

    /** Where the ring lies, for messages. */
    private String place() {
        return block != null ? block.toString() : objectName + " at " + offset;
    }

    private static boolean validGeometry(int slots, int slotBytes) {
        return Integer.bitCount(slots) == 1 && slots >= 2 && slots <= (1 << 20)
                && slotBytes >= 16 && slotBytes % 8 == 0;
    }

    /** The ring in {@code block}, received from another process. */
    public static Ring attach(Block block) {
        return new Ring(block);
    }

    public Block block() {
        return block;
    }

    public int maxsize() {
        return maxsize;
    }

    /** The largest payload that travels inside the ring (larger ones go by reference). */
    public long largestInline() {
        return dataBytes / 8 - RingLayout.RECORD_HEADER_BYTES;
    }

    /**
     * Items put and not yet taken (approximate while others work): claims the tail has moved
     * past and the head has not. A claim whose producer is still writing it counts, until a
     * look for dead claimants (made here too, at most every {@value #CHECK_MILLIS} ms) finds
     * its producer dead: a loop that drains a queue while it is not empty would otherwise wait
     * in its get for good (attack 61).
     *
     * <p>The tail, the head, then the tail again: the count of a moment if the tail did not
     * move meanwhile. Read once each, a reader descheduled between the two counted the puts
     * made meanwhile and none of the takes: Queue(1) said 1006 (attack 61). A few tries, and
     * then a count kept within what the queue can hold.
     */
    public int count() {
        if (block != null) {
            recoverIfDue(System.nanoTime());
        }
        long tail = (long) TAIL.getVolatile(header);
        long head = (long) HEAD.getVolatile(header);
        for (int tries = 0; tries < COUNT_TRIES; tries++) {
            long again = (long) TAIL.getVolatile(header);
            if (again == tail) {
                break;
            }
            tail = again;
            head = (long) HEAD.getVolatile(header);
        }
        int n = difference(records(head), records(tail));
        return Math.max(0, Math.min(n, maxsize > 0 ? maxsize : slots));
    }

    // ---- claim words

    static long claim(boolean reading, int pid, long k, long position, int slots) {
        long lap = (position / slots) & FIELD_MASK;
        return CLAIMED | (reading ? READING : 0) | ((long) pid & PID_MASK) << PID_SHIFT
                | (k & K_MASK) << K_SHIFT | lap;
    }

    private static boolean isReading(long v) {
        return v < 0 && (v & READING) != 0;
    }

    private static int pidOf(long v) {
        return (int) ((v >>> PID_SHIFT) & PID_MASK);
    }

    private static int kOf(long v) {
        return (int) ((v >>> K_SHIFT) & K_MASK);
    }

    /**
     * The slots claim word {@code v} at {@code position} spans. A word of no slot would leave
     * the head or tail where it is and every caller spinning on it: the ring is corrupted.
     */
    private int claimedSlots(long v, long position) {
        int k = kOf(v);
        if (k < 1 || k > slots) {
            throw new IllegalStateException("the queue's ring is corrupted: the claim at position "
                    + position + " spans " + k + " slots, and a record spans 1 to " + slots
                    + " (" + place() + ")");
        }
        return k;
    }

    /** Whether claim word {@code v} was made for position {@code p} (its lap matches). */
    private boolean lapMatches(long v, long p) {
        return (v & FIELD_MASK) == ((p / slots) & FIELD_MASK);
    }

    private long seqAt(long position) {
        return RingLayout.SLOT_SEQ.getVolatile(seq, stateOffset(position));
    }

    private boolean casSeq(long position, long expected, long value) {
        return RingLayout.SLOT_SEQ.compareAndSet(seq, stateOffset(position), expected, value);
    }

    private long stateOffset(long position) {
        return (position & mask) * RingLayout.SLOT_STATE_BYTES;
    }

    /** Writes who holds the claim at {@code position} (0: nobody), beside its state word. */
    private void setClaimant(long position, long stamp) {
        RingLayout.SLOT_CLAIMANT.setRelease(seq, stateOffset(position), stamp);
    }

    private long claimantAt(long position) {
        return RingLayout.SLOT_CLAIMANT.getVolatile(seq, stateOffset(position));
    }

    private long base(long position) {
        return position - (position & mask);
    }

    int slotsFor(long payload) {
        return (int) ((RingLayout.RECORD_HEADER_BYTES + payload + slotBytes - 1) / slotBytes);
    }

    // ---- put

    /**
     * Appends a record of {@code length} bytes of {@code src} with {@code flags}, waiting up to
     * {@code timeoutNanos} (negative: forever) for room and for the maxsize bound.
     *
     * @return false if the time ran out (nothing was added)
     */
    public boolean put(MemorySegment src, long length, int flags, long timeoutNanos) {
        if (length > largestInline()) {
            throw new IllegalArgumentException("record of " + length + " bytes exceeds "
                    + largestInline());
        }
        if (joinable && unfinished() >= MAX_UNFINISHED) {
            throw new IllegalStateException("a JoinableQueue holds at most " + MAX_UNFINISHED
                    + " unfinished tasks: call taskDone() for the items got");
        }
        long start = timeoutNanos > 0 ? System.nanoTime() : 0;
        int k = slotsFor(length);
        // One slot needs no holding (nor an object per put); nor does a put that will not wait.
        Room room = k == 1 ? oneAtATime : new Room(k, timeoutNanos != 0);
        long p;
        try {
            p = await(room::claim, producers, timeoutNanos, start);
        } finally {
            room.letGo();
        }
        if (p < 0) {
            return false;
        }
        boolean settled = false;
        try {
            long at = (p & mask) * slotBytes;
            data.set(JAVA_INT, at + RingLayout.LENGTH_OFFSET, (int) length);
            data.set(JAVA_INT, at + RingLayout.FLAGS_OFFSET, flags);
            long from = at + RingLayout.RECORD_HEADER_BYTES;
            long first = Math.min(length, dataBytes - from);
            MemorySegment.copy(src, 0, data, from, first);
            if (PUT_STALL_MILLIS > 0) {
                stall(PUT_STALL_MILLIS);
            }
            if (length > first) {
                MemorySegment.copy(src, first, data, 0, length - first);
            }
            setClaimant(p, 0);
            settled = true; // published, or taken over: nothing of this put's to undo either way
            if (!casSeq(p, claim(false, PID, k, p, slots), base(p) + 1)) {
                throw new IllegalStateException("a record this process was writing was taken"
                        + " over (was this process reported dead?)");
            }
        } finally {
            if (!settled) {
                discard(p, k, length);
            }
        }
        consumers.bumpAndWakeAll();
        return true;
    }

    /**
     * Publishes the record this process claimed at {@code p} and could not finish writing, as
     * one to drop: left claimed by a live process, no recovery would free it, and every
     * consumer would wait at it for good (and every producer, once the tail came round).
     */
    private void discard(long p, int k, long length) {
        long at = (p & mask) * slotBytes;
        data.set(JAVA_INT, at + RingLayout.LENGTH_OFFSET, (int) length); // still k slots
        data.set(JAVA_INT, at + RingLayout.FLAGS_OFFSET, RingLayout.FLAG_DISCARD);
        setClaimant(p, 0);
        if (casSeq(p, claim(false, PID, k, p, slots), base(p) + 1)) {
            consumers.bumpAndWakeAll();
        }
    }

    /**
     * Waits up to {@code timeoutNanos} (negative: forever) until a record of {@code length}
     * bytes would find room and a place under maxsize, claiming neither: for a producer that
     * has something to do before its record goes in, once it is likely to get in (a large
     * message's object is named only then, so that a producer killed while the queue is full
     * leaves none behind). Another producer may still take the room first; the put waits
     * again then.
     *
     * @return false if the time ran out
     */
    public boolean awaitRoom(long length, long timeoutNanos) {
        long start = timeoutNanos > 0 ? System.nanoTime() : 0;
        int k = slotsFor(length);
        if (await(() -> roomAt(k, 0), producers, timeoutNanos, start) < 0) {
            return false;
        }
        return maxsize <= 0 || await(() -> count() < maxsize ? 0 : -1,
                producers, timeoutNanos, start) >= 0;
    }

    /** Whether a record of one slot would find room at the tail now (approximate). */
    public boolean hasRoom() {
        return roomAt(1, 0) >= 0;
    }

    /**
     * The tail, if the {@code k} slots from it are free and, unless {@code held} is the room
     * held now ({@link Room}), as many more as that producer waits for; else -1.
     */
    private long roomAt(int k, long held) {
        long r = (long) ROOM_HELD.getVolatile(header);
        long need = r != 0 && r != held ? Math.min(slots, k + (r & ROOM_SLOTS)) : k;
        while (true) {
            long word = (long) TAIL.getVolatile(header);
            long t = position(word);
            long v = seqAt(t);
            if (v < 0 && lapMatches(v, t)) {
                // A claim whose tail is not moved yet (its producer may have died): moved on.
                // A READING one too: a recovery took it over and died before it moved the
                // tail (attack 61: the tail stayed behind the head, every put refused).
                TAIL.compareAndSet(header, word, advanced(word, claimedSlots(v, t)));
                continue;
            }
            boolean room = v == base(t);
            for (long d = 1; room && d < need; d++) {
                long j = position(t + d);
                room = seqAt(j) == base(j);
            }
            if (room) {
                return t;
            }
            if ((long) TAIL.getVolatile(header) == word) {
                return -1;
            }
        }
    }

    /**
     * Claims the {@code k} slots at {@code t} that {@link #roomAt} found free, if {@code t} is
     * still the tail and, with a maxsize, the queue holds fewer items: then the slots still are
     * free (only consumers change a slot that is not claimed, and only to free it; claims are
     * made at the tail only), and no record holds {@code t} inside it: the CAS on its first
     * slot decides which producer has them. That CAS succeeds only while the tail's word is
     * still the one read here (the tail moves past {@code t} only once {@code t} is claimed), so
     * the items counted in it are the ones the place was judged by, and the head's count only
     * grows meanwhile: the bound holds without counting anything ahead of the claim.
     */
    private boolean claimAt(long t, int k) {
        long word = (long) TAIL.getVolatile(header);
        if (position(word) != t || !placeUnder(word)) {
            return false;
        }
        if (FIND_STALL_MILLIS > 0) {
            stall(FIND_STALL_MILLIS);
        }
        if (!casSeq(t, base(t), claim(false, PID, k, t, slots))) {
            return false;
        }
        setClaimant(t, ProcessIdentity.STAMP);
        if (CLAIM_STALL_MILLIS > 0 && k > 1) {
            stall(CLAIM_STALL_MILLIS);
        }
        // Counts the item as put: this CAS, or a helper's that sees the claim, whoever dies.
        TAIL.compareAndSet(header, word, advanced(word, k));
        return true;
    }

    /**
     * Whether the queue, its tail's word being {@code tailWord}, has a place under maxsize. The
     * head is read after: its count may have passed that word's (items put and taken since),
     * which is a place, not a count wrapped round to full (review 59: putNowait threw
     * FullException on an empty queue).
     */
    private boolean placeUnder(long tailWord) {
        return maxsize <= 0 || difference(records((long) HEAD.getVolatile(header)),
                records(tailWord)) < maxsize;
    }

    private static final long ROOM_SLOTS = (1L << 32) - 1;

    /** The room of a put of one slot, which needs no holding: stateless, so shared. */
    private final Room oneAtATime = new Room(1, false);

    /**
     * The room one put waits for. A record of several slots needs that many free in a row at
     * the tail; in a full ring the consumers free one slot at a time, and producers of
     * one-slot records, woken by the same frees, took each as it came: the larger record's put
     * waited as long as they kept coming (review 44). So a put of several slots that finds no
     * room holds it ({@code roomHeld}, one put at a time): the other producers then claim only
     * where that many slots stay free after theirs, and the slots gather for it. It lets go
     * once it has claimed, or given up; a holder that died is found by {@link #recoverDead}.
     */
    private final class Room {
        final int k;
        /** Whether it may hold room: {@link #oneAtATime}, shared by puts, never does. */
        private final boolean holds;
        /** The {@code roomHeld} word this put wrote, 0 while it holds nothing. */
        private long held;

        Room(int k, boolean holds) {
            this.k = k;
            this.holds = holds;
        }

        /** The tail if there is room, holding the room after a miss; else -1. */
        long find() {
            long t = roomAt(k, held);
            if (t < 0 && holds && held == 0) {
                long word = (long) PID << 32 | k;
                if (ROOM_HELD.compareAndSet(header, 0L, word)) {
                    held = word;
                    // Who holds it, beyond the pid: one reused by another process after the
                    // holder died, or the same number in another pid namespace (attack 42).
                    RingLayout.ROOM_HELD_STAMP.setVolatile(header, ProcessIdentity.STAMP);
                }
            }
            return t;
        }

        /**
         * Claims the room at the tail: its position, or -1 when there is none or no place
         * under maxsize (the room is not held while there is no place).
         */
        long claim() {
            while (true) {
                if (maxsize > 0 && !placeUnder((long) TAIL.getVolatile(header))) {
                    return -1;
                }
                long t = find();
                if (t < 0 || claimAt(t, k)) {
                    return t;
                }
            }
        }

        void letGo() {
            if (held != 0) {
                RingLayout.ROOM_HELD_STAMP.setVolatile(header, 0L); // judged by pid until the next
                ROOM_HELD.compareAndSet(header, held, 0L);
                held = 0;
                wakeProducers(); // those that left the room free may have room of their own
            }
        }
    }

    // ---- get

    /** Where a taken record's payload is copied. */
    public static final class Sink {
        public byte[] buffer = new byte[256];
        public int length;
        public int flags;
    }

    /**
     * Takes the oldest record into {@code sink}, waiting up to {@code timeoutNanos} (negative:
     * forever).
     *
     * @return false if the time ran out
     */
    public boolean take(Sink sink, long timeoutNanos) {
        long start = timeoutNanos > 0 ? System.nanoTime() : 0;
        while (true) {
            long p = await(this::tryTake, consumers, timeoutNanos, start);
            if (p < 0) {
                return false;
            }
            if (TAKE_STALL_MILLIS > 0) {
                stall(TAKE_STALL_MILLIS);
            }
            int length;
            try {
                long at = (p & mask) * slotBytes;
                length = recordLength(p);
                sink.flags = data.get(JAVA_INT, at + RingLayout.FLAGS_OFFSET);
                sink.length = length;
                if ((sink.flags & RingLayout.FLAG_DISCARD) != 0) {
                    free(p, slotsFor(length));
                    undelivered();
                    continue; // a record its producer could not finish: the next one
                }
                if (sink.buffer.length < length) {
                    sink.buffer = new byte[Math.max(length, sink.buffer.length * 2)];
                }
                long from = at + RingLayout.RECORD_HEADER_BYTES;
                long first = Math.min(length, dataBytes - from);
                MemorySegment.copy(data, JAVA_BYTE, from, sink.buffer, 0, (int) first);
                if (length > first) {
                    MemorySegment.copy(data, JAVA_BYTE, 0, sink.buffer, (int) first,
                            (int) (length - first));
                }
            } catch (RuntimeException | Error e) {
                // The item is lost (a buffer this process had no memory for): its slots are
                // not. Kept claimed by a live process, no recovery would free them, and the
                // ring would refuse every put once its tail came round to them.
                free(p, claimedSlots(seqAt(p), p));
                undelivered();
                throw e;
            }
            free(p, slotsFor(length));
            return true;
        }
    }

    private static void stall(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The payload length of the published record at {@code position}. Any process that maps the
     * ring can write it: a negative length would make a record of no slot (the head never
     * moves: consumers spin), a huge one a 2 GiB copy buffer.
     */
    private int recordLength(long position) {
        int length = data.get(JAVA_INT, (position & mask) * slotBytes + RingLayout.LENGTH_OFFSET);
        if (length < 0 || length > largestInline()) {
            throw new IllegalStateException("the queue's ring is corrupted: the record at position "
                    + position + " says " + length + " bytes, and a record holds 0 to "
                    + largestInline() + " (" + place() + ")");
        }
        return length;
    }

    /** Claims the record at the head: its position, or -1 when there is none yet. */
    private long tryTake() {
        while (true) {
            long word = (long) HEAD.getVolatile(header);
            long h = position(word);
            long v = seqAt(h);
            long b = base(h);
            if (v == b + 1) {
                int length = recordLength(h);
                int k = slotsFor(length);
                if (casSeq(h, v, claim(true, PID, k, h, slots))) {
                    setClaimant(h, ProcessIdentity.STAMP);
                    // Counts the item as taken: this CAS, or a helper's that sees the claim.
                    HEAD.compareAndSet(header, word, advanced(word, k));
                    return h;
                }
            } else if (isReading(v) && lapMatches(v, h)) {
                HEAD.compareAndSet(header, word, advanced(word, claimedSlots(v, h)));
            } else if ((long) HEAD.getVolatile(header) == word) {
                return -1; // empty, or a producer is still writing the record at the head
            }
        }
    }

    /**
     * Gives a taken record's slots back, the first one last (the head has counted the item
     * out already).
     */
    private void free(long p, int k) {
        for (long d = 1; d < k; d++) {
            long j = position(p + d);
            RingLayout.SLOT_SEQ.setRelease(seq, stateOffset(j), freed(j));
        }
        setClaimant(p, 0);
        RingLayout.SLOT_SEQ.setVolatile(seq, stateOffset(p), freed(p));
        wakeProducers();
    }

    /** The state word of a freed slot: free for the next lap, 0 again past the last position. */
    private long freed(long p) {
        return position(base(p) + slots);
    }

    private void wakeProducers() {
        producers.bumpAndWakeAll();
    }

    // ---- waiting

    /**
     * When this process last looked for dead claimants ({@link #recoverDead}): per ring, not
     * per call, so that callers that never sleep a whole {@value #CHECK_MILLIS} ms in one call
     * (getNowait, short timeouts) still look every {@value #CHECK_MILLIS} ms.
     */
    private volatile long lastRecoverNanos = System.nanoTime();

    /** Runs {@link #recoverDead} if this process has not for {@value #CHECK_MILLIS} ms; whether it did. */
    private boolean recoverIfDue(long now) {
        long last = lastRecoverNanos;
        if (now - last < CHECK_NANOS) {
            return false;
        }
        lastRecoverNanos = now;
        recoverDead();
        return true;
    }

    /** Runs {@code a} until it gives a result >= 0, spinning then sleeping; -1 on timeout. */
    private long await(Parker.Attempt a, Parker.Site site, long timeoutNanos, long start) {
        long r = a.attempt();
        if (r >= 0) {
            return r;
        }
        if (timeoutNanos == 0) {
            return recoverIfDue(System.nanoTime()) ? a.attempt() : r;
        }
        if (timeoutNanos < 0) {
            start = System.nanoTime();
        }
        if (block == null) {
            // A manager link's ring: its waits are the ManagerCall events' time, not a queue's.
            // Its sleepers do not look for dead claimants: its two sides are the link's two
            // processes, and one that dies ends the link (RingLink watches the connection).
            // Those looks, every 100 ms, cost an idle link's server thread ~4 ms of CPU a second.
            long r2 = Parker.await(site, a, start, timeoutNanos, false, null);
            return r2 >= 0 ? r2 : -1;
        }
        // No event, nor its class loaded, unless Flight Recorder is in use (see Recorder).
        QueueWaitEvent event = Recorder.inUse() ? QueueWaits.waiting(site == consumers) : null;
        long r2 = Parker.await(site, a, start, timeoutNanos, false, recovery);
        if (event != null) {
            event.finish(objectName, offset, timeoutNanos, r2 >= 0);
        }
        return r2 >= 0 ? r2 : -1;
    }

    // ---- recovery

    /**
     * Frees the records whose claimant has died: a WRITING record at the head (its producer died
     * before publishing) and READING records anywhere (their consumer died before freeing).
     * Each is taken over with one CAS to a READING claim of this process, so only one process
     * recovers it; its item is dropped.
     */
    void recoverDead() {
        Map<Claimant, Boolean> alive = new HashMap<>();
        long held = (long) ROOM_HELD.getVolatile(header);
        long heldBy = (long) RingLayout.ROOM_HELD_STAMP.getVolatile(header);
        if (held != 0 && !alive.computeIfAbsent(new Claimant((int) (held >>> 32), heldBy),
                c -> ProcessIdentity.alive(c.pid(), c.stamp()))
                && ROOM_HELD.compareAndSet(header, held, 0L)) {
            wakeProducers(); // a put that held room and died: the room is everyone's again
        }
        long headWord = (long) HEAD.getVolatile(header);
        long h = position(headWord);
        long v = seqAt(h);
        if (v < 0 && !isReading(v) && lapMatches(v, h) && dead(v, h, alive)) {
            int k = claimedSlots(v, h);
            if (casSeq(h, v, claim(true, PID, k, h, slots) | RECOVERED)) {
                // A producer killed between its claim and moving the tail past it left the tail
                // at h: moved here, before the head, or the tail would stay behind the head and
                // its slot, freed for the next lap, refuse every later claim (attack 25: an
                // empty queue that refused every put once all its producers were killed).
                // Counted as put by the move of the tail past it, and as taken by this move of
                // the head: its task, which nobody will do, is done here. (A recoverer killed
                // before this line leaves it undone: the one that then frees its claim cannot
                // tell it from a consumer's, whose item's task is the consumer's to do.)
                long tailWord = (long) TAIL.getVolatile(header);
                if (position(tailWord) == h) {
                    TAIL.compareAndSet(header, tailWord, advanced(tailWord, k));
                }
                HEAD.compareAndSet(header, headWord, advanced(headWord, k));
                if (joinable) {
                    taskDone(false);
                }
                free(h, k);
                // Consumers asleep behind the record now find the items after it: woken, not
                // left to their next look (100 ms; a get with a shorter timeout gave up).
                consumers.bumpAndWakeAll();
            }
        }
        long t = position((long) TAIL.getVolatile(header));
        for (long i = 0; i < slots; i++) {
            long w = seqAt(i);
            if (!isReading(w) || !dead(w, i, alive)) {
                continue;
            }
            // The record started at slot i in the tail's lap or the one before it.
            long lapLow = w & FIELD_MASK;
            long lap = t / slots;
            if ((lap & FIELD_MASK) != lapLow) {
                lap--; // the lap before the first one (-1) is the last one before the wrap
            }
            long p = position(lap * slots + i);
            if (!lapMatches(w, p)) {
                continue;
            }
            int k = claimedSlots(w, p);
            if (casSeq(p, w, claim(true, PID, k, p, slots) | RECOVERED)) {
                // The tail too, first: the claim may be one a recovery took over from a
                // producer and died with before it moved the tail past it (see above).
                long tailWord = (long) TAIL.getVolatile(header);
                if (position(tailWord) == p) {
                    TAIL.compareAndSet(header, tailWord, advanced(tailWord, k));
                }
                long word = (long) HEAD.getVolatile(header);
                if (position(word) == p) {
                    HEAD.compareAndSet(header, word, advanced(word, k));
                }
                free(p, k);
            }
        }
    }

    /** A claimant: a pid and its stamp (0: not known). */
    private record Claimant(int pid, long stamp) {}

    /**
     * Whether the claimant of claim word {@code v} at {@code position} is dead: its pid with
     * the stamp beside the word, or its pid alone while no stamp is written or when the claim
     * was taken over (the stamp is the dead claimant's then).
     */
    private boolean dead(long v, long position, Map<Claimant, Boolean> alive) {
        int pid = pidOf(v);
        if (pid == 0) {
            return false;
        }
        long stamp = (v & RECOVERED) != 0 ? 0 : claimantAt(position);
        if (pid == PID && (stamp == 0 || stamp == ProcessIdentity.STAMP)) {
            return false;
        }
        return !alive.computeIfAbsent(new Claimant(pid, stamp),
                c -> ProcessIdentity.alive(c.pid(), c.stamp()));
    }

    // ---- JoinableQueue

    /**
     * One task done. {@code strict}: throws when none is unfinished (a user's extra call);
     * otherwise (undoing this library's own count) it stops at zero.
     *
     * <p>The tasks put are the tail's count, so a task is done by counting it in {@code done}
     * when fewer are done than put. The count is zero at this CAS if the tail's count was the
     * same before and after it (a put moves the tail); when a put came between the two looks,
     * it may have come before the CAS (never zero) or after (zero for that instant): taken as
     * before, and the joiners are not woken for it.
     */
    public void taskDone(boolean strict) {
        while (true) {
            int d = DONE.getVolatile(header);
            int put = records((long) TAIL.getVolatile(header));
            if (between(d, put) == 0) {
                if (strict) {
                    throw new IllegalStateException("taskDone() called more times than there"
                            + " were items put on the queue");
                }
                return;
            }
            int next = (d + 1) & RingLayout.RECORD_COUNT_MASK;
            if (DONE.compareAndSet(header, d, next)) {
                if (next == put && records((long) TAIL.getVolatile(header)) == put) {
                    // Every zero, whether anyone sleeps yet or not: a joiner that read the epoch
                    // before it returns, though the count is up again by the time it looks.
                    JOIN_EPOCH.getAndAdd(header, 1);
                    joiners.wake(Integer.MAX_VALUE);
                }
                return;
            }
        }
    }

    /**
     * Counts a taken item that could not be delivered (it does not deserialize here) as done:
     * nobody will ever get it, so a JoinableQueue's join() would otherwise wait for good.
     */
    public void undelivered() {
        if (joinable) {
            taskDone(false);
        }
    }

    /** Items put and not yet marked done. */
    public int unfinished() {
        // Done first: it never passes the tail's count, so the difference is never negative.
        int d = DONE.getVolatile(header);
        return between(d, records((long) TAIL.getVolatile(header)));
    }

    /**
     * Waits until every item put has been marked done: returns once the count has been zero
     * since the call, as Python's does, though items put since have raised it again (a zero
     * that taskDone() saw, or this call itself: one that a put overtook within a taskDone() is
     * not signalled, see there). Waiting for a count seen at zero missed a zero that lasted
     * less than a joiner's wake-up.
     */
    public void join() {
        int epoch = JOIN_EPOCH.getVolatile(header);
        if (unfinished() == 0) {
            return;
        }
        // Asleep on the epoch, which only a drop to zero changes: no wake-up for each put.
        Parker.await(joiners, () -> unfinished() == 0
                || JOIN_EPOCH.getVolatile(header) != epoch ? 0 : -1,
                System.nanoTime(), -1, false, recovery);
    }
}
