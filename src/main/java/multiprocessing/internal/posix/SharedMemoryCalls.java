package multiprocessing.internal.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static multiprocessing.internal.posix.Errno.arg;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import multiprocessing.internal.libc.Libc;
import multiprocessing.internal.libc.stat;

/**
 * POSIX shared memory: shm_open, shm_unlink, ftruncate, posix_fallocate, fstat and mmap/munmap, for
 * {@code SharedMemory}, the shared heap and the resource tracker.
 *
 * <p>A mapping is handed out as a {@link MemorySegment} of exactly the mapped size whose
 * lifetime is an {@link Arena} the caller owns: closing the arena unmaps it, and any later
 * access through the segment throws {@link IllegalStateException} instead of touching
 * unmapped memory.
 */
public final class SharedMemoryCalls {
    private SharedMemoryCalls() {}

    public static final int O_RDONLY = Libc.O_RDONLY();
    public static final int O_RDWR = Libc.O_RDWR();
    public static final int O_CREAT = Libc.O_CREAT();
    public static final int O_EXCL = Libc.O_EXCL();
    public static final int ENOENT = Libc.ENOENT();
    public static final int EEXIST = Libc.EEXIST();
    public static final int EINVAL = Libc.EINVAL();
    /** Not in the generated bindings; asm-generic/errno-base.h, the same on every Linux. */
    public static final int ENOSPC = 28;
    public static final int EFBIG = 27;

    private static final class ShmOpen {
        static final Errno.Function F = Errno.function(Libc.shm_open$address(),
                Libc.shm_open$descriptor());
    }

    private static final class ShmUnlink {
        static final Errno.Function F =
                Errno.function(Libc.shm_unlink$address(), Libc.shm_unlink$descriptor());
    }

    private static final class Ftruncate {
        static final Errno.Function F =
                Errno.function(Libc.ftruncate$address(), Libc.ftruncate$descriptor());
    }

    /** Not in the jextract bindings: linked by name. */
    private static final class Fallocate {
        static final Errno.Function F = Errno.function("posix_fallocate",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    }

    private static final class Fstat {
        static final Errno.Function F = Errno.function(Libc.fstat$address(),
                Libc.fstat$descriptor());
        static final ThreadLocal<MemorySegment> BUF =
                ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(stat.layout()));
    }

    /** open(2) is variadic (its mode) and not in the bindings: linked by hand, for O_TMPFILE. */
    private static final class Open {
        static final MethodHandle H = Errno.linkVariadic("open",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
        /** __O_TMPFILE | O_DIRECTORY on x86_64, the one architecture the layer runs on. */
        static final int O_TMPFILE = 020200000;
    }

    /** Not in the jextract bindings: linked by name. */
    private static final class Linkat {
        static final Errno.Function F = Errno.function("linkat", FunctionDescriptor.of(JAVA_INT,
                JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
        static final int AT_FDCWD = -100;
        static final int AT_SYMLINK_FOLLOW = 0x400;
    }

    private static final class Mmap {
        static final Errno.Function F = Errno.function(Libc.mmap$address(), Libc.mmap$descriptor());
        static final long FAILED = Libc.MAP_FAILED().address();
    }

    private static final class Munmap {
        static final Errno.Function F = Errno.function(Libc.munmap$address(),
                Libc.munmap$descriptor());
    }

    /**
     * Opens (or with O_CREAT creates) the shared-memory object {@code name} ("/name"); O_CLOEXEC
     * is always added, so a spawned child never inherits the descriptor by accident.
     */
    public static int shmOpen(String name, int flags, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cName = arena.allocateFrom(name);
            MemorySegment st = Errno.state();
            while (true) {
                int r = (int) Errno.call(ShmOpen.F, st, cName, arg(flags | Posix.O_CLOEXEC), arg(mode));
                if (r >= 0) {
                    if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL) && mode == 0600) {
                        keepPrivate(r);
                    }
                    return r;
                }
                if (Errno.errno(st) != Posix.EINTR) {
                    throw Errno.error("shm_open(" + name + ")", st);
                }
            }
        }
    }

