package multiprocessing.internal.queue;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;

import multiprocessing.internal.shm.IntField;
import multiprocessing.internal.shm.LongField;

/**
 * The shared layout of a queue's ring, declared once (in the manner of Agrona's
 * {@code RingBufferDescriptor} and {@code RecordDescriptor}); {@link Ring} reaches every field
 * through the field accessors here ({@link IntField}, {@link LongField}).
 *
 * <pre>
 * header (one cache line per group of fields written by different parties)
 *    0 long tail          producers' claim position and items put (see below)
 *    8 long roomHeld      a producer waiting for several slots: its pid << 32 | their number
 *                         (0: none); the others leave that many free slots at the tail to it
 *   16 long roomHeldStamp its identity stamp (ProcessIdentity.stamp), 0 before it is written
 *   64 long head          consumers' claim position and items taken (see below)
 *  128 int  done          JoinableQueue: tasks done (taskDone()), modulo 2^24
 *  132 int  maxsize       0: no bound but the ring's room
 *  136 int  joinSleepers  threads asleep in join() (futex word: joinEpoch)
 *  140 int  joinable      1 for a JoinableQueue (its tasks: the tail's count less done)
 *  144 int  joinEpoch     futex word of join(): one more each time taskDone() brings done
 *                         level with the tail's count (see Ring.taskDone)
 *  192 int  notEmpty      futex word consumers sleep on; a put bumps it when someone sleeps
 *  196 int  consumerSleepers
 *  256 int  notFull       futex word producers waiting for room or a place under maxsize
 *                         sleep on; a take bumps it when someone sleeps
 *  260 int  producerSleepers
 *  320 int  slots         n, a power of two
 *  324 int  slotBytes     bytes of data per slot
 *  328 int  magic
 *  384 ... header ends (HEADER_BYTES)
 * tail and head: a position in slots, modulo 2^40, in the low 40 bits (it only grows, and
 *                wraps to 0), and the records claimed there so far (put for the tail, taken
 *                for the head), modulo 2^24, in the high 24: the CAS that moves the position
 *                past a claim counts it, so the counts are exact whoever dies when
 * then  slot state [n], 16 bytes each:
 *    0 long seq           the slot's state word (see Ring)
 *    8 long claimant      the identity stamp (ProcessIdentity.stamp: start time, pid namespace)
 *                         of the process whose claim seq holds; 0 while nobody's, or before
 *                         the claimant has written it
 * then  byte data[n * slotBytes]
 * record (in the data of its first slot, continuing through the next ones, wrapping at the end)
 *    0 int  length        payload bytes
 *    4 int  flags         LARGE: the payload names a shared-memory object holding the message;
 *                         DISCARD: the producer failed while writing it, taken and dropped
 *    8 ...  payload
 * </pre>
 */
public final class RingLayout {
    private RingLayout() {}

    public static final StructLayout HEADER = MemoryLayout.structLayout(
            JAVA_LONG.withName("tail"),
            JAVA_LONG.withName("roomHeld"),
            JAVA_LONG.withName("roomHeldStamp"),
            MemoryLayout.paddingLayout(40),
            JAVA_LONG.withName("head"),
            MemoryLayout.paddingLayout(56),
            JAVA_INT.withName("done"),
            JAVA_INT.withName("maxsize"),
            JAVA_INT.withName("joinSleepers"),
            JAVA_INT.withName("joinable"),
            JAVA_INT.withName("joinEpoch"),
            MemoryLayout.paddingLayout(44),
            JAVA_INT.withName("notEmpty"),
            JAVA_INT.withName("consumerSleepers"),
            MemoryLayout.paddingLayout(56),
            JAVA_INT.withName("notFull"),
            JAVA_INT.withName("producerSleepers"),
            MemoryLayout.paddingLayout(56),
            JAVA_INT.withName("slots"),
            JAVA_INT.withName("slotBytes"),
            JAVA_INT.withName("magic"),
            MemoryLayout.paddingLayout(52)).withName("ringHeader");

    public static final StructLayout SLOT_STATE = MemoryLayout.structLayout(
            JAVA_LONG.withName("seq"),
            JAVA_LONG.withName("claimant")).withName("slotState");

    public static final StructLayout RECORD = MemoryLayout.structLayout(
            JAVA_INT.withName("length"),
            JAVA_INT.withName("flags")).withName("record");

