package multiprocessing.internal.posix;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

import multiprocessing.internal.libc.Libc;
import multiprocessing.internal.libc.posix_spawn_file_actions_t;
import multiprocessing.internal.libc.posix_spawnattr_t;
import multiprocessing.internal.libc.sigset_t;

/**
 * posix_spawn(3) of a program that inherits exactly the descriptors the caller names.
 *
 * <p>Implementation note: the inherited descriptors arrive in the child as 3, 4, ... in the
 * order given. A descriptor that must land on a number another one still occupies would be
 * clobbered by a plain dup2 sequence, so every source is first duplicated above all of them,
 * then moved down; {@code closefrom} then closes everything else, including what the JVM
 * opened without O_CLOEXEC. The child starts with an empty signal mask and default dispositions
 * for the signals a JVM or a shell may have changed.
 */
public final class Spawn {
    private Spawn() {}

    /** The first descriptor number a spawned child finds its inherited descriptors at. */
    public static final int FIRST_INHERITED_FD = 3;

    private static final class H {
        static final MethodHandle SPAWN =
                Errno.link(Libc.posix_spawn$address(), Libc.posix_spawn$descriptor());
    }

    /**
     * Starts {@code path} with {@code argv} and {@code env} ("NAME=value" strings); the child
     * gets {@code inherit[i]} as descriptor {@code FIRST_INHERITED_FD + i}, its standard
     * descriptors 0-2 as they are here, and no other. Returns the child's pid.
     */
    public static int spawn(String path, List<String> argv, List<String> env, int[] inherit)
            throws ErrnoException {
        return spawn(path, argv, env, inherit, -1);
    }

    /**
     * As {@link #spawn(String, List, List, int[])}, with {@code stderr} (unless -1) as the
     * child's descriptor 2.
     */
    public static int spawn(String path, List<String> argv, List<String> env, int[] inherit,
            int stderr) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(posix_spawn_file_actions_t.layout());
            MemorySegment attr = arena.allocate(posix_spawnattr_t.layout());
            check("posix_spawn_file_actions_init", Libc.posix_spawn_file_actions_init(actions));
            try {
                check("posix_spawnattr_init", Libc.posix_spawnattr_init(attr));
                try {
                    if (stderr >= 0) {
                        // First, while no inherited descriptor has been moved onto 2's range.
                        check("posix_spawn_file_actions_adddup2",
                                Libc.posix_spawn_file_actions_adddup2(actions, stderr, 2));
                    }
                    addInheritance(actions, inherit);
                    configureSignals(arena, attr);
                    MemorySegment pid = arena.allocate(JAVA_INT);
                    MemorySegment st = Errno.state();
                    int r;
                    try {
                        r = (int) H.SPAWN.invokeExact(st, pid, arena.allocateFrom(path), actions,
                                attr, Posix.nullTerminated(arena, argv),
                                Posix.nullTerminated(arena, env));
                    } catch (Throwable t) {
                        throw Errno.bug(t);
                    }
                    // posix_spawn returns the error number rather than setting errno.
                    if (r != 0) {
                        throw new ErrnoException("posix_spawn", r);
                    }
                    return pid.get(JAVA_INT, 0);
                } finally {
                    Libc.posix_spawnattr_destroy(attr);
                }
            } finally {
                Libc.posix_spawn_file_actions_destroy(actions);
            }
        }
    }

    private static void addInheritance(MemorySegment actions, int[] inherit) throws ErrnoException {
        int high = FIRST_INHERITED_FD + inherit.length;
        for (int fd : inherit) {
            high = Math.max(high, fd + 1);
        }
        for (int i = 0; i < inherit.length; i++) {
            check("posix_spawn_file_actions_adddup2",
                    Libc.posix_spawn_file_actions_adddup2(actions, inherit[i], high + i));
        }
        for (int i = 0; i < inherit.length; i++) {
            // dup2 onto a new number clears O_CLOEXEC there: exactly these survive the exec.
            check("posix_spawn_file_actions_adddup2", Libc.posix_spawn_file_actions_adddup2(
                    actions, high + i, FIRST_INHERITED_FD + i));
        }
        check("posix_spawn_file_actions_addclosefrom_np",
                Libc.posix_spawn_file_actions_addclosefrom_np(
                        actions, FIRST_INHERITED_FD + inherit.length));
    }

    private static void configureSignals(Arena arena, MemorySegment attr) throws ErrnoException {
        MemorySegment empty = arena.allocate(sigset_t.layout());
        Libc.sigemptyset(empty);
        MemorySegment defaults = arena.allocate(sigset_t.layout());
        Libc.sigemptyset(defaults);
        for (int sig : new int[] {Libc.SIGTERM(), Libc.SIGINT(), Libc.SIGHUP(), Libc.SIGPIPE(),
                Libc.SIGQUIT(), Libc.SIGUSR1(), Libc.SIGUSR2(), Libc.SIGCHLD()}) {
            Libc.sigaddset(defaults, sig);
        }
        check("posix_spawnattr_setsigmask", Libc.posix_spawnattr_setsigmask(attr, empty));
        check("posix_spawnattr_setsigdefault", Libc.posix_spawnattr_setsigdefault(attr, defaults));
        check("posix_spawnattr_setflags", Libc.posix_spawnattr_setflags(attr,
                (short) (Libc.POSIX_SPAWN_SETSIGMASK() | Libc.POSIX_SPAWN_SETSIGDEF())));
    }

    /** The posix_spawn_* helpers return an error number instead of setting errno. */
    private static void check(String function, int result) throws ErrnoException {
        if (result != 0) {
            throw new ErrnoException(function, result);
        }
    }
}
