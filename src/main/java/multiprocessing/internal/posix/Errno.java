package multiprocessing.internal.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.internal.libc.Libc;

/**
 * The downcall and errno of the libc layer: every function of the layer is called through one
 * downcall handle, linked with
 * {@link Linker.Option#captureCallState(String...) captureCallState("errno")}, so errno is read
 * from a per-thread segment the call fills in, never from a later call that may have changed it.
 *
 * <p>Implementation note. Linking costs more than calling: each distinct function descriptor
 * makes the FFM linker generate and load a stub class and its method handle forms, about 7 ms of
 * a fresh JVM's time and twice that of its CPU even with the AOT cache (the cache keeps classes,
 * not generated stubs); a child using a Lock and a Queue linked 11 such stubs, a parent's first
 * start 20 (bench/RESULTS.md, eighth session). So the layer has a single non-variadic handle,
 * {@link Linked#CALL}: a function's address, the capture segment, and six arguments, each
 * passed as a pointer, returning a 64-bit integer. That is a valid call of any C function of
 * at most six integer or pointer parameters returning an integer, a pointer or nothing, on the
 * System V x86-64 and AAPCS64 conventions (Linux's): such arguments travel in 64-bit general
 * registers, a callee reads only the width of its own parameter and ignores registers it has
 * none for, and the caller reads only the width of the result ({@code (int)} narrows an int's,
 * whose upper half is undefined). An integer argument is passed as {@link #arg(long)}, the
 * address {@code MemorySegment.ofAddress} makes of it (sign-extended, which an int, and the
 * small flags given to narrower parameters, satisfy); a pointer argument as its segment, which
 * the linker checks is native and keeps alive during the call, as with a typed handle. {@link
 * #function} checks each function's descriptor (jextract's, where the bindings have the
 * function) against these rules when its holder class initializes, and each call that it
 * passes as many arguments as the function takes. A variadic function (fcntl), which a
 * descriptor does not tell apart, keeps a handle of its own (fcntl and open, each
 * through {@link #linkVariadic}): a variadic call also passes the
 * count of vector registers used, which a C callee's prologue may read. The exception is
 * {@code syscall}, for the futex calls every waiting process makes: glibc's is an assembly
 * routine that reads no such count ({@link Futex} says why that call is valid).
 */
final class Errno {
    private Errno() {}

    /** Why this platform is not the layer's (see {@link #unsupported}), or null. */
    private static final String UNSUPPORTED = unsupported(System.getProperty("os.name"),
            System.getProperty("os.arch"));

    /**
     * Why the layer cannot run on {@code os} and {@code arch}, or null on Linux x86-64: the
     * bindings are jextract's from that platform's glibc headers, whose structure layouts,
     * constants and system call numbers (futex is 202 there, 98 on aarch64) the layer uses as
     * they are. Elsewhere the calls would link and run, and do something else: a JVM that said
     * it ran on aarch64 crashed (SIGSEGV) at its first start of a process. So nothing is linked
     * or called there: binding a function ({@link #function}, {@link #linkVariadic}) and
     * taking the call state ({@link #state}, the first step of nearly every call) throw an
     * {@link UnsatisfiedLinkError} naming the platform, an error, which a static initializer
     * meeting it passes on unwrapped, and which a later use of that class (a
     * {@link NoClassDefFoundError}) names as its cause.
     */
    static String unsupported(String os, String arch) {
        if ("Linux".equals(os) && ("amd64".equals(arch) || "x86_64".equals(arch))) {
            return null;
        }
        return "multiprocessing for Java runs on Linux x86-64 only, and this JVM runs on " + os
                + " " + arch + ": its libc layer is made from that platform's glibc headers"
                + " (structure layouts, constants and system call numbers, which differ"
                + " elsewhere)";
    }

    /**
     * What the layer links, made at the first call: on a platform that is not the layer's
     * ({@link #UNSUPPORTED}) nothing is linked (a JVM told it ran on aarch64 crashed in the
     * JDK's linker, which took the property's word for it).
     */
    private static final class Linked {
        static {
            Linkage.begin(); // first: the connections that look stop using the JDK's I/O
        }

        private static final Linker LINKER = Linker.nativeLinker();
        private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
        private static final StructLayout STATE_LAYOUT = Linker.Option.captureStateLayout();
        /**
         * Read as an int at its offset, not through the layout's var handle: making that handle
         * spins method handle forms, milliseconds of every fresh JVM's first native call.
         */
        private static final long ERRNO_OFFSET =
                STATE_LAYOUT.byteOffset(PathElement.groupElement("errno"));

