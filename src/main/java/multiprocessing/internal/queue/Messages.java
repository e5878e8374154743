package multiprocessing.internal.queue;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.SharedMemoryCalls;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.shm.ShmObject;

import org.apache.fory.memory.MemoryAllocator;
import org.apache.fory.memory.MemoryBuffer;

/**
 * Objects in and out of a {@link Ring}: serialized into an off-heap buffer and copied
 * into the ring, or, when larger than the ring takes inline, handed over in a shared-memory
 * object of their own whose name travels in the ring.
 *
 * <h2>Implementation note</h2>
 * A put serializes into a 1 MiB native buffer, so it allocates nothing on the Java heap. A
 * platform thread keeps one of its own, freed with the thread (an automatic arena). A virtual
 * thread borrows one per put from a small pool ({@link Scratch#borrow}) instead: kept per
 * virtual thread, each thread that made one put took 1 MiB of native memory with it for good
 * (measured: 2,000 virtual threads that each put one item grew the process by 2 GB), as the
 * automatic arena is freed only at a GC, which native memory does not bring about. The pool
 * costs a put four atomic updates and thread-local writes, not nothing against a small put's
 * 200-300 ns, so platform threads keep theirs.
 * When Fory outgrows the buffer, the grow request comes to the global allocator installed here
 * (Fory's {@code MemoryBuffer.setGlobalAllocator}; grows of every other buffer go to Fory's
 * own allocator, unchanged): the buffer is re-pointed at a new shared-memory object of 2 GiB,
 * which tmpfs backs only where it is written, and Fory goes on writing there. That object
 * then <em>is</em> the message: nothing is copied, and the Java heap holds only the object
 * being put. The consumer maps it, unlinks its name at once, and deserializes straight from
 * the mapping, so its heap holds only the object it gets. Messages between the ring's inline
 * limit and 1 MiB are copied into an object of their exact size.
 *
 * <p>A large message's object has no name while it is written and while its producer waits
 * for room in the ring (O_TMPFILE: {@link ShmObject#createUnnamed}), so a producer killed
 * meanwhile (a full queue's put, SIGKILLed) leaves nothing in /dev/shm: the memory goes with
 * its descriptor. Once the ring has room for its record it is named, registered with the
 * resource tracker first, and put; its consumer unlinks it and unregisters it. One named and
 * never taken (its producer killed between the two, or nobody reads the queue) is unlinked by
 * the tracker once every process of the program has exited. It outlives its producer: a
 * producer may exit as soon as its put returns.
 */
public final class Messages {
    private Messages() {}

    static final int SCRATCH_BYTES = 1 << 20;
    /** The size of a large message's object: sparse, so only what is written takes memory. */
    static final long LARGE_CAPACITY = Integer.MAX_VALUE & ~4095L;
    private static final String LARGE_PREFIX = "/mpq_";
    /** What a large message's object is called in messages while it has no name. */
    private static final String LARGE_WHAT = "a large message's shared memory";
    /** The longest name {@link ShmObject#link} gives one: the prefix and 12 hex digits. */
    private static final int LARGE_NAME_MAX = LARGE_PREFIX.length() + 12;

    private static final class Scratch {
        /** Scratches kept for the next call: at most {@link #MAX_IDLE}, the rest freed. */
        private static final ConcurrentLinkedDeque<Scratch> IDLE = new ConcurrentLinkedDeque<>();
        private static final AtomicInteger IDLE_COUNT = new AtomicInteger();
        static final int MAX_IDLE = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());

        /**
         * A platform thread's own (freed with it, at a GC), or the pool's, in an arena of its
         * own so that a scratch the pool does not keep gives its memory back at once.
         */
        final Arena arena;
        final boolean own;
        final MemorySegment base;
        final MemoryBuffer buffer;
        /** Being serialized into: the grow requests of {@link #buffer} are for this scratch. */
        boolean serializing;
        /** The large message's object, unnamed, and its descriptor (-1: none). */
        int largeFd = -1;
        ShmObject largeObject;
        MemorySegment large;
        /** Bytes of {@link #large} reserved so far: the buffer's capacity. */
        long largeReserved;

