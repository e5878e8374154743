package multiprocessing.internal.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static multiprocessing.internal.posix.Errno.arg;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
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

    /** POSIX_SPAWN_SETPGROUP (spawn.h; not in the bindings): 0x02 in glibc. */
    private static final int POSIX_SPAWN_SETPGROUP = 0x02;

    private static final class H {
        static final Errno.Function SPAWN =
                Errno.function(Libc.posix_spawn$address(), Libc.posix_spawn$descriptor());
        /** posix_spawnattr_setpgroup(posix_spawnattr_t*, pid_t), not in the bindings. */
        static final Errno.Function SETPGROUP = Errno.function("posix_spawnattr_setpgroup",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final Errno.Function ACTIONS_INIT = Errno.function(
                Libc.posix_spawn_file_actions_init$address(),
                Libc.posix_spawn_file_actions_init$descriptor());
        static final Errno.Function ACTIONS_DESTROY = Errno.function(
                Libc.posix_spawn_file_actions_destroy$address(),
                Libc.posix_spawn_file_actions_destroy$descriptor());
        static final Errno.Function ADDDUP2 = Errno.function(
                Libc.posix_spawn_file_actions_adddup2$address(),
                Libc.posix_spawn_file_actions_adddup2$descriptor());
        static final Errno.Function ADDCLOSEFROM = Errno.function(
                Libc.posix_spawn_file_actions_addclosefrom_np$address(),
                Libc.posix_spawn_file_actions_addclosefrom_np$descriptor());
        static final Errno.Function ATTR_INIT = Errno.function(
                Libc.posix_spawnattr_init$address(), Libc.posix_spawnattr_init$descriptor());
        static final Errno.Function ATTR_DESTROY = Errno.function(
                Libc.posix_spawnattr_destroy$address(), Libc.posix_spawnattr_destroy$descriptor());
        static final Errno.Function SETSIGMASK = Errno.function(
                Libc.posix_spawnattr_setsigmask$address(),
                Libc.posix_spawnattr_setsigmask$descriptor());
        static final Errno.Function SETSIGDEFAULT = Errno.function(
                Libc.posix_spawnattr_setsigdefault$address(),
                Libc.posix_spawnattr_setsigdefault$descriptor());
        static final Errno.Function SETFLAGS = Errno.function(
                Libc.posix_spawnattr_setflags$address(),
                Libc.posix_spawnattr_setflags$descriptor());
        static final Errno.Function SIGEMPTYSET =
                Errno.function(Libc.sigemptyset$address(), Libc.sigemptyset$descriptor());
        static final Errno.Function SIGADDSET =
                Errno.function(Libc.sigaddset$address(), Libc.sigaddset$descriptor());
    }

    /**
     * Starts {@code path} with {@code argv} and {@code env} ("NAME=value" strings); the child
     * gets {@code inherit[i]} as descriptor {@code FIRST_INHERITED_FD + i}, its standard
     * descriptors 0-2 as they are here, and no other. Returns the child's pid.
     */
    public static int spawn(String path, List<String> argv, List<String> env, int[] inherit)
            throws ErrnoException {
        return spawn(path, argv, env, inherit, -1, -1, false);
    }

    /**
     * As {@link #spawn(String, List, List, int[])}, the child the leader of a new process
     * group: a signal sent to the caller's group (a terminal's, {@code kill -- -PGID},
     * {@code timeout}'s) does not reach it.
     */
    public static int spawnInNewGroup(String path, List<String> argv, List<String> env,
            int[] inherit) throws ErrnoException {
        return spawn(path, argv, env, inherit, -1, -1, true);
    }

    /**
     * As {@link #spawn(String, List, List, int[])}, with {@code stdout} and {@code stderr}
     * (each unless -1) as the child's descriptors 1 and 2.
     */
    public static int spawn(String path, List<String> argv, List<String> env, int[] inherit,
            int stdout, int stderr) throws ErrnoException {
        return spawn(path, argv, env, inherit, stdout, stderr, false);
    }

    private static int spawn(String path, List<String> argv, List<String> env, int[] inherit,
            int stdout, int stderr, boolean newGroup) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(posix_spawn_file_actions_t.layout());
            MemorySegment attr = arena.allocate(posix_spawnattr_t.layout());
            check("posix_spawn_file_actions_init", call(H.ACTIONS_INIT, actions));
            try {
                check("posix_spawnattr_init", call(H.ATTR_INIT, attr));
                try {
                    if (stdout >= 0) {
                        // First, while no inherited descriptor has been moved onto 1's range.
                        check("posix_spawn_file_actions_adddup2",
                                call(H.ADDDUP2, actions, arg(stdout), arg(1)));
                    }
                    if (stderr >= 0) {
                        check("posix_spawn_file_actions_adddup2",
                                call(H.ADDDUP2, actions, arg(stderr), arg(2)));
                    }
                    addInheritance(actions, inherit);
                    int flags = configureSignals(arena, attr);
                    if (newGroup) {
                        check("posix_spawnattr_setpgroup", call(H.SETPGROUP, attr, arg(0)));
                        flags |= POSIX_SPAWN_SETPGROUP;
                    }
                    check("posix_spawnattr_setflags", call(H.SETFLAGS, attr, arg(flags)));
                    MemorySegment pid = arena.allocate(JAVA_INT);
                    check("posix_spawn", (int) Errno.call(H.SPAWN, Errno.state(), pid,
                            arena.allocateFrom(path), actions, attr,
                            Posix.nullTerminated(arena, argv), Posix.nullTerminated(arena, env)));
                    return pid.get(JAVA_INT, 0);
                } finally {
                    call(H.ATTR_DESTROY, attr);
                }
            } finally {
                call(H.ACTIONS_DESTROY, actions);
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
                    call(H.ADDDUP2, actions, arg(inherit[i]), arg(high + i)));
        }
        for (int i = 0; i < inherit.length; i++) {
            // dup2 onto a new number clears O_CLOEXEC there: exactly these survive the exec.
            check("posix_spawn_file_actions_adddup2",
                    call(H.ADDDUP2, actions, arg(high + i), arg(FIRST_INHERITED_FD + i)));
        }
        check("posix_spawn_file_actions_addclosefrom_np",
                call(H.ADDCLOSEFROM, actions, arg(FIRST_INHERITED_FD + inherit.length)));
    }

    /** Sets the signal mask and defaults; returns the flags that make them apply. */
    private static int configureSignals(Arena arena, MemorySegment attr) throws ErrnoException {
        MemorySegment empty = arena.allocate(sigset_t.layout());
        call(H.SIGEMPTYSET, empty);
        MemorySegment defaults = arena.allocate(sigset_t.layout());
        call(H.SIGEMPTYSET, defaults);
        for (int sig : new int[] {Libc.SIGTERM(), Libc.SIGINT(), Libc.SIGHUP(), Libc.SIGPIPE(),
                Libc.SIGQUIT(), Libc.SIGUSR1(), Libc.SIGUSR2(), Libc.SIGCHLD()}) {
            call(H.SIGADDSET, defaults, arg(sig));
        }
        check("posix_spawnattr_setsigmask", call(H.SETSIGMASK, attr, empty));
        check("posix_spawnattr_setsigdefault", call(H.SETSIGDEFAULT, attr, defaults));
        return Libc.POSIX_SPAWN_SETSIGMASK() | Libc.POSIX_SPAWN_SETSIGDEF();
    }

    /**
     * A posix_spawn* call, which returns an error number rather than set errno; or a sig*set
     * one, which returns -1 and sets errno only for a bad signal number, none of these.
     */
    private static int call(Errno.Function function, MemorySegment a0) {
        return (int) Errno.call(function, Errno.state(), a0);
    }

    private static int call(Errno.Function function, MemorySegment a0, MemorySegment a1) {
        return (int) Errno.call(function, Errno.state(), a0, a1);
    }

    private static int call(Errno.Function function, MemorySegment a0, MemorySegment a1,
            MemorySegment a2) {
        return (int) Errno.call(function, Errno.state(), a0, a1, a2);
    }

    /** The posix_spawn* functions return an error number instead of setting errno. */
    private static void check(String function, int result) throws ErrnoException {
        if (result != 0) {
            throw new ErrnoException(function, result);
        }
    }
}