    public static final long HEADER_BYTES = HEADER.byteSize();
    public static final long SLOT_STATE_BYTES = SLOT_STATE.byteSize();
    public static final long RECORD_HEADER_BYTES = RECORD.byteSize();
    public static final int MAGIC = 0x51554532; // "QUE2": tail and head count records
    public static final int FLAG_LARGE = 1;
    /**
     * A record its producer could not finish writing (an Error between its claim and its
     * publication): published so that the ring goes on, and dropped by whoever takes it.
     */
    public static final int FLAG_DISCARD = 2;

    /** A slot's state word and claimant, in the slot state at {@code Ring.stateOffset(p)}. */
    static final LongField SLOT_SEQ = LongField.of(SLOT_STATE, "seq");
    static final LongField SLOT_CLAIMANT = LongField.of(SLOT_STATE, "claimant");
    static final LongField TAIL = LongField.of(HEADER, "tail");
    static final LongField ROOM_HELD = LongField.of(HEADER, "roomHeld");
    static final LongField ROOM_HELD_STAMP = LongField.of(HEADER, "roomHeldStamp");
    static final LongField HEAD = LongField.of(HEADER, "head");
    static final IntField DONE = IntField.of(HEADER, "done");
    static final IntField MAXSIZE = IntField.of(HEADER, "maxsize");
    static final IntField JOIN_SLEEPERS = IntField.of(HEADER, "joinSleepers");
    static final IntField JOINABLE = IntField.of(HEADER, "joinable");
    static final IntField JOIN_EPOCH = IntField.of(HEADER, "joinEpoch");
    static final IntField NOT_EMPTY = IntField.of(HEADER, "notEmpty");
    static final IntField CONSUMER_SLEEPERS = IntField.of(HEADER, "consumerSleepers");
    static final IntField NOT_FULL = IntField.of(HEADER, "notFull");
    static final IntField PRODUCER_SLEEPERS = IntField.of(HEADER, "producerSleepers");
    static final IntField SLOTS = IntField.of(HEADER, "slots");
    static final IntField SLOT_BYTES = IntField.of(HEADER, "slotBytes");
    static final IntField MAGIC_FIELD = IntField.of(HEADER, "magic");

    static final long LENGTH_OFFSET = offset(RECORD, "length");
    static final long FLAGS_OFFSET = offset(RECORD, "flags");

    /**
     * The bits of a position in the tail's and the head's word: 40, the fewest that leave the
     * lap of a position (modulo 2^20, in a claim word) the same modulo 2^20 across the wrap
     * with the largest ring (2^20 slots). At 10 million records a second the positions wrap
     * after 30 hours; a thread that read the tail then slept that long would find its CAS
     * succeed on a word of the same position and count (neither happens in practice).
     */
    static final int POSITION_BITS = 40;
    static final long POSITION_MASK = (1L << POSITION_BITS) - 1;
    /** The bits of the records counted in the tail's and the head's word, and of done. */
    static final int RECORD_COUNT_BITS = Long.SIZE - POSITION_BITS;
    static final int RECORD_COUNT_MASK = (1 << RECORD_COUNT_BITS) - 1;

    /** The position in a tail or head word, or {@code x} wrapped to a position. */
    static long position(long x) {
        return x & POSITION_MASK;
    }

    /** The records a tail or head word has counted, modulo 2^24. */
    static int records(long word) {
        return (int) (word >>> POSITION_BITS);
    }

    /** The tail or head word once it has moved past a record of {@code k} slots. */
    static long advanced(long word, int k) {
        return (long) (records(word) + 1) << POSITION_BITS | position(word + k);
    }

    /** {@code later - earlier} of two record counts, modulo 2^24. */
    static int between(int earlier, int later) {
        return (later - earlier) & RECORD_COUNT_MASK;
    }

    /**
     * {@code later - earlier} of two record counts read at different times, which may be
     * negative: from -2^23 to 2^23 - 1.
     */
    static int difference(int earlier, int later) {
        int unused = Integer.SIZE - RECORD_COUNT_BITS;
        return (later - earlier) << unused >> unused;
    }

    /** Bytes a ring of {@code slots} slots of {@code slotBytes} occupies. */
    public static long bytes(int slots, int slotBytes) {
        return HEADER_BYTES + SLOT_STATE_BYTES * slots + (long) slots * slotBytes;
    }

    static long seqOffset() {
        return HEADER_BYTES;
    }

    static long dataOffset(int slots) {
        return HEADER_BYTES + SLOT_STATE_BYTES * slots;
    }

    private static long offset(StructLayout layout, String field) {
        return layout.byteOffset(PathElement.groupElement(field));
    }
}
