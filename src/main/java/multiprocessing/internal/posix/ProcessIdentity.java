package multiprocessing.internal.posix;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Who a process is, beyond its pid: its start time (field 22 of {@code /proc/<pid>/stat}, in
 * clock ticks since boot) and its pid namespace. A pid alone names whichever process holds it
 * now: after the owner of a lock dies its pid may be given to another process, which would
 * hide the death for good; and a process of another pid namespace that shares /dev/shm (a
 * container) stores a pid that means another process, or none, here.
 *
 * <p>This process's own identity is read once. Another's is read when asked, in the same read
 * of /proc that tells a zombie from a live process, so a liveness check costs one kill(2) and
 * one small file read, as it did with the pid alone.
 */
public final class ProcessIdentity {
    private ProcessIdentity() {}

    /** This process's start time, 0 if /proc cannot tell. */
    public static final long START = startTime(Posix.getpid());
    /** This process's pid namespace (the inode of /proc/self/ns/pid), 0 if unknown. */
    public static final int NAMESPACE = namespace();
    /**
     * Eight hex digits that name this machine's boot and this pid namespace: a pid and a start
     * time mean a process only where both are the same, so a file name that carries them (a
     * private directory's) carries this too. Two containers sharing /tmp, or hosts sharing a
     * home directory, then never take each other's names for their own pids'.
     */
    public static final String HOST = host();

    private static final long STAMP_START_BITS = (1L << 40) - 1;
    private static final int STAMP_NAMESPACE_BITS = (1 << 23) - 1;

    /**
     * An identity in one word, for shared memory that has room for no more beside a pid (a
     * queue ring's claims): {@code start} in bits 0..39 (clock ticks: 348 years at 100 Hz), the
     * low 23 bits of {@code namespace} in bits 40..62 (a namespace's inode is a fixed base plus
     * a small index, so two namespaces of one machine differ there), bit 63 set so that no
     * stamp is 0, which means "not known". 0 and 0 give 0.
     */
    public static long stamp(long start, int namespace) {
        if (start == 0 && namespace == 0) {
            return 0;
        }
        return Long.MIN_VALUE | ((long) (namespace & STAMP_NAMESPACE_BITS) << 40)
                | (start & STAMP_START_BITS);
    }

    /** This process's {@link #stamp}. */
    public static final long STAMP = stamp(START, NAMESPACE);

    private static final int TAG_START_BITS = (1 << 15) - 1;
    private static final int TAG_START_KNOWN = 1 << 15;
    private static final int TAG_NAMESPACE_BITS = (1 << 15) - 1;

    /**
     * An identity in 32 bits, for a word that must be set in one atomic update with a pid (a
     * lock's owner): the low 15 bits of {@code start} in bits 0..14, bit 15 set if
     * {@code start} is known (not 0), the low 15 bits of {@code namespace} in bits 16..30, bit
     * 31 set so that no tag is 0, which means "not known". Narrower than a {@link #stamp}: a
     * process given a dead owner's pid passes for the owner if it started a multiple of 32,768
     * clock ticks (5.5 minutes at 100 Hz) after it, to the tick. 0 and 0 give 0.
     */
    public static int tag(long start, int namespace) {
        if (start == 0 && namespace == 0) {
            return 0;
        }
        return Integer.MIN_VALUE | ((namespace & TAG_NAMESPACE_BITS) << 16)
                | (start == 0 ? 0 : TAG_START_KNOWN | (int) (start & TAG_START_BITS));
    }

    /** This process's {@link #tag}. */
    public static final int TAG = tag(START, NAMESPACE);

    /**
     * Whether {@code tag} names a process of another pid namespace than this one's (both
     * known): its pid says nothing here, not even when it is this process's own.
     */
    public static boolean ofAnotherNamespace(int tag) {
        int namespace = (tag >>> 16) & TAG_NAMESPACE_BITS;
        return namespace != 0 && NAMESPACE != 0 && namespace != (NAMESPACE & TAG_NAMESPACE_BITS);
    }

