package multiprocessing.internal.queue;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.SharedMemoryCalls;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.tracker.ResourceTracker;

import org.apache.fory.memory.MemoryAllocator;
import org.apache.fory.memory.MemoryBuffer;

/**
 * Objects in and out of a {@link Ring}: serialized into a per-thread off-heap buffer and copied
 * into the ring, or, when larger than the ring takes inline, handed over in a shared-memory
 * object of their own whose name travels in the ring.
 *
 * <h2>Implementation note</h2>
 * Each thread serializes into a 1 MiB native buffer, so a put allocates nothing on the Java
 * heap. When Fory outgrows it, the grow request comes to the global allocator installed here
 * (Fory's {@code MemoryBuffer.setGlobalAllocator}; grows of every other buffer go to Fory's
 * own allocator, unchanged): the buffer is re-pointed at a new shared-memory object of 2 GiB,
 * which tmpfs backs only where it is written, and Fory goes on writing there. That object
 * then <em>is</em> the message: nothing is copied, and the Java heap holds only the object
 * being put. The consumer maps it, unlinks its name at once, and deserializes straight from
 * the mapping, so its heap holds only the object it gets. Messages between the ring's inline
 * limit and 1 MiB are copied into an object of their exact size.
 *
 * <p>A large message's object is registered with the resource tracker by its producer and
 * unregistered by its consumer; one that nobody takes is unlinked by the tracker once every
 * process of the program has exited. It outlives its producer: a producer may exit as soon
 * as its put returns.
 */
public final class Messages {
    private Messages() {}

    static final int SCRATCH_BYTES = 1 << 20;
    /** The size of a large message's object: sparse, so only what is written takes memory. */
    static final long LARGE_CAPACITY = Integer.MAX_VALUE & ~4095L;
    private static final String LARGE_PREFIX = "/mpq_";

    private static final class Scratch {
        final MemorySegment base = Arena.global().allocate(SCRATCH_BYTES, 64);
        final MemoryBuffer buffer = MemoryBuffer.fromByteBuffer(base.asByteBuffer());
        final Ring.Sink sink = new Ring.Sink();
        final MemoryBuffer readBuffer = MemoryBuffer.fromByteArray(new byte[0]);
        boolean serializing;
        String largeName;
        Arena largeMapping;
        MemorySegment large;

        void resetBuffer() {
            buffer.initByteBuffer(base.asByteBuffer(), SCRATCH_BYTES);
            buffer.writerIndex(0);
        }

        /** Drops a large object this thread created and did not hand over. */
        void discardLarge(boolean unlink) {
            if (largeMapping != null) {
                largeMapping.close();
            }
            if (unlink && largeName != null) {
                unlinkQuietly(largeName);
            }
            largeName = null;
            largeMapping = null;
            large = null;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    static {
        MemoryAllocator fory = MemoryBuffer.getGlobalAllocator();
        MemoryBuffer.setGlobalAllocator(new MemoryAllocator() {
            @Override
            public MemoryBuffer allocate(int initialCapacity) {
                return fory.allocate(initialCapacity);
            }

            @Override
            public void grow(MemoryBuffer buffer, int needed) {
                Scratch s = SCRATCH.get();
                if (s.serializing && s.buffer == buffer && s.large == null
                        && needed <= LARGE_CAPACITY) {
                    growIntoSharedMemory(s, buffer);
                } else {
                    fory.grow(buffer, needed);
                }
            }
        });
    }

    private static void growIntoSharedMemory(Scratch s, MemoryBuffer buffer) {
        String name = createLarge(LARGE_CAPACITY);
        Arena mapping = Arena.ofShared();
        try {
            s.large = map(name, LARGE_CAPACITY, mapping);
        } catch (RuntimeException e) {
            mapping.close();
            unlinkQuietly(name);
            throw e;
        }
        s.largeName = name;
        s.largeMapping = mapping;
        MemorySegment.copy(s.base, 0, s.large, 0, Math.min(SCRATCH_BYTES, buffer.size()));
        buffer.initByteBuffer(s.large.asByteBuffer(), (int) LARGE_CAPACITY);
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
        Scratch s = SCRATCH.get();
        int length;
        s.buffer.writerIndex(0);
        s.serializing = true;
        try {
            Serialization.serialize(value, handles(), s.buffer);
            length = s.buffer.writerIndex();
        } catch (RuntimeException | Error e) {
            s.discardLarge(true);
            s.resetBuffer();
            throw e;
        } finally {
            s.serializing = false;
        }
        if (s.large == null && length <= ring.largestInline()) {
            s.buffer.writerIndex(0);
            return ring.put(s.base, length, 0, timeoutNanos);
        }
        String name;
        if (s.large != null) {
            name = s.largeName;
            s.discardLarge(false);
            s.resetBuffer();
        } else {
            s.buffer.writerIndex(0);
            name = createLarge(length);
            try (Arena mapping = Arena.ofConfined()) {
                MemorySegment.copy(s.base, 0, map(name, length, mapping), 0, length);
            } catch (RuntimeException e) {
                unlinkQuietly(name);
                throw e;
            }
        }
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ref = arena.allocate(LARGE_REF_NAME + utf8.length, LARGE_REF.byteAlignment());
            ref.set(JAVA_LONG, LARGE_REF_LENGTH, length);
            MemorySegment.copy(utf8, 0, ref, JAVA_BYTE, LARGE_REF_NAME, utf8.length);
            boolean put = false;
            try {
                put = ring.put(ref, ref.byteSize(), RingLayout.FLAG_LARGE, timeoutNanos);
                return put;
            } finally {
                if (!put) {
                    unlinkQuietly(name);
                }
            }
        }
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
        Scratch s = SCRATCH.get();
        Ring.Sink sink = s.sink;
        if (!ring.take(sink, timeoutNanos)) {
            return NONE;
        }
        if ((sink.flags & RingLayout.FLAG_LARGE) != 0) {
            return getLarge(sink);
        }
        s.readBuffer.initHeapBuffer(sink.buffer, 0, sink.length);
        s.readBuffer.readerIndex(0);
        return Serialization.deserialize(s.readBuffer, Handles.received(new int[0]));
    }

