package multiprocessing.internal.shm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A long field of a shared-memory structure, declared by name in the structure's
 * {@link StructLayout} and accessed at its offset, in a segment that holds the structure at its
 * start or at a base offset.
 *
 * <p>Implementation note. The layout's own var handle of a field ({@code layout.varHandle(path)},
 * its base offset fixed with {@code MethodHandles.insertCoordinates}) is an adapted handle: the
 * first use of each access mode in a JVM spins method handle forms and bound-handle species,
 * which the AOT cache does not keep (a fresh child that took a lock and put into a queue spent
 * ~10 ms on them; bench/RESULTS.md, twentieth session). Here every field goes through the JDK's
 * plain long view of a segment ({@code JAVA_LONG.varHandle()}, coordinates segment and offset),
 * whose access modes are pre-generated, with the same checks (bounds, alignment, liveness).
 *
 * @param offset the field's offset within the structure
 */
public record LongField(long offset) {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    /**
     * The field {@code name} of {@code layout}.
     *
     * @throws IllegalArgumentException if the layout has no long field of that name
     */
    public static LongField of(StructLayout layout, String name) {
        MemoryLayout member = layout.select(MemoryLayout.PathElement.groupElement(name));
        if (!(member instanceof ValueLayout.OfLong)) {
            throw new IllegalArgumentException(name + " is no long field of " + layout);
        }
        return new LongField(layout.byteOffset(MemoryLayout.PathElement.groupElement(name)));
    }

    public long get(MemorySegment s) {
        return (long) LONG.get(s, offset);
    }

    public void set(MemorySegment s, long value) {
        LONG.set(s, offset, value);
    }

    public long getVolatile(MemorySegment s) {
        return (long) LONG.getVolatile(s, offset);
    }

    public void setVolatile(MemorySegment s, long value) {
        LONG.setVolatile(s, offset, value);
    }

    /**
     * A release store: earlier reads and writes stay before it; unlike {@link #setVolatile},
     * later reads may pass it (no StoreLoad fence, ~6 ns on x86).
     */
    public void setRelease(MemorySegment s, long value) {
        LONG.setRelease(s, offset, value);
    }

    public boolean compareAndSet(MemorySegment s, long expected, long value) {
        return LONG.compareAndSet(s, offset, expected, value);
    }

    public long getAndAdd(MemorySegment s, long delta) {
        return (long) LONG.getAndAdd(s, offset, delta);
    }

    public long getAndSet(MemorySegment s, long value) {
        return (long) LONG.getAndSet(s, offset, value);
    }

    /** As {@link #get(MemorySegment)}, for the structure at {@code base} in {@code s}. */
    public long get(MemorySegment s, long base) {
        return (long) LONG.get(s, base + offset);
    }

    /** As {@link #set(MemorySegment, long)}, for the structure at {@code base} in {@code s}. */
    public void set(MemorySegment s, long base, long value) {
        LONG.set(s, base + offset, value);
    }

    /** As {@link #getVolatile(MemorySegment)}, for the structure at {@code base} in {@code s}. */
    public long getVolatile(MemorySegment s, long base) {
        return (long) LONG.getVolatile(s, base + offset);
    }

    /** As {@link #setVolatile(MemorySegment, long)}, for the structure at {@code base}. */
    public void setVolatile(MemorySegment s, long base, long value) {
        LONG.setVolatile(s, base + offset, value);
    }

    /** As {@link #setRelease(MemorySegment, long)}, for the structure at {@code base}. */
    public void setRelease(MemorySegment s, long base, long value) {
        LONG.setRelease(s, base + offset, value);
    }

    /** As {@link #compareAndSet(MemorySegment, long, long)}, for the structure at {@code base}. */
    public boolean compareAndSet(MemorySegment s, long base, long expected, long value) {
        return LONG.compareAndSet(s, base + offset, expected, value);
    }
}
