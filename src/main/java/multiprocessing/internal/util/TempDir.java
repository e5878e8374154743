package multiprocessing.internal.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;

import multiprocessing.internal.posix.ProcessIdentity;

/**
 * This process's private directory for Unix socket files (CPython's
 * {@code multiprocessing.util.get_temp_dir()}, gh-97514): created on first use under
 * {@code java.io.tmpdir} with mode 0700, so no other user can reach a socket in it, whatever
 * the socket's own mode; removed with what it holds when the JVM exits normally.
 *
 * <p>Why not an abstract socket name: Linux checks no permission on those, so any local user
 * could connect to a listener that takes no key.
 *
 * <p>Its name, {@code jmp-<pid>-<start time>-h<host>-0} ({@code <random>} in place of the
 * {@code 0} when that name is taken), says whose it is: a process killed (or terminated: a
 * child then runs no exit hook) cannot remove it, so its parent does when it reaps it ({@link
 * #removeLeftBy}), looking that one name up. A JVM whose parent is not this library's (a
 * program killed by the OOM killer or kill -9, a JVM a test harness started) has nobody to do
 * that: the next JVM that creates its own directory removes such leftovers ({@link
 * TempDirSweeper}).
 */
public final class TempDir {
    private TempDir() {}

    private static final String PREFIX = "jmp-";
    private static Path dir;

    /** The directory, created on the first call. */
    public static synchronized Path get() {
        if (dir == null) {
            Path created;
            try {
                created = createPrivate(base(), ownerPart(PREFIX));
                requirePrivate(created);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create this process's private temporary "
                        + "directory under " + base(), e);
            }
            // After the children are joined: one that is still starting may connect here.
            AtExit.register(AtExit.Stage.RELEASE, () -> removeQuietly(created));
            dir = created;
            TempDirSweeper.sweepInBackground(created.getParent(), PREFIX);
        }
        return dir;
    }

    /**
     * The directory private directories go in: {@code java.io.tmpdir}, or /tmp when a socket's
     * path under it would not fit in a Unix socket address (108 bytes with its NUL), as
     * CPython's {@code util._get_base_temp_dir} does. A child inherits the parent's
     * {@code java.io.tmpdir} and so decides the same.
     */
    public static Path base() {
        return base(System.getProperty("java.io.tmpdir"));
    }

    public static Path base(String tmpdir) {
        // The longest socket path under it: our directory's name and random part, then
        // "/listener-" and 12 hex digits (Listener's, the longest of the names made here); the
        // class server's path (internal.spawn) is up to 3 characters longer, hence the slack.
        int longest = tmpdir.length() + 1 + ownerPart(PREFIX).length() + RANDOM_CHARS + 1 + 9
                + 12 + 4;
        if (longest > SUN_PATH_MAX) {
            return Path.of("/tmp");
        }
        try {
            return Path.of(tmpdir);
        } catch (java.nio.file.InvalidPathException unencodable) {
            // A name this JVM's file-name encoding cannot write (a non-ASCII one under
            // LANG=C): no file of it can be made, and a class initialised with it stayed
            // broken for the JVM's life (attack 40). The JDK warns that it does not exist.
            return Path.of("/tmp");
        }
    }

    private static final int SUN_PATH_MAX = 107;
    /** 0700: only this user may enter, whatever a socket's own mode. */
    private static final Set<PosixFilePermission> PRIVATE = EnumSet.of(
            PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_EXECUTE);
    /** The random part of a directory's name: base 36, so short enough for socket paths. */
    private static final int RANDOM_CHARS = 10;
    /**
     * The part a directory's name ends with when it is free, in place of a random one: the one
     * name a parent looks for when it reaps its child ({@link #removeLeftBy}), where listing
     * the temporary directory cost ~1 ms per thousand entries there at every reap. A random
     * part is taken only when that name exists (someone made it first); such a directory is
     * left to the sweeps ({@link TempDirSweeper}).
     */
    static final String OWN_PART = "0";

    /**
     * Creates a directory named {@code prefix} and {@link #OWN_PART}, or a random part when
     * that name exists, in {@code base}, mode 0700 (mkdir fails if the name exists: a
     * directory this JVM did not make is never used).
     */
    private static Path createPrivate(Path base, String prefix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            StringBuilder name = new StringBuilder(prefix);
            if (attempt == 0) {
                name.append(OWN_PART);
            } else {
                for (byte b : Urandom.bytes(RANDOM_CHARS)) {
                    name.append(Character.forDigit((b & 0xff) % 36, 36));
                }
            }
            try {
                return createPrivateDirectory(base.resolve(name.toString()));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt >= 16) {
                    throw e;
                }
            }
        }
    }

    /**
     * Creates directory {@code dir}, which must not exist (a directory this JVM did not make
     * is never trusted), of mode 0700 also under a umask that takes an owner's bit (attack 40:
     * under umask 0200 it was 0500, which its checks refused and nobody could write into).
     */
    public static Path createPrivateDirectory(Path dir) throws IOException {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PRIVATE));
        Files.setPosixFilePermissions(dir, PRIVATE);
        return dir;
    }

    /**
     * The start of a private directory's name: {@code prefix}, this JVM's pid, start time and
     * host ({@link ProcessIdentity#HOST}), which tell a later JVM whether its owner is gone.
     */
    public static String ownerPart(String prefix) {
        return ownerPart(prefix, ProcessHandle.current().pid(), ProcessIdentity.START);
    }

    /** The start of the names of the private directories of process {@code pid} of this host. */
    private static String ownerPart(String prefix, long pid, long start) {
        return prefix + pid + "-" + start + "-h" + ProcessIdentity.HOST + "-";
    }

    /**
     * Removes the private directory process {@code pid}, which started at {@code start}, left
     * in {@code base} (its {@link #base()}: the child's, whose temporary directory may not be
     * this JVM's) if it has ended (a child just reaped) and it holds nothing but socket files
     * (see {@link TempDirSweeper}): the one of its own name ({@link #OWN_PART}). With {@code
     * start} 0 (unknown) it lists the temporary directory for those named after the pid.
     */
    public static void removeLeftBy(Path base, int pid, long start) {
        if (start > 0) {
            TempDirSweeper.removeOfEnded(base, ownerPart(PREFIX, pid, start) + OWN_PART);
        } else {
            TempDirSweeper.sweep(base, PREFIX, pid);
        }
    }

    /** A fresh path in the directory for a socket; nothing is created there. */
    public static Path newSocketPath(String prefix) {
        return get().resolve(prefix + Long.toHexString(
                java.util.concurrent.ThreadLocalRandom.current().nextLong() & 0xffff_ffff_ffffL));
    }

    /** The umask may narrow the mode, never widen it; a symlink here would be someone's trap. */
    private static void requirePrivate(Path p) throws IOException {
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class,
                LinkOption.NOFOLLOW_LINKS);
        if (!a.isDirectory() || !a.permissions().equals(PRIVATE)) {
            throw new IOException(p + " is not a directory of mode 0700: "
                    + PosixFilePermissions.toString(a.permissions()));
        }
    }

    private static void removeQuietly(Path root) {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            // At exit nobody is left to tell; what stays is a private directory in the temp dir.
        }
    }
}
