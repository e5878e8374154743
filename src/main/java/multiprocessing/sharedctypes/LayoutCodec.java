package multiprocessing.sharedctypes;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.UnionLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import multiprocessing.internal.reduction.Reducer;

/**
 * Writes a {@link MemoryLayout} as plain fields and reads it back: the JDK's layout classes are
 * internal and not serializable, and a struct value's receiver needs the same field names and
 * offsets to read what the sender wrote.
 */
final class LayoutCodec {
    private LayoutCodec() {}

    private static final int VALUE = 0, STRUCT = 1, UNION = 2, SEQUENCE = 3, PADDING = 4;
    private static final List<ValueLayout> CARRIERS = List.of(ValueLayout.JAVA_BOOLEAN,
            ValueLayout.JAVA_BYTE, ValueLayout.JAVA_CHAR, ValueLayout.JAVA_SHORT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_FLOAT,
            ValueLayout.JAVA_DOUBLE, ValueLayout.ADDRESS);

    static void write(MemoryLayout layout, Reducer.Out out) {
        switch (layout) {
            case ValueLayout v -> {
                out.writeInt(VALUE);
                int carrier = -1;
                for (int k = 0; k < CARRIERS.size(); k++) {
                    if (CARRIERS.get(k).carrier() == v.carrier()) {
                        carrier = k;
                    }
                }
                out.writeInt(carrier);
                out.writeBoolean(v.order() == ByteOrder.BIG_ENDIAN);
            }
            case StructLayout s -> writeGroup(STRUCT, s, out);
            case UnionLayout u -> writeGroup(UNION, u, out);
            case SequenceLayout s -> {
                out.writeInt(SEQUENCE);
                out.writeLong(s.elementCount());
                write(s.elementLayout(), out);
            }
            case PaddingLayout p -> {
                out.writeInt(PADDING);
                out.writeLong(p.byteSize());
            }
            default -> throw new IllegalArgumentException("unsupported layout " + layout);
        }
        out.writeLong(layout.byteAlignment());
        out.writeBoolean(layout.name().isPresent());
        if (layout.name().isPresent()) {
            out.writeString(layout.name().get());
        }
    }

    private static void writeGroup(int kind, GroupLayout g, Reducer.Out out) {
        out.writeInt(kind);
        out.writeInt(g.memberLayouts().size());
        for (MemoryLayout m : g.memberLayouts()) {
            write(m, out);
        }
    }

    static MemoryLayout read(Reducer.In in) {
        int kind = in.readInt();
        MemoryLayout layout = switch (kind) {
            case VALUE -> {
                ValueLayout v = CARRIERS.get(in.readInt());
                yield v.withOrder(in.readBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            }
            case STRUCT, UNION -> {
                int n = in.readInt();
                List<MemoryLayout> members = new ArrayList<>(n);
                for (int k = 0; k < n; k++) {
                    members.add(read(in));
                }
                MemoryLayout[] array = members.toArray(MemoryLayout[]::new);
                yield kind == STRUCT ? MemoryLayout.structLayout(array)
                        : MemoryLayout.unionLayout(array);
            }
            case SEQUENCE -> {
                long count = in.readLong();
                yield MemoryLayout.sequenceLayout(count, read(in));
            }
            case PADDING -> MemoryLayout.paddingLayout(in.readLong());
            default -> throw new IllegalStateException("bad layout kind " + kind);
        };
        layout = layout.withByteAlignment(in.readLong());
        if (in.readBoolean()) {
            layout = layout.withName(in.readString());
        }
        return layout;
    }
}