        private Scratch(boolean own) {
            this.own = own;
            this.arena = own ? Arena.ofAuto() : Arena.ofShared();
            // Mapped, not allocated: Arena.allocate zeroes all of it, 1 MiB touched in every
            // process that puts (~2 ms of a fresh child's first put, and its memory), where a
            // put writes only its message's bytes.
            this.base = mapScratch(arena);
            this.buffer = MemoryBuffer.fromByteBuffer(base.asByteBuffer());
        }

        private static MemorySegment mapScratch(Arena arena) {
            try {
                return multiprocessing.internal.posix.SharedMemoryCalls.mmapPrivate(
                        SCRATCH_BYTES, arena);
            } catch (multiprocessing.internal.posix.ErrnoException e) {
                return arena.allocate(SCRATCH_BYTES, 64); // out of mappings: as before
            }
        }

        /**
         * A scratch for one put, given back with {@link #giveBack}: the platform thread's own
         * unless it is in use (a reducer that puts while it is serialized), else the pool's.
         */
        static Scratch borrow(boolean pooled) {
            if (!pooled && !Thread.currentThread().isVirtual()) {
                Scratch mine = OWN.get();
                if (!mine.serializing) {
                    return mine;
                }
            }
            Scratch s = IDLE.pollFirst();
            if (s == null) {
                return new Scratch(false);
            }
            IDLE_COUNT.decrementAndGet();
            return s;
        }

        /** Gives a pool's scratch back, once per {@link #borrow}; keeps a thread's own. */
        void giveBack() {
            if (own) {
                return;
            }
            if (IDLE_COUNT.incrementAndGet() <= MAX_IDLE) {
                IDLE.offerFirst(this); // the most recently used first: its pages are warm
            } else {
                IDLE_COUNT.decrementAndGet();
                arena.close();
            }
        }

        void resetBuffer() {
            buffer.initByteBuffer(base.asByteBuffer(), SCRATCH_BYTES);
            buffer.writerIndex(0);
        }

        /**
         * Unmaps the large object this thread wrote, and drops it unless its descriptor was
         * handed over ({@link #handOverLarge}): unnamed, it goes with them.
         */
        void discardLarge() {
            if (largeObject != null) {
                largeObject.close();
            }
            if (largeFd >= 0) {
                Posix.closeQuietly(largeFd);
            }
            largeFd = -1;
            largeObject = null;
            large = null;
            largeReserved = 0;
        }

