package multiprocessing.internal.shm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * An int field of a shared-memory structure, declared by name in the structure's
 * {@link StructLayout} and accessed at its offset, in a segment that holds the structure at its
 * start or at a base offset.
 *
 * <p>Implementation note. The layout's own var handle of a field ({@code layout.varHandle(path)},
 * its base offset fixed with {@code MethodHandles.insertCoordinates}) is an adapted handle: the
 * first use of each access mode in a JVM spins method handle forms and bound-handle species,
 * which the AOT cache does not keep (a fresh child that took a lock and put into a queue spent
 * ~10 ms on them; bench/RESULTS.md, twentieth session). Here every field goes through the JDK's
 * plain int view of a segment ({@code JAVA_INT.varHandle()}, coordinates segment and offset),
 * whose access modes are pre-generated, with the same checks (bounds, alignment, liveness).
 *
 * @param offset the field's offset within the structure
 */
public record IntField(long offset) {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    /**
     * The field {@code name} of {@code layout}.
     *
     * @throws IllegalArgumentException if the layout has no int field of that name
     */
    public static IntField of(StructLayout layout, String name) {
        MemoryLayout member = layout.select(MemoryLayout.PathElement.groupElement(name));
        if (!(member instanceof ValueLayout.OfInt)) {
            throw new IllegalArgumentException(name + " is no int field of " + layout);
        }
        return new IntField(layout.byteOffset(MemoryLayout.PathElement.groupElement(name)));
    }

    /**
     * The field's own four bytes in {@code s}, as a segment of their own: a futex word, or a
     * sleepers count, for {@code Parker.Site}.
     */
    public MemorySegment word(MemorySegment s) {
        return s.asSlice(offset, ValueLayout.JAVA_INT.byteSize());
    }

    public int get(MemorySegment s) {
        return (int) INT.get(s, offset);
    }

    public void set(MemorySegment s, int value) {
        INT.set(s, offset, value);
    }

    public int getVolatile(MemorySegment s) {
        return (int) INT.getVolatile(s, offset);
    }

    public void setVolatile(MemorySegment s, int value) {
        INT.setVolatile(s, offset, value);
    }

    /**
     * A release store: earlier reads and writes stay before it; unlike {@link #setVolatile},
     * later reads may pass it (no StoreLoad fence, ~6 ns on x86).
     */
    public void setRelease(MemorySegment s, int value) {
        INT.setRelease(s, offset, value);
    }

    public boolean compareAndSet(MemorySegment s, int expected, int value) {
        return INT.compareAndSet(s, offset, expected, value);
    }

    public int getAndAdd(MemorySegment s, int delta) {
        return (int) INT.getAndAdd(s, offset, delta);
    }

    public int getAndSet(MemorySegment s, int value) {
        return (int) INT.getAndSet(s, offset, value);
    }

    /** As {@link #get(MemorySegment)}, for the structure at {@code base} in {@code s}. */
    public int get(MemorySegment s, long base) {
        return (int) INT.get(s, base + offset);
    }

    /** As {@link #set(MemorySegment, int)}, for the structure at {@code base} in {@code s}. */
    public void set(MemorySegment s, long base, int value) {
        INT.set(s, base + offset, value);
    }

    /** As {@link #getVolatile(MemorySegment)}, for the structure at {@code base} in {@code s}. */
    public int getVolatile(MemorySegment s, long base) {
        return (int) INT.getVolatile(s, base + offset);
    }

    /** As {@link #setVolatile(MemorySegment, int)}, for the structure at {@code base}. */
    public void setVolatile(MemorySegment s, long base, int value) {
        INT.setVolatile(s, base + offset, value);
    }

    /** As {@link #compareAndSet(MemorySegment, int, int)}, for the structure at {@code base}. */
    public boolean compareAndSet(MemorySegment s, long base, int expected, int value) {
        return INT.compareAndSet(s, base + offset, expected, value);
    }
}
