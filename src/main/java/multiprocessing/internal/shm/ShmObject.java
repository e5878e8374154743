package multiprocessing.internal.shm;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.SharedMemoryCalls;
import multiprocessing.internal.tracker.ResourceTracker;

/**
 * One POSIX shared-memory object mapped in this process: the one place where one is created
 * (exclusively, mode 0600, registered with the resource tracker, sized, its pages reserved,
 * mapped, and all of it rolled back on a failure) or attached. {@code SharedMemory}, the heap's
 * arenas and a queue's large messages are all made here.
 *
 * <p>Why reserve: on a tmpfs (/dev/shm; 64 MiB by default in a Docker container) ftruncate
 * only sets a size, and a page that finds no room when first touched is a SIGBUS, later, in
 * whichever process touches it. {@link #create} allocates the pages at once (posix_fallocate),
 * so a full /dev/shm is a {@link SharedMemoryFullException} saying so, at creation.
 *
 * <p>The mapping lives until {@link #close()}; closing unmaps, and a later access through
 * {@link #segment()} throws IllegalStateException rather than touching unmapped memory.
 */
public final class ShmObject implements AutoCloseable {
    /** Where POSIX shared-memory objects live on Linux (glibc's shm_open opens files there). */
    public static final Path DIRECTORY = Path.of("/dev/shm");

    private final String name;
    private final long size;
    private final Arena mapping;
    private final MemorySegment segment;
    /**
     * The object's inode when it was opened by a name its creator chose (0 otherwise): what the
     * resource tracker is told of it, so that it never unlinks another object of that name.
     */
    private final long inode;

    private ShmObject(String name, long size, Arena mapping, MemorySegment segment) {
        this(name, size, mapping, segment, 0);
    }

    private ShmObject(String name, long size, Arena mapping, MemorySegment segment, long inode) {
        this.name = name;
        this.size = size;
        this.mapping = mapping;
        this.segment = segment;
        this.inode = inode;
    }

    /**
     * Creates the object {@code name} ("/name") of {@code size} bytes, zero-filled.
     * {@code reserve}: allocate its pages now (false only for a buffer that may grow into a
     * small part of a large size).
     *
     * @throws ErrnoException when the name cannot be created (EEXIST, EACCES...)
     * @throws SharedMemoryFullException when /dev/shm has no room for it
     */
    public static ShmObject create(String name, long size, boolean reserve) throws ErrnoException {
        // The tracker's pipe first (its first use starts the tracker): between the object's
        // naming and its registration there is then one write(2), not a process's start.
        ResourceTracker.ready();
        // Made under a name of its own, sized and its pages reserved, then linked to its name
        // (linkat fails with EEXIST as O_EXCL does) and the first name removed: a process that
        // attaches as soon as the name appears found it of size 0, or mapped it whole before
        // a reservation that then failed and touched pages nothing backed (SIGBUS). The name
        // given is registered once it exists, never before: it may be another program's, which
        // the tracker must never unlink; the first one, random, before, as createUnique's.
        // (Not O_TMPFILE, which needs a downcall of its own: a second stub in every child that
        // writes receipts, milliseconds of its start.)
        Opened first = openUnique(CREATING_PREFIX);
        try {
            return sizeLinkAndMap(name, first.fd(), size, reserve);
        } finally {
            Posix.closeQuietly(first.fd());
            unlinkQuietly(first.name());
        }
    }

    /** The prefix of the name an object has while {@link #create} makes it. */
    private static final String CREATING_PREFIX = "/mpc_";

