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
 * <p>Its name, {@code jmp-<pid>-<start time>-<random>}, says whose it is: a process killed
 * (or terminated: a child then runs no exit hook) cannot remove it, so its parent does when it
 * reaps it ({@link #removeLeftBy}), once the pid and start time name no live process. A JVM
 * whose parent is not this library's (a program killed by the OOM killer or kill -9, a JVM a
 * test harness started) has nobody to do that: the next JVM that creates its own directory
 * removes such leftovers ({@link TempDirSweeper}).
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
                created = Files.createTempDirectory(PREFIX + ProcessHandle.current().pid() + "-"
                                + ProcessIdentity.START + "-",
                        PosixFilePermissions.asFileAttribute(
                                EnumSet.of(PosixFilePermission.OWNER_READ,
                                        PosixFilePermission.OWNER_WRITE,
                                        PosixFilePermission.OWNER_EXECUTE)));
                requirePrivate(created);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create this process's private temporary "
                        + "directory under " + System.getProperty("java.io.tmpdir"), e);
            }
            // After the children are joined: one that is still starting may connect here.
            AtExit.register(AtExit.Stage.RELEASE, () -> removeQuietly(created));
            dir = created;
            TempDirSweeper.sweepInBackground(created.getParent(), PREFIX);
        }
        return dir;
    }

    /**
     * Removes the private directories process {@code pid} left, if it has ended (a child just
     * reaped): those named after it whose start time is no live process's, that hold nothing
     * but socket files (see {@link TempDirSweeper}).
     */
    public static void removeLeftBy(int pid) {
        TempDirSweeper.removeLeftBy(PREFIX, pid);
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
        if (!a.isDirectory() || !a.permissions().equals(EnumSet.of(PosixFilePermission.OWNER_READ,
                PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE))) {
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