    /** {@link #alive(int, long, int)} for an identity known as a {@link #tag} (0: by pid alone). */
    public static boolean aliveTagged(int pid, int tag) {
        if (ofAnotherNamespace(tag)) {
            return true;
        }
        return (tag & TAG_START_KNOWN) == 0 ? check(pid, 0, 0)
                : check(pid, tag & TAG_START_BITS, TAG_START_BITS);
    }

    /**
     * {@link #alive(int, long, int)} for an identity known as a {@link #stamp} (0: judge by
     * the pid alone).
     */
    public static boolean alive(int pid, long stamp) {
        if (stamp == 0) {
            return alive(pid, 0, 0);
        }
        int namespace = (int) ((stamp >>> 40) & STAMP_NAMESPACE_BITS);
        if (namespace != 0 && NAMESPACE != 0 && namespace != (NAMESPACE & STAMP_NAMESPACE_BITS)) {
            return true;
        }
        long start = stamp & STAMP_START_BITS;
        return check(pid, start, start == 0 ? 0 : STAMP_START_BITS);
    }

    /** The start time of process {@code pid}, 0 if it does not exist or /proc cannot tell. */
    public static long startTime(int pid) {
        String[] fields = statFields(pid);
        return fields == null ? 0 : parseStart(fields);
    }

    /**
     * Whether the process {@code pid} that started at {@code start} (0: unknown, judge by pid)
     * in pid namespace {@code namespace} (0: unknown, taken as this one) still runs. A process
     * of another namespace cannot be looked at from here: it counts as alive, since taking a
     * lock from a live owner is worse than waiting for a dead one.
     */
    public static boolean alive(int pid, long start, int namespace) {
        if (namespace != 0 && NAMESPACE != 0 && namespace != NAMESPACE) {
            return true;
        }
        return check(pid, start, start == 0 ? 0 : -1L);
    }

    /**
     * Whether {@code pid} runs and, unless {@code mask} is 0, started at {@code start} in the
     * bits of {@code mask}.
     */
    private static boolean check(int pid, long start, long mask) {
        try {
            Posix.kill(pid, 0);
        } catch (ErrnoException e) {
            if (e.errno() == Posix.ESRCH) {
                return false;
            }
            // EPERM: it exists, another user's
        }
        String[] fields = statFields(pid);
        if (fields == null) {
            return true; // exists (kill said so) but /proc hides it: nothing more to tell
        }
        char state = fields[0].isEmpty() ? '?' : fields[0].charAt(0);
        if (state == 'Z' || state == 'X') {
            return false; // dead, not yet reaped by its parent
        }
        return mask == 0 || (parseStart(fields) & mask) == start;
    }

    /** The fields of /proc/pid/stat after the command name: [0] is field 3 (the state). */
    private static String[] statFields(int pid) {
        try {
            String stat = readProcFile("/proc/" + pid + "/stat");
            // The command name in parentheses may hold spaces or ')': the fields follow the last ')'.
            int close = stat.lastIndexOf(')');
            return close < 0 ? null : stat.substring(close + 1).trim().split(" ");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static long parseStart(String[] fields) {
        try {
            return fields.length > 19 ? Long.parseLong(fields[19]) : 0; // field 22
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String host() {
        String boot;
        try {
            boot = readProcFile("/proc/sys/kernel/random/boot_id").trim();
        } catch (IOException | RuntimeException e) {
            boot = "";
        }
        String hex = Integer.toHexString((boot + "/" + NAMESPACE).hashCode());
        return "0".repeat(8 - hex.length()) + hex;
    }

    /**
     * A small /proc file, read to its end. With a FileInputStream, whose classes every JVM has
     * loaded at its start: Files.readString and readAllLines load ~40 classes of NIO channels
     * and charset decoders (and /proc/sys files answer readString's read past their start with
     * nothing), ~10 ms of a child's first receipt (bench/RESULTS.md, tenth session).
     */
    private static String readProcFile(String path) throws IOException {
        try (java.io.FileInputStream in = new java.io.FileInputStream(path)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        }
    }

    private static int namespace() {
        try {
            // "pid:[4026531836]": the inode number names the namespace.
            String link = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
            return (int) Long.parseLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