        /** (function, capture segment, six arguments) -> the result, widened to 64 bits. */
        private static final MethodHandle CALL = LINKER.downcallHandle(FunctionDescriptor.of(
                JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS), CAPTURE);
    }

    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(Linked.STATE_LAYOUT));
    private static final ConcurrentHashMap<Integer, String> NAMES = new ConcurrentHashMap<>();
    private static final ConcurrentHashMap<Integer, String> TEXTS = new ConcurrentHashMap<>();

    /** How many arguments {@link Linked#CALL} passes after the capture segment. */
    private static final int ARGS = 6;

    private static final MemorySegment NONE = MemorySegment.NULL;

    /**
     * A libc function {@link #call} can call: its address, and how many arguments it takes
     * (each call checks that it passes as many, the check a typed handle made).
     */
    record Function(MemorySegment address, int arity) {}

    /**
     * A libc function the bindings have, once its descriptor is checked to be one {@link #call}
     * can call. A descriptor does not say whether the function is variadic: the layer's
     * variadic functions are linked with {@link #linkVariadic} instead (but {@code syscall}:
     * see {@link Futex}).
     *
     * @throws IllegalArgumentException if it is not (a bug of the layer)
     */
    static Function function(MemorySegment address, FunctionDescriptor descriptor) {
        requireSupportedPlatform();
        if (descriptor.argumentLayouts().size() > ARGS
                || !descriptor.argumentLayouts().stream().allMatch(Errno::passable)
                || !descriptor.returnLayout().map(Errno::returnable).orElse(true)) {
            throw new IllegalArgumentException("not callable through the layer's downcall: "
                    + descriptor);
        }
        return new Function(address, descriptor.argumentLayouts().size());
    }

    /**
     * A libc function the jextract bindings lack (they cannot be regenerated without jextract,
     * which no registry offers), checked as by {@link #function(MemorySegment, FunctionDescriptor)}
     * against the C declaration's descriptor.
     */
    static Function function(String name, FunctionDescriptor descriptor) {
        requireSupportedPlatform();
        return function(Linked.LINKER.defaultLookup().find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("libc has no symbol " + name)), descriptor);
    }

    private static void requireSupportedPlatform() {
        if (UNSUPPORTED != null) {
            throw new UnsatisfiedLinkError(UNSUPPORTED);
        }
    }

    /**
     * An integer or a pointer parameter, of any width up to 64 bits, not a struct or a float.
     * A parameter narrower than an int must be given a value that is not negative (clang's
     * callees assume the caller extended it to 32 bits, zero-extended if it is unsigned).
     */
    private static boolean passable(MemoryLayout layout) {
        return returnable(layout) || layout instanceof ValueLayout value
                && (value.carrier() == short.class || value.carrier() == byte.class);
    }

    /** An int, a 64-bit integer or a pointer result: {@code (int)} narrows the first. */
    private static boolean returnable(MemoryLayout layout) {
        return layout instanceof AddressLayout || layout instanceof ValueLayout value
                && (value.carrier() == int.class || value.carrier() == long.class);
    }

    /**
     * The arguments -1 to 1022 (descriptors, flags, counts of a few, timeouts of none or 0),
     * each made once: a call on a hot path then allocates nothing for them. The race of two
     * threads making the same one is harmless (a segment is an immutable value).
     */
    private static final MemorySegment[] SMALL = new MemorySegment[1024];

    /** An integer argument of {@link #call}. */
    static MemorySegment arg(long value) {
        if (value < -1 || value >= SMALL.length - 1) {
            return MemorySegment.ofAddress(value);
        }
        int i = (int) value + 1;
        MemorySegment s = SMALL[i];
        if (s == null) {
            s = MemorySegment.ofAddress(value);
            SMALL[i] = s;
        }
        return s;
    }

    /**
     * Calls {@code function} with the capture segment {@code state} and the arguments given
     * (integers as {@link #arg}); its result widened to 64 bits, to be narrowed to the C return
     * type's width ({@code (int)} for an int).
     */
    static long call(Function function, MemorySegment state) {
        return call(function, 0, state, NONE, NONE, NONE, NONE, NONE, NONE);
    }

    static long call(Function function, MemorySegment state, MemorySegment a0) {
        return call(function, 1, state, a0, NONE, NONE, NONE, NONE, NONE);
    }

    static long call(Function function, MemorySegment state, MemorySegment a0,
            MemorySegment a1) {
        return call(function, 2, state, a0, a1, NONE, NONE, NONE, NONE);
    }

    static long call(Function function, MemorySegment state, MemorySegment a0,
            MemorySegment a1, MemorySegment a2) {
        return call(function, 3, state, a0, a1, a2, NONE, NONE, NONE);
    }

    static long call(Function function, MemorySegment state, MemorySegment a0,
            MemorySegment a1, MemorySegment a2, MemorySegment a3) {
        return call(function, 4, state, a0, a1, a2, a3, NONE, NONE);
    }

    static long call(Function function, MemorySegment state, MemorySegment a0,
            MemorySegment a1, MemorySegment a2, MemorySegment a3, MemorySegment a4) {
        return call(function, 5, state, a0, a1, a2, a3, a4, NONE);
    }

    static long call(Function function, MemorySegment state, MemorySegment a0,
            MemorySegment a1, MemorySegment a2, MemorySegment a3, MemorySegment a4,
            MemorySegment a5) {
        return call(function, 6, state, a0, a1, a2, a3, a4, a5);
    }

    /**
     * As {@link #call} for a function of three arguments that reads or writes memory it finds
     * through a structure it is given (sendmsg's and recvmsg's iovec): {@code held}, that
     * memory, also goes as a fourth argument the function does not read, so that the linker
     * checks it as it checks a pointer argument (its arena open, and reachable from this thread)
     * and keeps its arena open until the call returns. A pointer stored in a structure it does
     * not see: without this, a segment whose arena was closed (by another thread meanwhile,
     * too) had its freed memory read or written by the kernel.
     */
    static long callHolding(Function function, MemorySegment state, MemorySegment held,
            MemorySegment a0, MemorySegment a1, MemorySegment a2) {
        return call(function, 3, state, a0, a1, a2, held, NONE, NONE);
    }

    /** As {@link #callHolding(Function, MemorySegment, MemorySegment, MemorySegment,
     * MemorySegment, MemorySegment)} for a function of five arguments (preadv2, pwritev2). */
    static long callHolding(Function function, MemorySegment state, MemorySegment held,
            MemorySegment a0, MemorySegment a1, MemorySegment a2, MemorySegment a3,
            MemorySegment a4) {
        return call(function, 5, state, a0, a1, a2, a3, a4, held);
    }

    private static long call(Function function, int given, MemorySegment state,
            MemorySegment a0, MemorySegment a1, MemorySegment a2, MemorySegment a3,
            MemorySegment a4, MemorySegment a5) {
        if (given != function.arity()) {
            throw new AssertionError("a function of " + function.arity() + " arguments called with "
                    + given);
        }
        try {
            return (long) Linked.CALL.invokeExact(function.address(), state, a0, a1, a2, a3, a4,
                    a5);
        } catch (IllegalStateException | WrongThreadException e) {
            // A segment's arena is closed, or confined to another thread: the caller's segment
            // (a user's, given to Connection.sendBytes), not a bug of the layer.
            throw e;
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    /** Links a variadic function (jextract gives no handle that can capture errno for those). */
    static MethodHandle linkVariadic(String name, FunctionDescriptor descriptor,
            int firstVariadic) {
        requireSupportedPlatform();
        MemorySegment address = Linked.LINKER.defaultLookup().find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return Linked.LINKER.downcallHandle(address, descriptor,
                Linker.Option.firstVariadicArg(firstVariadic), Linked.CAPTURE);
    }

    /**
     * Stores {@code target}'s address in the pointer field at {@code offset} of {@code struct}
     * (an iovec's base, a message header's iovec and control buffer), as a 64-bit integer.
     * Setting it through the field's {@code AddressLayout}, as jextract's setters do, makes that
     * layout's var handle, whose adaptation spins method handle forms the AOT cache does not
     * keep: ~3 ms of every fresh JVM's first message (bench/RESULTS.md, twentieth session).
     * The memory stays the caller's to keep alive, as with the setter (see {@link #callHolding}).
     */
    static void setPointer(MemorySegment struct, long offset, MemorySegment target) {
        if (!target.isNative()) {
            // A heap segment's address() is an offset, not a pointer (the setter refuses it too).
            throw new IllegalArgumentException("not a native segment: " + target);
        }
        struct.set(JAVA_LONG, offset, target.address());
    }

    /** This thread's capture segment, to pass as the first argument of a linked handle. */
    static MemorySegment state() {
        requireSupportedPlatform(); // the first thing of nearly every call of the layer
        return STATE.get();
    }

    /** errno as the last call through {@code state} left it. */
    static int errno(MemorySegment state) {
        return state.get(ValueLayout.JAVA_INT, Linked.ERRNO_OFFSET);
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
            MemorySegment st = state(); // before the function is looked up
            MemorySegment s = MemorySegment.ofAddress(call(Strings.NAME, st, arg(e)));
            return s.equals(MemorySegment.NULL) ? "errno " + e : s.reinterpret(64).getString(0);
        });
    }

    /** strerror's text for errno. */
    static String describe(int errno) {
        return TEXTS.computeIfAbsent(errno, e -> {
            MemorySegment st = state(); // before the function is looked up
            return MemorySegment.ofAddress(call(Strings.TEXT, st, arg(e))).reinterpret(256)
                    .getString(0);
        });
    }

    private static final class Strings {
        static final Function NAME =
                function(Libc.strerrorname_np$address(), Libc.strerrorname_np$descriptor());
        static final Function TEXT =
                function(Libc.strerror$address(), Libc.strerror$descriptor());
    }
}
