package multiprocessing.internal.sync;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.ByteOrder;

import multiprocessing.internal.shm.IntField;
import multiprocessing.internal.shm.LongField;

/**
 * The shared layout of one synchronizer block: every primitive of
 * {@code multiprocessing.synchronize} keeps its whole shared state in one block of this layout
 * (a Condition also uses its lock's block). Declared once, here; every other class reaches the
 * fields through the field accessors below ({@link IntField}, {@link LongField}), never through
 * offsets of its own.
 *
 * <pre>
 *  0  int  state        futex word 1: a lock's owner pid (0 = free), a semaphore's count,
 *                       an Event's generation and flag, a Barrier's internal lock
 *  4  int  ownerTag     a lock's owner's identity beyond its pid (ProcessIdentity.tag; 0 when
 *                       free): with state, the long ownerWord, set in one atomic update
 *  8  long ownerThread  the owning thread's token: its id and its process's pid (locks)
 * 16  int  recursion    an RLock's hold count
 * 20  int  bound        a BoundedSemaphore's maximum, a Barrier's parties
 * 24  int  sequence     futex word 2: a Condition's (or a Barrier's) signal generation
 * 28  int  seqWaiters   Condition waiters not yet signalled
 * 32  int  signals      Condition signals granted and not yet taken by a waiter
 * 36  int  round        a Barrier's current round (its number, wrapping)
 * 40  int  count        a Barrier's number of parties arrived in the current round
 * 44  int  seqSleepers  threads asleep in the kernel on sequence (signal skips the wake if 0)
 * 48  int  waiters      threads of any process registered to sleep on state
 * 52  int  brokenRounds a Barrier's broken rounds: bit 0 the current one, bit k the k-th before
 * 56  int  brokenTotal  a Barrier's rounds ended broken, ever (wrapping)
 * 60  int  lastBroken   the number of the last round that ended broken
 * 64                    one cache line per block, so neighbouring locks do not share one
 * </pre>
 *
 * A zeroed block is a free lock, a semaphore of value 0, an unset Event and an empty Barrier,
 * so fresh shared memory needs no initialisation beyond the fields a primitive sets.
 */
public final class SyncLayout {
    private SyncLayout() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.unionLayout(
                    JAVA_LONG.withName("ownerWord"),
                    MemoryLayout.structLayout(
                            JAVA_INT.withName("state"),
                            JAVA_INT.withName("ownerTag")).withName("halves")).withName("head"),
            JAVA_LONG.withName("ownerThread"),
            JAVA_INT.withName("recursion"),
            JAVA_INT.withName("bound"),
            JAVA_INT.withName("sequence"),
            JAVA_INT.withName("seqWaiters"),
            JAVA_INT.withName("signals"),
            JAVA_INT.withName("round"),
            JAVA_INT.withName("count"),
            JAVA_INT.withName("seqSleepers"),
            JAVA_INT.withName("waiters"),
            JAVA_INT.withName("brokenRounds"),
            JAVA_INT.withName("brokenTotal"),
            JAVA_INT.withName("lastBroken")).withName("sync");

    /** Bytes a block occupies (a multiple of the cache line). */
    public static final long SIZE = LAYOUT.byteSize();
    /** Alignment a block needs: 8 for ownerWord and ownerThread, 4 for the futex words. */
    public static final long ALIGNMENT = LAYOUT.byteAlignment();
    /**
     * Alignment blocks are allocated with: a block is one cache line ({@link #SIZE}), and two
     * synchronizers never share one (a waiter spinning on one lock would slow its neighbour's
     * every acquire).
     */
    static final long CACHE_LINE = 64;

    static final IntField STATE = new IntField(headOffset("state"));
    static final LongField OWNER_WORD = new LongField(
            LAYOUT.byteOffset(groupElement("head"), groupElement("ownerWord")));
    static final IntField WAITERS = IntField.of(LAYOUT, "waiters");
    static final LongField OWNER_THREAD = LongField.of(LAYOUT, "ownerThread");
    static final IntField RECURSION = IntField.of(LAYOUT, "recursion");
    static final IntField BOUND = IntField.of(LAYOUT, "bound");
    static final IntField SEQUENCE = IntField.of(LAYOUT, "sequence");
    static final IntField SEQ_WAITERS = IntField.of(LAYOUT, "seqWaiters");
    static final IntField SIGNALS = IntField.of(LAYOUT, "signals");
    static final IntField ROUND = IntField.of(LAYOUT, "round");
    static final IntField COUNT = IntField.of(LAYOUT, "count");
    static final IntField SEQ_SLEEPERS = IntField.of(LAYOUT, "seqSleepers");
    static final IntField BROKEN_ROUNDS = IntField.of(LAYOUT, "brokenRounds");
    static final IntField BROKEN_TOTAL = IntField.of(LAYOUT, "brokenTotal");
    static final IntField LAST_BROKEN = IntField.of(LAYOUT, "lastBroken");

    private static long headOffset(String half) {
        return LAYOUT.byteOffset(groupElement("head"), groupElement("halves"), groupElement(half));
    }

    private static final boolean STATE_IS_LOW_HALF = ByteOrder.nativeOrder()
            == ByteOrder.LITTLE_ENDIAN;

    /**
     * The {@code ownerWord} of a lock held by process {@code pid} of identity {@code tag}:
     * {@code state} and {@code ownerTag} as the one long this machine's byte order makes of them.
     */
    static long ownerWord(int pid, int tag) {
        long p = pid & 0xFFFF_FFFFL;
        long t = tag & 0xFFFF_FFFFL;
        return STATE_IS_LOW_HALF ? t << 32 | p : p << 32 | t;
    }

    /** The {@code state} half of an {@code ownerWord}: the owner's pid. */
    static int pidOf(long ownerWord) {
        return (int) (STATE_IS_LOW_HALF ? ownerWord : ownerWord >>> 32);
    }

    /** The {@code ownerTag} half of an {@code ownerWord}. */
    static int tagOf(long ownerWord) {
        return (int) (STATE_IS_LOW_HALF ? ownerWord >>> 32 : ownerWord);
    }

    /** Checks that {@code block} can hold a synchronizer (size and alignment). */
    static MemorySegment check(MemorySegment block) {
        if (block.byteSize() < SIZE || block.address() % ALIGNMENT != 0) {
            throw new IllegalArgumentException("a synchronizer block needs " + SIZE
                    + " bytes aligned to " + ALIGNMENT + ": " + block);
        }
        return block.asSlice(0, SIZE);
    }
}
