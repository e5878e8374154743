package multiprocessing.sharedmemory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.ThreadLocalRandom;

import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.SharedMemoryCalls;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.shm.SharedMemoryFullException;
import multiprocessing.internal.shm.ShmObject;
import multiprocessing.internal.util.Cleaning;

/**
 * A block of POSIX shared memory that any process can map by name (Python's
 * {@code multiprocessing.shared_memory.SharedMemory}).
 *
 * <pre>{@code
 * try (SharedMemory shm = SharedMemory.create(1024)) {
 *     shm.buf().set(ValueLayout.JAVA_INT, 0, 42);
 *     new Process(() -> {
 *         try (SharedMemory same = SharedMemory.attach(shm.name())) {   // or use shm itself
 *             System.out.println(same.buf().get(ValueLayout.JAVA_INT, 0));
 *         }
 *     }).start();
 *     ...
 *     shm.unlink();
 * }
 * }</pre>
 *
 * <p>As in Python, {@link #close()} only unmaps this process's view, and {@link #unlink()}
 * removes the name (the memory itself lives until every process has unmapped it): exactly one
 * process should unlink, usually the creator, once nobody needs to attach any more. Leaving a
 * try-with-resources block closes; it does not unlink.
 *
 * <p>Names: {@link #name()} is the name as given (or, for {@link #create(int)}, a generated
 * {@code psm_} name); the operating-system object is that name with a "/" in front, as
 * Python's is ({@code /dev/shm/<name>} on Linux). The object is created with mode 0600.
 *
 * <p>Size: a new segment's pages are all reserved as it is created ({@code posix_fallocate}),
 * where Python's stays sparse until written: a segment that /dev/shm cannot hold is refused at
 * once ({@code create} throws) instead of killing the first process that writes past the room
 * left (SIGBUS). So a segment takes its whole size of /dev/shm, and of memory, from the start:
 * size it for what it will hold.
 *
 * <p>Leaks: the process that creates a segment registers it with the resource tracker, which
 * unlinks it, logging a warning, if every process of the program has ended and it is still
 * there (a crash, a SIGKILL, a forgotten {@code unlink()}). Unlinking unregisters it. Attaching
 * never registers anything, so a process that merely attaches never causes an unlink (unlike
 * CPython before 3.13: a Python 3.11 or 3.12 process that attaches a Java segment has its own
 * resource tracker unlink it as that process exits; 3.13's {@code track=False} avoids it).
 *
 * <p>Across processes: a {@code SharedMemory} captured by a child's target, held by another
 * object or sent through a connection arrives as the same memory, attached by name on the
 * other side (never copied); the name must still exist when it arrives.
 *
 * <p>A {@code SharedMemory} made here ({@code create}, {@code attach}) and never closed stays
 * mapped until the process exits: segments obtained from {@link #buf()} may outlive the object.
 * One that arrived from another process (captured by a task, inside a message) is closed once it
 * is unreachable, as Python's {@code __del__} closes it: a pool worker maps every job's anew, and
 * kept them all mapped, their memory held in /dev/shm after their unlink, for as long as the
 * pool lived. Keep such an object reachable, not only its {@code buf()}, while you use the
 * memory: a segment of a closed one throws {@link IllegalStateException}.
 */
public final class SharedMemory implements AutoCloseable {
    static {
        Serialization.register(SharedMemory.class, new SharedMemoryReducer());
    }

    private static final String GENERATED_PREFIX = "psm_";

    private final String name;
    private final long size;
    private final ShmObject shm;
    private final MemorySegment buf;
    private volatile boolean closed;
    /** Closes a received object's mapping once, when unreachable or at {@link #close()}. */
    private final Cleaner.Cleanable unmapped;

    private SharedMemory(String name, ShmObject shm) {
        this(name, shm, false);
    }

    /**
     * {@code received}: attached as it arrived from another process, and closed once it is
     * unreachable (see the class comment).
     */
    private SharedMemory(String name, ShmObject shm, boolean received) {
        this.name = name;
        this.size = shm.size();
        this.shm = shm;
        this.buf = shm.segment();
        this.unmapped = received ? Cleaning.register(this, shm::close) : null;
    }