    /**
     * Creates a shared-memory object that has no name (an O_TMPFILE file in /dev/shm, mode
     * 0600) and returns its descriptor: it goes with its last descriptor and mapping, however
     * its process ends, unless {@link #link} names it first.
     */
    public static int createNameless() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment directory = arena.allocateFrom("/dev/shm");
            MemorySegment st = Errno.state();
            while (true) {
                int r;
                try {
                    r = (int) Open.H.invokeExact(st, directory,
                            Open.O_TMPFILE | O_RDWR | Posix.O_CLOEXEC, 0600);
                } catch (Throwable t) {
                    throw Errno.bug(t);
                }
                if (r >= 0) {
                    keepPrivate(r);
                    return r;
                }
                if (Errno.errno(st) != Posix.EINTR) {
                    throw Errno.error("open(/dev/shm, O_TMPFILE)", st);
                }
            }
        }
    }

    /**
     * Gives the nameless object open as {@code fd} ({@link #createNameless}) the name
     * {@code name} ("/name"), where shm_open finds it.
     *
     * @throws ErrnoException EEXIST when the name is taken
     */
    public static void link(int fd, String name) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment from = arena.allocateFrom("/proc/self/fd/" + fd);
            MemorySegment to = arena.allocateFrom("/dev/shm" + name);
            MemorySegment st = Errno.state();
            int r = (int) Errno.call(Linkat.F, st, arg(Linkat.AT_FDCWD), from,
                    arg(Linkat.AT_FDCWD), to, arg(Linkat.AT_SYMLINK_FOLLOW));
            if (r < 0) {
                throw Errno.error("linkat(" + name + ")", st);
            }
        }
    }

    /** {@code prefix} followed by 48 random bits in hex. */
    public static String uniqueName(String prefix) {
        return prefix + Long.toHexString(
                java.util.concurrent.ThreadLocalRandom.current().nextLong() & 0xffff_ffff_ffffL);
    }

    /** Removes the name; mappings that exist stay valid until unmapped. */
    public static void shmUnlink(String name) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cName = arena.allocateFrom(name);
            MemorySegment st = Errno.state();
            int r = (int) Errno.call(ShmUnlink.F, st, cName);
            if (r < 0) {
                throw Errno.error("shm_unlink(" + name + ")", st);
            }
        }
    }

    public static void ftruncate(int fd, long size) throws ErrnoException {
        MemorySegment st = Errno.state();
        while (true) {
            int r = (int) Errno.call(Ftruncate.F, st, arg(fd), arg(size));
            if (r == 0) {
                return;
            }
            if (Errno.errno(st) != Posix.EINTR) {
                throw Errno.error("ftruncate", st);
            }
        }
    }

    /**
     * Allocates the pages of {@code [offset, offset + length)} of {@code fd} now: on a tmpfs
     * such as /dev/shm, ftruncate only sets the size, and a page that finds no room when it is
     * first touched is a SIGBUS in whichever process touches it, later. This fails instead
     * (ENOSPC) while the caller can still say why.
     */
    public static void fallocate(int fd, long offset, long length) throws ErrnoException {
        while (true) {
            int r = (int) Errno.call(Fallocate.F, Errno.state(), arg(fd), arg(offset), arg(length));
            // posix_fallocate returns the error number; it does not set errno.
            if (r == 0) {
                return;
            }
            if (r != Posix.EINTR) {
                throw new ErrnoException("posix_fallocate", r);
            }
        }
    }

    /** The size of the file {@code fd} refers to (fstat's st_size). */
    public static long size(int fd) throws ErrnoException {
        return status(fd).size();
    }

    /** What fstat says of a file: its owner, permission bits (mode & 07777), size and inode. */
    public record Status(int uid, int permissions, long size, long inode) {}

    public static Status status(int fd) throws ErrnoException {
        MemorySegment buf = Fstat.BUF.get();
        MemorySegment st = Errno.state();
        int r = (int) Errno.call(Fstat.F, st, arg(fd), buf);
        if (r < 0) {
            throw Errno.error("fstat", st);
        }
        return new Status(stat.st_uid(buf), stat.st_mode(buf) & 07777, stat.st_size(buf),
                stat.st_ino(buf));
    }

    /**
     * Gives object {@code fd}, just created with mode 0600, that mode even if this process's
     * umask took bits of it (attack 40: under umask 0200 an object was 0400, which another
     * process of this user cannot open for writing, and which {@link #requirePrivate}
     * refuses): an fstat, and in that rare case a chmod through {@code /proc/self/fd}. A chmod
     * that fails leaves the object as it is, which its users then refuse, saying why.
     */
    private static void keepPrivate(int fd) {
        try {
            if (status(fd).permissions() == 0600) {
                return;
            }
            java.nio.file.Files.setPosixFilePermissions(java.nio.file.Path.of("/proc/self/fd/"
                    + fd), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (java.io.IOException | UnsupportedOperationException e) {
            // left as created, also when it cannot be looked at (ErrnoException): see above
        }
    }

    /**
     * Refuses an object this library did not create for this user: one owned by another uid, or
     * readable or writable by others (ours are created 0600), could have been prepared by
     * another user to feed this process crafted bytes. Returns what fstat said of it.
     *
     * @throws IllegalStateException naming {@code what}, the owner and the mode
     */
    public static Status requirePrivate(int fd, String what) throws ErrnoException {
        Status s = status(fd);
        int uid = Posix.geteuid();
        if (s.uid() != uid || s.permissions() != 0600) {
            throw new IllegalStateException(what + " is owned by uid " + s.uid() + " with mode 0"
                    + Integer.toOctalString(s.permissions()) + ", not by this process's uid "
                    + uid + " with mode 0600: refused (another user's object?)");
        }
        return s;
    }

    /**
     * Maps {@code size} bytes of {@code fd} shared and read-write. The segment belongs to
     * {@code arena}: closing it unmaps the memory.
     */
    public static MemorySegment mmapShared(int fd, long size, Arena arena) throws ErrnoException {
        return mmap(size, Libc.MAP_SHARED(), fd, arena);
    }

    /** MAP_PRIVATE and MAP_ANONYMOUS (asm-generic/mman-common.h; not in the jextract bindings). */
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;

    /**
     * Maps {@code size} bytes of private memory, zero, that take no memory until written
     * (anonymous pages): unlike {@code Arena.allocate}, which writes zeros over all of it at once.
     * The segment belongs to {@code arena}: closing it unmaps the memory.
     */
    public static MemorySegment mmapPrivate(long size, Arena arena) throws ErrnoException {
        return mmap(size, MAP_PRIVATE | MAP_ANONYMOUS, -1, arena);
    }

    /** mmap(2) of {@code size} bytes read-write; the segment's arena unmaps them. */
    private static MemorySegment mmap(long size, int flags, int fd, Arena arena)
            throws ErrnoException {
        MemorySegment st = Errno.state();
        MemorySegment address = MemorySegment.ofAddress(Errno.call(Mmap.F, st, MemorySegment.NULL,
                arg(size), arg(Libc.PROT_READ() | Libc.PROT_WRITE()), arg(flags), arg(fd),
                arg(0L)));
        if (address.address() == Mmap.FAILED) {
            throw Errno.error("mmap", st);
        }
        long base = address.address();
        return address.reinterpret(size, arena, ignored -> munmapQuietly(base, size));
    }

    /** Unmaps memory that no segment guards (a mapping whose arena never took it). */
    public static void munmap(long address, long size) throws ErrnoException {
        MemorySegment st = Errno.state();
        int r = (int) Errno.call(Munmap.F, st, MemorySegment.ofAddress(address), arg(size));
        if (r < 0) {
            throw Errno.error("munmap", st);
        }
    }

    private static void munmapQuietly(long address, long size) {
        try {
            munmap(address, size);
        } catch (ErrnoException e) {
            // Only a bad address or length gives an error, and both came from mmap itself.
            throw new AssertionError(e);
        }
    }
}