        /** The large object's descriptor, now the caller's; unmapped here. */
        int handOverLarge() {
            int fd = largeFd;
            largeFd = -1;
            discardLarge();
            return fd;
        }
    }

    /**
     * Where a get copies a record and reads it from: on the Java heap only, so a thread's own
     * (a virtual thread's too) goes with the thread.
     */
    private static final class Reader {
        final Ring.Sink sink = new Ring.Sink();
        final MemoryBuffer readBuffer = MemoryBuffer.fromByteArray(new byte[0]);
    }

    private static final ThreadLocal<Reader> READER = ThreadLocal.withInitial(Reader::new);

    /** A platform thread's own scratch. */
    private static final ThreadLocal<Scratch> OWN = ThreadLocal.withInitial(() -> new Scratch(true));
    /** The pool's scratch this thread is serializing into, for the grow requests of its buffer. */
    private static final ThreadLocal<Scratch> SERIALIZING = new ThreadLocal<>();

    /** The scratch whose buffer is {@code buffer}, which this thread is serializing into. */
    private static Scratch serializingInto(MemoryBuffer buffer) {
        if (!Thread.currentThread().isVirtual()) {
            Scratch mine = OWN.get();
            if (mine.serializing && mine.buffer == buffer) {
                return mine;
            }
        }
        Scratch s = SERIALIZING.get();
        return s != null && s.buffer == buffer ? s : null;
    }

    static {
        MemoryAllocator fory = MemoryBuffer.getGlobalAllocator();
        MemoryBuffer.setGlobalAllocator(new MemoryAllocator() {
            @Override
            public MemoryBuffer allocate(int initialCapacity) {
                return fory.allocate(initialCapacity);
            }

            @Override
            public void grow(MemoryBuffer buffer, int needed) {
                Scratch s = serializingInto(buffer);
                if (s != null && needed > LARGE_CAPACITY && s.large != null) {
                    // Fory's own grow would move the bytes to the Java heap, and the object
                    // handed over would hold only those written before: put, then unreadable.
                    throw new IllegalArgumentException("cannot put an item of more than "
                            + LARGE_CAPACITY + " bytes serialized into a queue");
                }
                if (s != null && needed <= LARGE_CAPACITY) {
                    if (s.large == null) {
                        growIntoSharedMemory(s, buffer, needed);
                    } else {
                        reserveMore(s, buffer, needed);
                    }
                } else {
                    fory.grow(buffer, needed);
                }
            }
        });
    }

    /**
     * Moves a message that outgrew the scratch buffer into a shared-memory object sized for the
     * largest message but reserved only as far as the buffer reaches, doubling: no page past
     * the reservation is ever written, so a full /dev/shm fails the put, saying so, rather than
     * a SIGBUS as a page finds no room.
     */
    private static void growIntoSharedMemory(Scratch s, MemoryBuffer buffer, int needed) {
        ShmObject.Unnamed large;
        try {
            large = ShmObject.createUnnamed(LARGE_WHAT, LARGE_CAPACITY, false);
        } catch (ErrnoException e) {
            throw new IllegalStateException("cannot create shared memory for a large message: "
                    + e.getMessage(), e);
        }
        s.largeFd = large.fd();
        s.largeObject = large.object();
        s.large = large.object().segment();
        try {
            reserveMore(s, buffer, Math.max(needed, 2L * SCRATCH_BYTES));
        } catch (RuntimeException e) {
            s.discardLarge();
            throw e;
        }
        MemorySegment.copy(s.base, 0, s.large, 0, Math.min(SCRATCH_BYTES, buffer.size()));
    }

    private static void reserveMore(Scratch s, MemoryBuffer buffer, long needed) {
        long capacity = Math.min(LARGE_CAPACITY,
                (Math.max(needed, 2 * s.largeReserved) + 4095) & ~4095L);
        try {
            ShmObject.reserve(s.largeFd, LARGE_WHAT, capacity);
        } catch (ErrnoException e) {
            throw new IllegalStateException("cannot reserve " + capacity + " bytes of shared"
                    + " memory for a large message: " + e.getMessage(), e);
        }
        s.largeReserved = capacity;
        buffer.initByteBuffer(s.large.asByteBuffer(), (int) capacity);
    }

    private static Handles handles() {
        return Handles.refusing("a queue cannot carry file descriptors");
    }

    /**
     * Serializes {@code value} (before anything is claimed, so a value that cannot be written
     * fails here and leaves the ring untouched) and puts it.
     *
     * @return false if the time ran out
     */
    public static boolean put(Ring ring, Object value, long timeoutNanos) {
        return put(ring, value, timeoutNanos, false);
    }

    /**
     * As {@link #put(Ring, Object, long)}; {@code pooled}: borrow the buffer from the pool even
     * on a platform thread (a manager's calls: small, from any number of threads, and a round
     * trip beside which the pool's cost does not show).
     */
    public static boolean put(Ring ring, Object value, long timeoutNanos, boolean pooled) {
        long start = timeoutNanos > 0 ? System.nanoTime() : 0;
        Scratch s = Scratch.borrow(pooled);
        Handles handles = handles();
        Object done;
        try {
            done = putOrDefer(s, ring, value, timeoutNanos, false, handles);
        } finally {
            s.giveBack(); // once, here: a deferred record no longer needs the scratch
        }
        if (done instanceof Boolean put) {
            if (!put) {
                handles.unsent(); // the time ran out: the item is dropped
            }
            return put;
        }
        long left = timeoutNanos <= 0 ? timeoutNanos
                : Math.max(0, timeoutNanos - (System.nanoTime() - start));
        return ((Deferred) done).put(ring, left, true);
    }

    /**
     * Serializes {@code value} once for a sender that waits for room in slices and looks at
     * something else between them (a manager's link: is its reader still there?). Put at once
     * if there is room; else kept, and each {@link Outgoing#put} tries again with the same
     * bytes, where a loop of {@link #put(Ring, Object, long, boolean)} would serialize the
     * value again for every slice.
     *
     * @param pooled as for {@link #put(Ring, Object, long, boolean)}
     */
    public static Outgoing outgoing(Ring ring, Object value, boolean pooled) {
        Scratch s = Scratch.borrow(pooled);
        Object done;
        try {
            done = putOrDefer(s, ring, value, 0, true, handles());
        } finally {
            s.giveBack();
        }
        return new Outgoing(done instanceof Deferred d ? d : null);
    }

    /** A message serialized by {@link #outgoing}, put or still to put; closing drops it. */
    public static final class Outgoing implements AutoCloseable {
        /** The record still to put; null once put (or dropped). */
        private Deferred pending;

        private Outgoing(Deferred pending) {
            this.pending = pending;
        }

        /**
         * Puts the message, waiting up to {@code timeoutNanos} for room.
         *
         * @return true once it is in the ring (at once, if it already is); false if the time
         *         ran out, the message kept for the next try
         */
        public boolean put(Ring ring, long timeoutNanos) {
            Deferred d = pending;
            if (d == null) {
                return true;
            }
            if (!d.put(ring, timeoutNanos, false)) {
                return false;
            }
            pending = null;
            return true;
        }

        /** Drops a message never put: a large one's shared-memory object goes. */
        @Override
        public void close() {
            Deferred d = pending;
            pending = null;
            if (d != null) {
                d.drop();
            }
        }
    }

    /**
     * A record that waits for room apart from the scratch it was serialized into: a pool's
     * scratch goes back before the wait (500 virtual threads waiting on a full queue held
     * 500 MiB), and a large message's reference never needed it. A large message's object is
     * named only once the ring has room for its record (see the class comment).
     */
    private static final class Deferred {
        /** The record's bytes, or null for a large message's reference. */
        private final byte[] inline;
        private final long largeLength;
        /** The large message's unnamed object, until {@link #largeName} names it; else -1. */
        private int largeFd;
        private String largeName;

        /** Those of the message's writing: given back what it counted if it is dropped. */
        private final Handles handles;

        Deferred(byte[] inline, int largeFd, long largeLength, Handles handles) {
            this.inline = inline;
            this.largeFd = largeFd;
            this.largeLength = largeLength;
            this.handles = handles;
        }

        /** {@code drop}: the message is dropped if the time runs out. */
        boolean put(Ring ring, long timeoutNanos, boolean drop) {
            if (inline != null) {
                boolean put = false;
                try {
                    put = ring.put(MemorySegment.ofArray(inline), inline.length, 0, timeoutNanos);
                    return put;
                } finally {
                    if (!put && drop) {
                        drop();
                    }
                }
            }
            boolean put = false;
            try {
                long start = timeoutNanos > 0 ? System.nanoTime() : 0;
                if (largeName == null) {
                    if (!ring.awaitRoom(LARGE_REF_NAME + LARGE_NAME_MAX, timeoutNanos)) {
                        return false;
                    }
                    try {
                        largeName = ShmObject.link(largeFd, LARGE_PREFIX);
                    } catch (ErrnoException e) {
                        throw new IllegalStateException("cannot name a large message's shared"
                                + " memory: " + e.getMessage(), e);
                    }
                    Posix.closeQuietly(largeFd);
                    largeFd = -1;
                }
                put = putReference(ring, timeoutNanos <= 0 ? timeoutNanos
                        : Math.max(0, timeoutNanos - (System.nanoTime() - start)));
                return put;
            } finally {
                if (!put && drop) {
                    drop();
                }
            }
        }

        private boolean putReference(Ring ring, long timeoutNanos) {
            byte[] utf8 = largeName.getBytes(StandardCharsets.UTF_8);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ref = arena.allocate(LARGE_REF_NAME + utf8.length, LARGE_REF.byteAlignment());
                ref.set(JAVA_LONG, LARGE_REF_LENGTH, largeLength);
                MemorySegment.copy(utf8, 0, ref, JAVA_BYTE, LARGE_REF_NAME, utf8.length);
                return ring.put(ref, ref.byteSize(), RingLayout.FLAG_LARGE, timeoutNanos);
            }
        }

        /**
         * Drops a message not put: a large one's object goes, named or not, and what the
         * message counted as held for its reader is given back.
         */
        void drop() {
            handles.unsent();
            if (largeFd >= 0) {
                Posix.closeQuietly(largeFd);
                largeFd = -1;
            }
            if (largeName != null) {
                unlinkQuietly(largeName);
                largeName = null;
            }
        }
    }

    /**
     * Serializes {@code value} into {@code s} and puts it if that needs no wait on a pool's
     * scratch; else returns the {@link Deferred} record to put once {@code s} is given back.
     * With {@code keep}, a record the ring has no room for now is always returned deferred
     * (for {@link #outgoing}: put at once or never serialized again).
     *
     * @return a Boolean (put, or the time ran out), or a Deferred
     */
    private static Object putOrDefer(Scratch s, Ring ring, Object value, long timeoutNanos,
            boolean keep, Handles handles) {
        try {
            return putOrDeferOnce(s, ring, value, timeoutNanos, keep, handles);
        } catch (RuntimeException | Error e) {
            handles.unsent(); // nothing was put
            throw e;
        }
    }

    private static Object putOrDeferOnce(Scratch s, Ring ring, Object value, long timeoutNanos,
            boolean keep, Handles handles) {
        int length;
        s.buffer.writerIndex(0);
        Scratch outer = s.own ? null : SERIALIZING.get(); // a reducer that puts itself
        if (!s.own) {
            SERIALIZING.set(s);
        }
        s.serializing = true;
        try {
            Serialization.serialize(value, handles, s.buffer);
            length = s.buffer.writerIndex();
        } catch (RuntimeException | Error e) {
            s.discardLarge();
            s.resetBuffer();
            throw e;
        } finally {
            s.serializing = false;
            if (!s.own) {
                if (outer == null) {
                    SERIALIZING.remove();
                } else {
                    SERIALIZING.set(outer);
                }
            }
        }
        if (s.large == null && length <= ring.largestInline()) {
            s.buffer.writerIndex(0);
            if (!keep && (s.own || timeoutNanos == 0)) {
                return ring.put(s.base, length, 0, timeoutNanos);
            }
            if (ring.put(s.base, length, 0, 0)) {
                return true;
            }
            return new Deferred(s.base.asSlice(0, length).toArray(JAVA_BYTE), -1, 0, handles);
        }
        int fd;
        if (s.large != null) {
            fd = s.handOverLarge();
            s.resetBuffer();
        } else {
            s.buffer.writerIndex(0);
            ShmObject.Unnamed large = createLarge(length);
            fd = large.fd();
            try (ShmObject written = large.object()) {
                MemorySegment.copy(s.base, 0, written.segment(), 0, length);
            } catch (RuntimeException | Error e) {
                Posix.closeQuietly(fd);
                throw e;
            }
        }
        return new Deferred(null, fd, length, handles);
    }

    /**
     * The ring record of a large message: its length, then the name of the shared-memory object
     * that holds its bytes, UTF-8, to the end of the record.
     */
    private static final StructLayout LARGE_REF = MemoryLayout.structLayout(
            JAVA_LONG.withName("length"));
    private static final long LARGE_REF_LENGTH =
            LARGE_REF.byteOffset(MemoryLayout.PathElement.groupElement("length"));
    private static final long LARGE_REF_NAME = LARGE_REF.byteSize();
    private static final ValueLayout.OfLong UNALIGNED_LONG = JAVA_LONG.withByteAlignment(1);

    /** Sentinel for "no item before the timeout" (null is a valid item). */
    public static final Object NONE = new Object();

    /** Takes one object, or {@link #NONE} if the time ran out. */
    public static Object get(Ring ring, long timeoutNanos) {
        Reader s = READER.get();
        Ring.Sink sink = s.sink;
        if (!ring.take(sink, timeoutNanos)) {
            return NONE;
        }
        try {
            if ((sink.flags & RingLayout.FLAG_LARGE) != 0) {
                return getLarge(sink);
            }
            s.readBuffer.initHeapBuffer(sink.buffer, 0, sink.length);
            s.readBuffer.readerIndex(0);
            return Serialization.deserialize(s.readBuffer, Handles.received(new int[0]));
        } catch (RuntimeException | Error e) {
            ring.undelivered();
            throw e;
        }
    }

    /**
     * Takes every record the ring holds now and reads none of them: a large message's
     * shared-memory object is unlinked, which its reader would have done. For a ring nobody will
     * read any more (a manager's link whose other side has gone, or that closes): what was put
     * there would otherwise keep its objects in /dev/shm until the resource tracker's end.
     *
     * @return how many records it dropped
     * @throws IllegalStateException if the ring itself is corrupted
     */
    public static int discard(Ring ring) {
        Ring.Sink sink = new Ring.Sink();
        int n = 0;
        while (ring.take(sink, 0)) {
            n++;
            if ((sink.flags & RingLayout.FLAG_LARGE) != 0) {
                try {
                    unlinkQuietly(largeName(sink));
                } catch (IllegalStateException corrupted) {
                    // names nothing a large message has: nothing to unlink
                }
            }
        }
        return n;
    }

    /**
     * The shared-memory object a large message's record names, checked to be one a large
     * message has: the reader unlinks it, so never one of another kind (a user's SharedMemory,
     * a heap arena), whatever wrote the record.
     *
     * @throws IllegalStateException if the record names none, or another kind
     */
    private static String largeName(Ring.Sink sink) {
        if (sink.length <= LARGE_REF_NAME) {
            throw new IllegalStateException("the queue's ring is corrupted: a large message's "
                    + "record of " + sink.length + " bytes names no shared memory");
        }
        String name = new String(sink.buffer, (int) LARGE_REF_NAME,
                sink.length - (int) LARGE_REF_NAME, StandardCharsets.UTF_8);
        if (!isLargeMessageName(name)) {
            throw new IllegalStateException("the queue's ring is corrupted: a large message's "
                    + "record names " + name + ", which is not a large message's shared memory");
        }
        return name;
    }

    private static Object getLarge(Ring.Sink sink) {
        String name = largeName(sink);
        long length = MemorySegment.ofArray(sink.buffer).get(UNALIGNED_LONG, LARGE_REF_LENGTH);
        ShmObject msg;
        try {
            msg = map(name, length);
        } finally {
            unlinkQuietly(name);
        }
        try (msg) {
            MemoryBuffer in = MemoryBuffer.fromByteBuffer(msg.segment().asByteBuffer());
            return Serialization.deserialize(in, Handles.received(new int[0]));
        }
    }

    /** Whether {@code name} is one {@link ShmObject#link} gives a large message. */
    private static boolean isLargeMessageName(String name) {
        if (!name.startsWith(LARGE_PREFIX)) {
            return false;
        }
        String hex = name.substring(LARGE_PREFIX.length());
        try {
            return !hex.isEmpty() && hex.length() <= 12
                    && Long.toHexString(Long.parseLong(hex, 16)).equals(hex);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** An unnamed shared-memory object for a large message of {@code size} bytes, reserved. */
    private static ShmObject.Unnamed createLarge(long size) {
        try {
            return ShmObject.createUnnamed(LARGE_WHAT, size);
        } catch (ErrnoException e) {
            throw new IllegalStateException("cannot create shared memory for a large message"
                    + " (" + size + " bytes): " + e.getMessage(), e);
        }
    }

    private static ShmObject map(String name, long size) {
        try {
            return ShmObject.attach(name, size, "the shared memory of a large message (" + name + ")");
        } catch (ErrnoException e) {
            throw new IllegalStateException(e.errno() == SharedMemoryCalls.ENOENT
                    ? "the shared memory of a large message is gone (" + name + "): " + e.getMessage()
                    : "cannot map a large message (" + name + ", " + size + " bytes): "
                            + e.getMessage(), e);
        }
    }

    private static void unlinkQuietly(String name) {
        ShmObject.unlinkQuietly(name);
    }
}