    private static ShmObject sizeLinkAndMap(String name, int fd, long size, boolean reserve)
            throws ErrnoException {
        int byName = -1;
        Arena mapping = Arena.ofShared();
        boolean named = false;
        long inode = 0;
        try {
            SharedMemoryCalls.ftruncate(fd, size);
            if (reserve) {
                reserve(fd, name, size);
            }
            inode = SharedMemoryCalls.status(fd).inode();
            SharedMemoryCalls.link(fd, name);
            named = true;
            ResourceTracker.register(name, inode);
            // Mapped through its name, so that /proc/PID/maps shows it (a mapping shows the
            // name the object was opened by, "(deleted)" once that one is removed).
            byName = SharedMemoryCalls.shmOpen(name, SharedMemoryCalls.O_RDWR, 0);
            if (SharedMemoryCalls.status(byName).inode() != inode) {
                // Another's now, not to unlink; this one is gone (whoever unlinked it may
                // not have said so), and so is its registration.
                named = false;
                ResourceTracker.unregister(name, inode);
                throw new IllegalStateException("shared memory " + name + " was unlinked and"
                        + " made again by another process as it was created here");
            }
            return new ShmObject(name, size, mapping,
                    SharedMemoryCalls.mmapShared(byName, size, mapping), inode);
        } catch (ErrnoException | RuntimeException e) {
            mapping.close();
            if (named) {
                unlinkQuietly(name, inode);
            }
            throw e;
        } finally {
            if (byName >= 0) {
                Posix.closeQuietly(byName);
            }
        }
    }

    /**
     * Creates an object named {@code prefix} ("/prefix") and 48 random bits in hex, as
     * {@link #create}. The name is registered with the resource tracker before the object
     * exists, so a process killed at any moment leaves nothing the tracker does not know of
     * (registered after, an object of a producer killed in between stayed in /dev/shm for
     * good); a random name is nobody else's, which a name given by the caller may be.
     */
    public static ShmObject createUnique(String prefix, long size, boolean reserve)
            throws ErrnoException {
        Opened o = openUnique(prefix);
        if (CREATED_STALL_MILLIS > 0) {
            stall();
        }
        return sizeAndMap(o.name(), o.fd(), size, reserve);
    }

    /** An object just made, by its name and open as {@code fd}. */
    private record Opened(String name, int fd) {}

    /**
     * Makes an empty object named {@code prefix} and 48 random bits in hex, exclusively, mode
     * 0600, registered with the resource tracker before it exists (see {@link #createUnique}).
     */
    private static Opened openUnique(String prefix) throws ErrnoException {
        for (int attempt = 0; ; attempt++) {
            String name = SharedMemoryCalls.uniqueName(prefix);
            ResourceTracker.register(name);
            try {
                return new Opened(name, SharedMemoryCalls.shmOpen(name, SharedMemoryCalls.O_CREAT
                        | SharedMemoryCalls.O_EXCL | SharedMemoryCalls.O_RDWR, 0600));
            } catch (ErrnoException e) {
                ResourceTracker.unregister(name);
                if (e.errno() != SharedMemoryCalls.EEXIST || attempt >= 100) {
                    throw e;
                }
                // the rare collision: another name
            }
        }
    }

    /**
     * Fault injection for tests: an object with a unique name, just created, waits this long
     * before it is sized, so that a test can kill its process there.
     */
    private static final long CREATED_STALL_MILLIS =
            Long.getLong("multiprocessing.shm.testCreatedStallMillis", 0);