    private static Object getLarge(Ring.Sink sink) {
        if (sink.length <= LARGE_REF_NAME) {
            throw new IllegalStateException("the queue's ring is corrupted: a large message's "
                    + "record of " + sink.length + " bytes names no shared memory");
        }
        long length = MemorySegment.ofArray(sink.buffer).get(UNALIGNED_LONG, LARGE_REF_LENGTH);
        String name = new String(sink.buffer, (int) LARGE_REF_NAME,
                sink.length - (int) LARGE_REF_NAME, StandardCharsets.UTF_8);
        try (Arena mapping = Arena.ofShared()) {
            MemorySegment msg;
            try {
                msg = map(name, length, mapping);
            } finally {
                unlinkQuietly(name);
            }
            MemoryBuffer in = MemoryBuffer.fromByteBuffer(msg.asByteBuffer());
            return Serialization.deserialize(in, Handles.received(new int[0]));
        }
    }

    private static String createLarge(long size) {
        SharedMemoryCalls.Created created;
        try {
            created = SharedMemoryCalls.createUnique(LARGE_PREFIX);
        } catch (ErrnoException e) {
            throw new IllegalStateException("cannot create shared memory for a large message: "
                    + e.getMessage(), e);
        }
        try {
            ResourceTracker.register(created.name());
            SharedMemoryCalls.ftruncate(created.fd(), size);
            return created.name();
        } catch (ErrnoException e) {
            unlinkQuietly(created.name());
            throw new IllegalStateException("cannot size shared memory for a large message"
                    + " (" + size + " bytes): " + e.getMessage(), e);
        } finally {
            Posix.closeQuietly(created.fd());
        }
    }

    private static MemorySegment map(String name, long size, Arena mapping) {
        int fd;
        try {
            fd = SharedMemoryCalls.shmOpen(name, SharedMemoryCalls.O_RDWR, 0);
        } catch (ErrnoException e) {
            throw new IllegalStateException("the shared memory of a large message is gone ("
                    + name + "): " + e.getMessage(), e);
        }
        try {
            long actual = SharedMemoryCalls.requirePrivate(fd, "the shared memory of a large "
                    + "message (" + name + ")");
            if (size < 0 || size > actual) {
                throw new IllegalStateException("a large message's record says " + size
                        + " bytes, its shared memory " + name + " has " + actual
                        + ": a corrupted queue ring?");
            }
            return SharedMemoryCalls.mmapShared(fd, size, mapping);
        } catch (ErrnoException e) {
            throw new IllegalStateException("cannot map a large message (" + name + ", "
                    + size + " bytes): " + e.getMessage(), e);
        } finally {
            Posix.closeQuietly(fd);
        }
    }

    private static void unlinkQuietly(String name) {
        try {
            SharedMemoryCalls.shmUnlink(name);
        } catch (ErrnoException ignored) {
            // already unlinked
        }
        ResourceTracker.unregister(name);
    }
}
