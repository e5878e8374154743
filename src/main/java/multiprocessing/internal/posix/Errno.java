package multiprocessing.internal.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.internal.libc.Libc;

/**
 * errno for the libc layer: every downcall of the layer is linked here with
 * {@link Linker.Option#captureCallState(String...) captureCallState("errno")}, so errno is read
 * from a per-thread segment the call fills in, never from a later call that may have changed it.
 *
 * <p>Handles are linked lazily, one holder class per function, because linking the first
 * downcalls of a fresh JVM costs more than the JVM's own start: a child links only what it uses.
 */
final class Errno {
    private Errno() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
    private static final StructLayout STATE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            STATE_LAYOUT.varHandle(PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(STATE_LAYOUT));
    private static final ConcurrentHashMap<Integer, String> NAMES = new ConcurrentHashMap<>();
    private static final ConcurrentHashMap<Integer, String> TEXTS = new ConcurrentHashMap<>();

    /** Links a function whose errno matters: its handle takes the capture segment first. */
    static MethodHandle link(MemorySegment address, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(address, descriptor, CAPTURE);
    }

    /**
     * Links a libc function the jextract bindings lack, by name (they cannot be regenerated
     * without jextract, which no registry offers).
     */
    static MethodHandle linkByName(String name, FunctionDescriptor descriptor) {
        MemorySegment address = LINKER.defaultLookup().find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return LINKER.downcallHandle(address, descriptor, CAPTURE);
    }

    /** Links a variadic function (jextract gives no handle that can capture errno for those). */
    static MethodHandle linkVariadic(String name, FunctionDescriptor descriptor, int firstVariadic) {
        MemorySegment address = LINKER.defaultLookup().find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return LINKER.downcallHandle(address, descriptor,
                Linker.Option.firstVariadicArg(firstVariadic), CAPTURE);
    }

    /** This thread's capture segment, to pass as the first argument of a linked handle. */
    static MemorySegment state() {
        return STATE.get();
    }

    /** errno as the last call through {@code state} left it. */
    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    static ErrnoException error(String function, MemorySegment state) {
        return new ErrnoException(function, errno(state));
    }

    /** A downcall threw: only a bug of the layer gets here (wrong types), never a libc error. */
    static AssertionError bug(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        return new AssertionError("downcall failed unexpectedly", t);
    }

    /**
     * Loads and links what describing an error takes (the exception class, the name and text
     * lookups): when a process has run out of descriptors, loading a class from a directory or
     * a jar not yet open fails too, and the report of EMFILE would itself fail.
     */
    static void prepare() {
        new ErrnoException("prepare", 0).errnoName();
    }

    /** errno's symbolic name ({@code ENOENT}), from glibc's strerrorname_np. */
    static String name(int errno) {
        return NAMES.computeIfAbsent(errno, e -> {
            MemorySegment s = Libc.strerrorname_np(e);
            return s.equals(MemorySegment.NULL) ? "errno " + e : s.reinterpret(64).getString(0);
        });
    }

    /** strerror's text for errno. */
    static String describe(int errno) {
        return TEXTS.computeIfAbsent(errno, e -> Libc.strerror(e).reinterpret(256).getString(0));
    }
}