    private static void stall() {
        try {
            Thread.sleep(CREATED_STALL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sizes and maps the object {@code name}, registered and open as {@code fd}. */
    private static ShmObject sizeAndMap(String name, int fd, long size, boolean reserve)
            throws ErrnoException {
        Arena mapping = Arena.ofShared();
        try {
            SharedMemoryCalls.ftruncate(fd, size);
            if (reserve) {
                reserve(fd, name, size);
            }
            return new ShmObject(name, size, mapping, SharedMemoryCalls.mmapShared(fd, size, mapping));
        } catch (ErrnoException | RuntimeException e) {
            mapping.close();
            unlinkQuietly(name);
            throw e;
        } finally {
            Posix.closeQuietly(fd);
        }
    }

    /**
     * Reserves the first {@code size} bytes of the object open as {@code fd} ({@code name} for
     * messages).
     *
     * @throws SharedMemoryFullException when /dev/shm has no room for them
     */
    public static void reserve(int fd, String name, long size) throws ErrnoException {
        try {
            SharedMemoryCalls.fallocate(fd, 0, size);
        } catch (ErrnoException e) {
            if (e.errno() == SharedMemoryCalls.ENOSPC || e.errno() == SharedMemoryCalls.EFBIG) {
                throw new SharedMemoryFullException(name, size, e);
            }
            throw e;
        }
    }

    /** An object with no name ({@link #createUnnamed}) and the descriptor it travels as. */
    public record Unnamed(ShmObject object, int fd) {}

    /**
     * Creates an object of {@code size} bytes, zero-filled and reserved, that has no name
     * (O_TMPFILE): it reaches another process only as a descriptor sent over a Unix socket
     * ({@link #map(int, long, String)} there), or once {@link #link} names it, and goes with its
     * last descriptor and mapping, whichever way its processes end. So the resource tracker is
     * not told of it (nor started for it). The caller closes the descriptor; {@link #name()} is
     * {@code what}, for messages, and {@link #reserve(long)} and {@link #unlink()} mean nothing
     * on it.
     */
    public static Unnamed createUnnamed(String what, long size) throws ErrnoException {
        return createUnnamed(what, size, true);
    }

    /**
     * As {@link #createUnnamed(String, long)}; {@code reserve} false for a buffer that may grow
     * into a small part of a large size ({@link #reserve(int, String, long)} as it grows).
     */
    public static Unnamed createUnnamed(String what, long size, boolean reserve)
            throws ErrnoException {
        int fd = SharedMemoryCalls.createNameless();
        Arena mapping = Arena.ofShared();
        try {
            SharedMemoryCalls.ftruncate(fd, size);
            if (reserve) {
                reserve(fd, what, size);
            }
            ShmObject object = new ShmObject(what, size, mapping,
                    SharedMemoryCalls.mmapShared(fd, size, mapping));
            return new Unnamed(object, fd);
        } catch (ErrnoException | RuntimeException e) {
            mapping.close();
            Posix.closeQuietly(fd);
            throw e;
        }
    }

    /**
     * Names the unnamed object open as {@code fd} ({@link #createUnnamed}): {@code prefix} and
     * 48 random bits in hex, registered with the resource tracker before the name exists, as
     * {@link #createUnique} does; from then on it is an object like the others, which its
     * reader unlinks.
     *
     * @return the name
     */
    public static String link(int fd, String prefix) throws ErrnoException {
        ResourceTracker.ready();
        for (int attempt = 0; ; attempt++) {
            String name = SharedMemoryCalls.uniqueName(prefix);
            ResourceTracker.register(name);
            try {
                SharedMemoryCalls.link(fd, name);
                return name;
            } catch (ErrnoException e) {
                ResourceTracker.unregister(name);
                if (e.errno() != SharedMemoryCalls.EEXIST || attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    /**
     * Maps {@code size} bytes of the object open as {@code fd} (received from another process),
     * which must be this user's with mode 0600; the descriptor stays the caller's. The object's
     * {@link #name()} is {@code what}, for messages: it has no name here.
     *
     * @throws IllegalStateException when it is smaller than {@code size}, or not private
     */
    public static ShmObject map(int fd, long size, String what) throws ErrnoException {
        long actual = SharedMemoryCalls.requirePrivate(fd, what).size();
        if (actual < size) {
            throw new IllegalStateException(what + " has " + actual + " bytes, not the " + size
                    + " expected");
        }
        Arena mapping = Arena.ofShared();
        try {
            return new ShmObject(what, size, mapping, SharedMemoryCalls.mmapShared(fd, size, mapping));
        } catch (ErrnoException | RuntimeException e) {
            mapping.close();
            throw e;
        }
    }

    /**
     * Maps the existing object {@code name}: {@code mapSize} bytes of it, or all of it when
     * {@code mapSize < 0}. {@code privateWhat}: refuse, naming it so, an object that is not
     * this user's with mode 0600 (one this library created); null: any object (a user's).
     *
     * @throws ErrnoException when it cannot be opened or mapped (ENOENT: no such name)
     * @throws IllegalStateException when it is smaller than {@code mapSize}, empty, or not
     *     private
     */
    public static ShmObject attach(String name, long mapSize, String privateWhat)
            throws ErrnoException {
        int fd = SharedMemoryCalls.shmOpen(name, SharedMemoryCalls.O_RDWR, 0);
        try {
            SharedMemoryCalls.Status status = privateWhat != null
                    ? SharedMemoryCalls.requirePrivate(fd, privateWhat)
                    : SharedMemoryCalls.status(fd);
            long actual = status.size();
            long size = mapSize < 0 ? actual : mapSize;
            if (actual == 0) {
                throw new IllegalStateException("shared memory " + name + " has size 0 and"
                        + " cannot be mapped (is its creator still sizing it?)");
            }
            if (actual < size) {
                throw new IllegalStateException("shared memory " + name + " has " + actual
                        + " bytes, not the " + size + " expected");
            }
            Arena mapping = Arena.ofShared();
            try {
                return new ShmObject(name, size, mapping,
                        SharedMemoryCalls.mmapShared(fd, size, mapping), status.inode());
            } catch (ErrnoException | RuntimeException e) {
                mapping.close();
                throw e;
            }
        } finally {
            Posix.closeQuietly(fd);
        }
    }

    /**
     * Reserves the first {@code length} bytes (for an object created unreserved that is filled
     * gradually).
     *
     * @throws SharedMemoryFullException when /dev/shm has no room for them
     */
    public void reserve(long length) throws ErrnoException {
        int fd = SharedMemoryCalls.shmOpen(name, SharedMemoryCalls.O_RDWR, 0);
        try {
            reserve(fd, name, length);
        } finally {
            Posix.closeQuietly(fd);
        }
    }

    /** The name, with its leading "/". */
    public String name() {
        return name;
    }

    /** The bytes mapped. */
    public long size() {
        return size;
    }

    /** The mapping: exactly {@link #size()} bytes, page-aligned. */
    public MemorySegment segment() {
        return segment;
    }

    /** Unmaps this process's view (the object stays until unlinked). */
    @Override
    public void close() {
        mapping.close();
    }

    /**
     * Removes the name and its registration; mappings stay valid until unmapped. A name this
     * call did not remove keeps its registration (as in Python): the tracker counts a name's
     * registrations, and one taken off for a name already gone would be taken from whoever
     * creates it next.
     */
    public void unlink() throws ErrnoException {
        SharedMemoryCalls.shmUnlink(name);
        ResourceTracker.unregister(name, inode);
    }

    /** Removes the name and its registration, if it is still there (a random name's). */
    public static void unlinkQuietly(String name) {
        unlinkQuietly(name, 0);
    }

    private static void unlinkQuietly(String name, long inode) {
        try {
            SharedMemoryCalls.shmUnlink(name);
        } catch (ErrnoException notRemoved) {
            return; // already unlinked, and unregistered by whoever did
        }
        ResourceTracker.unregister(name, inode);
    }

    /** "/dev/shm (64 MiB, 3 MiB free)", for messages. */
    static String describeDirectory() {
        try {
            FileStore store = Files.getFileStore(DIRECTORY);
            return DIRECTORY + " (" + mib(store.getTotalSpace()) + ", "
                    + mib(store.getUsableSpace()) + " free)";
        } catch (IOException | RuntimeException e) {
            return DIRECTORY.toString();
        }
    }

    static String mib(long bytes) {
        return bytes >= 10L << 20 ? (bytes >> 20) + " MiB" : (bytes >> 10) + " KiB";
    }
}