    /**
     * Creates a new segment of {@code size} bytes, zero-filled, under a generated name.
     *
     * @param size the segment's size in bytes
     * @return the segment, mapped
     * @throws IllegalArgumentException if {@code size} is not positive
     * @throws IOException if the operating system refuses (no space, too many open files)
     */
    public static SharedMemory create(long size) throws IOException {
        checkSize(size);
        for (int attempt = 0; ; attempt++) {
            // Not String.format: its first use in a JVM costs milliseconds (its parser).
            String generated = GENERATED_PREFIX + java.util.HexFormat.of().toHexDigits(
                    ThreadLocalRandom.current().nextInt());
            try {
                return open(generated, size);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    /**
     * {@link #create(long)} with an {@code int} size (Python's {@code size=}).
     *
     * @param size the segment's size in bytes
     * @return the segment, mapped
     * @throws IllegalArgumentException if {@code size} is not positive
     * @throws IOException if the operating system refuses (no space, too many open files)
     */
    public static SharedMemory create(int size) throws IOException {
        return create((long) size);
    }

    /**
     * Creates a new segment named {@code name} of {@code size} bytes, zero-filled.
     *
     * @param name the segment's name; the operating-system object is "/" and this name
     * @param size the segment's size in bytes
     * @return the segment, mapped
     * @throws IllegalArgumentException if {@code size} is not positive or the name is empty
     *                                  or holds a newline, a NUL character or a '/' other than a
     *                                  leading one
     * @throws FileAlreadyExistsException if a segment of that name exists
     * @throws IOException for any other refusal of the operating system
     */
    public static SharedMemory create(String name, long size) throws IOException {
        checkSize(size);
        return open(name, size);
    }

    /**
     * {@link #create(String, long)} with an {@code int} size.
     *
     * @param name the segment's name
     * @param size the segment's size in bytes
     * @return the segment, mapped
     * @throws IllegalArgumentException if {@code size} is not positive or the name is empty
     *                                  or holds a newline, a NUL character or a '/' other than a
     *                                  leading one
     * @throws FileAlreadyExistsException if a segment of that name exists
     * @throws IOException for any other refusal of the operating system
     */
    public static SharedMemory create(String name, int size) throws IOException {
        return create(name, (long) size);
    }

    private static SharedMemory open(String name, long size) throws IOException {
        String osName = osName(name);
        try {
            return new SharedMemory(name, ShmObject.create(osName, size, true));
        } catch (ErrnoException e) {
            throw translate(e, name);
        } catch (SharedMemoryFullException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * Maps the existing segment {@code name}; its size is the segment's. Never registers it
     * with the resource tracker, and a failure never unlinks anything.
     *
     * @param name the segment's name
     * @return the segment, mapped
     * @throws NullPointerException if {@code name} is null
     * @throws IllegalArgumentException if the name is empty or holds a newline, a NUL character
     *                                  or a '/' other than a leading one
     * @throws NoSuchFileException if no segment has that name (never created, or unlinked)
     * @throws IOException for any other refusal of the operating system
     */
    public static SharedMemory attach(String name) throws IOException {
        java.util.Objects.requireNonNull(name, "name");
        return new SharedMemory(name, attachMapping(name));
    }

    private static ShmObject attachMapping(String name) throws IOException {
        String osName = osName(name);
        try {
            return ShmObject.attach(osName, -1, null);
        } catch (ErrnoException e) {
            throw translate(e, name);
        } catch (IllegalStateException e) {
            throw new IOException("shared memory segment '" + name + "': " + e.getMessage(), e);
        }
    }

    /** {@return the name as given to {@code create}/{@code attach}, or the generated one} */
    public String name() {
        return name;
    }

    /** {@return the size in bytes} */
    public long size() {
        return size;
    }

    /**
     * The memory, exactly {@link #size()} bytes.
     *
     * @return the mapped segment
     * @throws IllegalStateException after {@link #close()} (and any access through a segment
     *                               obtained earlier throws it too)
     */
    public MemorySegment buf() {
        if (closed) {
            throw new IllegalStateException("SharedMemory '" + name + "' is closed");
        }
        return buf;
    }

    /** {@return whether {@link #close()} has been called} */
    public boolean closed() {
        return closed;
    }

    /**
     * Unmaps this process's view; the segment and other processes' views remain. Twice is a
     * no-op.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (unmapped != null) {
            unmapped.clean();
        } else {
            shm.close();
        }
    }

    /**
     * Removes the name, so nobody can attach any more; the memory lives until every process
     * has closed its view. Unregisters it from the resource tracker. Allowed before or after
     * {@link #close()}.
     *
     * @throws NoSuchFileException if the name has already been unlinked
     */
    public void unlink() throws IOException {
        try {
            shm.unlink();
        } catch (ErrnoException e) {
            throw translate(e, name);
        }
    }

    @Override
    public String toString() {
        return "SharedMemory('" + name + "', size=" + size + ")";
    }

    private static void checkSize(long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("'size' must be a positive number: " + size);
        }
    }

    private static String osName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a shared memory name must not be empty");
        }
        if (name.indexOf('\n') >= 0 || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(
                    "a shared memory name must not hold a newline or NUL: " + name);
        }
        String bare = name.startsWith("/") ? name.substring(1) : name;
        if (bare.isEmpty() || bare.indexOf('/') >= 0) {
            // shm_open takes one '/', in front, and refuses any other (EINVAL).
            throw new IllegalArgumentException("a shared memory name must not hold '/' but in"
                    + " front of a name: " + name);
        }
        if (bare.equals(".") || bare.equals("..")) {
            // They name /dev/shm itself, or its parent: every create would say "exists".
            throw new IllegalArgumentException("a shared memory name must not be '.' or '..': "
                    + name);
        }
        return "/" + name;
    }

    private static IOException translate(ErrnoException e, String name) {
        IOException translated;
        if (e.errno() == SharedMemoryCalls.ENOENT) {
            translated = new NoSuchFileException(name, null,
                    "no shared memory segment of that name (" + e.getMessage() + ")");
        } else if (e.errno() == SharedMemoryCalls.EEXIST) {
            translated = new FileAlreadyExistsException(name, null,
                    "a shared memory segment of that name exists (" + e.getMessage() + ")");
        } else {
            return new IOException("shared memory '" + name + "': " + e.getMessage(), e);
        }
        translated.initCause(e);
        return translated;
    }

    /** Travels by name; the receiving process attaches (and so registers nothing). */
    private static final class SharedMemoryReducer implements Reducer<SharedMemory> {
        @Override
        public void reduce(SharedMemory value, Out out) {
            out.writeString(value.name);
            out.writeLong(value.size);
        }

        @Override
        public SharedMemory rebuild(In in) {
            String name = in.readString();
            long size = in.readLong();
            try {
                SharedMemory shm = new SharedMemory(name, attachMapping(name), true);
                if (shm.size() < size) {
                    shm.close();
                    throw new IllegalStateException("shared memory '" + name + "' has "
                            + shm.size() + " bytes here, " + size + " where it was sent from");
                }
                return shm;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot attach the shared memory '" + name
                        + "' that was sent here: " + e.getMessage(), e);
            }
        }
    }
}
