package multiprocessing.internal.util;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.ProcessIdentity;

/**
 * Removes the private directories that processes which ended without their exit hooks left in
 * the temporary directory: a process's directory for socket files ({@link TempDir}) and a
 * class server's. Their owners remove them at exit, but a JVM that is killed (SIGKILL, the OOM
 * killer) or a child that is terminated runs no exit hook; a parent of this library removes
 * what its own children leave when it reaps them ({@link #removeOfEnded}), but nobody else's:
 * not a program's whose parent is a shell or a test harness. So each JVM, when it creates a
 * directory of a kind, also sweeps the leftovers of that kind ({@link #sweepInBackground}).
 *
 * <p>Implementation note. A directory's name is
 * {@code <prefix><pid>-<start time>-h<host>-<random>} ({@link TempDir#ownerPart}; the random
 * part is {@link TempDir#OWN_PART} for a process's socket directory when free): pid, start
 * time and host ({@link ProcessIdentity#HOST}: this boot and pid namespace) name its owner.
 * One is removed only when all of these hold, else it is left as it is:
 * <ul>
 * <li>its host is this JVM's: a pid means nothing in another container that shares the
 *     directory, or on another machine that shares it by NFS, so such names are never judged;
 *     nor are names of other forms (this library's before it carried the host);
 * <li>its name's pid and start time name no live process ({@link ProcessIdentity#alive}: a
 *     pid since taken by another process does not keep it; a start time of 0, unknown, counts
 *     only once the pid is not alive at all);
 * <li>it is a directory, not a link to one, of this user (the effective uid), with the
 *     permissions 0700 this library gives it;
 * <li>it holds nothing but socket files: a regular file, a link or a subdirectory in it is
 *     not this library's, and someone may want it.
 * </ul>
 * The checks and the removal go through a {@link SecureDirectoryStream} of the temporary
 * directory (openat, unlinkat): the directory opened without following a link must be the one
 * checked (same device and inode), its entries are removed relative to it, and the directory
 * itself last, which fails if anything appeared in it meanwhile. Two JVMs sweeping at once
 * only race to remove the same entries.
 *
 * <p>Only a temporary directory that others cannot write to, or that is sticky (as /tmp is),
 * and is this user's or root's, is swept: in one where another user may rename entries, an
 * entry swapped for a FIFO between the checks and the open would block the sweep.
 *
 * <p>The sweep lists the temporary directory once and reads /proc once per candidate, on a
 * daemon thread of the library: the JVM that creates its directory never waits for it. It is
 * best effort: a failure is logged at DEBUG and the sweep goes on with the next directory.
 *
 * <p>Limit: a pid names a process of this pid namespace. A JVM of another pid namespace (a
 * container) that shares this temporary directory under the same uid has names that mean
 * nothing here: the host part of the names keeps them apart. {@code
 * -Dmultiprocessing.tempDirSweep=false} turns the sweep off (children inherit it; what a
 * parent removes of its own reaped children is not affected).
 */
public final class TempDirSweeper {
    private TempDirSweeper() {}


    private static final int S_IFMT = 0170000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFSOCK = 0140000;
    static final int ANY_PID = -1;
    /** After the prefix: pid, start time, host, random part. */
    private static final Pattern NAME =
            Pattern.compile("([0-9]{1,10})-([0-9]{1,19})-h([0-9a-f]{8})-[0-9a-z]+");
    /** Turns the sweep off with "false". */
    public static final String PROPERTY = "multiprocessing.tempDirSweep";

    /** Whose a directory is, as its name says. */
    record Owner(int pid, long start, String host) {}

    /**
     * Sweeps {@code tmp} for leftovers named with {@code prefix} on a new daemon thread, unless
     * the sweep is turned off. Returns at once.
     */
    public static void sweepInBackground(Path tmp, String prefix) {
        if ("false".equalsIgnoreCase(System.getProperty(PROPERTY))) {
            return;
        }
        try {
            LibraryThreads.platform().daemon().name("multiprocessing-tmp-sweep")
                    .start(() -> sweep(tmp, prefix, ANY_PID));
        } catch (RuntimeException | OutOfMemoryError e) {
            LibraryLog.get().log(System.Logger.Level.DEBUG,
                    "multiprocessing: no sweep of " + tmp, e);
        }
    }

    /**
     * Removes directory {@code name} of {@code tmp}, which a process that has ended (a child
     * just reaped) made, if it passes the checks of the class note; looks at that one name
     * only, where {@link #sweep} lists the whole directory. Never throws.
     */
    static void removeOfEnded(Path tmp, String name) {
        Path p = tmp.resolve(name);
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return; // the common case: a child that made no directory, or removed its own
        }
        // Opening the stream reads no entry of the temporary directory.
        try (DirectoryStream<Path> all = Files.newDirectoryStream(tmp)) {
            int uid = Posix.geteuid();
            if (all instanceof SecureDirectoryStream<Path> secure && safeToSweep(tmp, uid)) {
                removeIfLeftover(secure, p, uid);
            }
        } catch (IOException | RuntimeException e) {
            LibraryLog.get().log(System.Logger.Level.DEBUG, "multiprocessing: left " + p, e);
        }
    }

    /**
     * Removes the leftovers named with {@code prefix} in {@code tmp} (of process {@code pid}
     * only, unless it is {@link #ANY_PID}); returns how many. Never throws.
     */
    static int sweep(Path tmp, String prefix, int pid) {
        List<Path> candidates = new ArrayList<>();
        int removed = 0;
        try (DirectoryStream<Path> all = Files.newDirectoryStream(tmp)) {
            if (!(all instanceof SecureDirectoryStream<Path> secure)) {
                LibraryLog.get().log(System.Logger.Level.DEBUG,
                        "multiprocessing: no sweep of " + tmp
                        + ": the file system offers no secure directory stream");
                return 0;
            }
            int uid = Posix.geteuid();
            if (!safeToSweep(tmp, uid)) {
                return 0;
            }
            for (Path p : all) {
                String name = p.getFileName().toString();
                if (name.startsWith(prefix)) {
                    Owner owner = owner(name.substring(prefix.length()));
                    if (owner != null && owner.host().equals(ProcessIdentity.HOST)
                            && (pid == ANY_PID || owner.pid() == pid)
                            && !ProcessIdentity.alive(owner.pid(), owner.start(), 0)) {
                        candidates.add(p);
                    }
                }
            }
            for (Path p : candidates) {
                try {
                    if (removeIfLeftover(secure, p, uid)) {
                        removed++;
                    }
                } catch (IOException | RuntimeException e) {
                    LibraryLog.get().log(System.Logger.Level.DEBUG,
                            "multiprocessing: left " + p, e);
                }
            }
        } catch (IOException | RuntimeException e) {
            LibraryLog.get().log(System.Logger.Level.DEBUG,
                    "multiprocessing: sweep of " + tmp + " stopped", e);
        }
        return removed;
    }

    /**
     * Whether {@code tmp} is one where only its owner can rename what others made: not
     * writable by others, or sticky; and this user's or root's.
     */
    private static boolean safeToSweep(Path tmp, int uid) throws IOException {
        Map<String, Object> a = Files.readAttributes(tmp, "unix:mode,uid");
        int mode = (int) a.get("mode");
        int owner = (int) a.get("uid");
        boolean safe = (owner == 0 || owner == uid) && ((mode & 0022) == 0 || (mode & 01000) != 0);
        if (!safe) {
            LibraryLog.get().log(System.Logger.Level.DEBUG, "multiprocessing: no sweep of " + tmp
                    + ": others may rename what is in it");
        }
        return safe;
    }

    /**
     * Whose a name's part after the prefix says the directory is, or null if it is not a name
     * this library gives (with its host).
     */
    static Owner owner(String rest) {
        Matcher m = NAME.matcher(rest);
        if (!m.matches()) {
            return null;
        }
        try {
            int pid = Integer.parseInt(m.group(1));
            long start = Long.parseLong(m.group(2));
            return pid > 0 ? new Owner(pid, start, m.group(3)) : null;
        } catch (NumberFormatException e) {
            return null; // out of range: not a pid or start time
        }
    }

    /** Removes directory {@code p} of {@code tmp} if it passes the checks of the class note. */
    private static boolean removeIfLeftover(SecureDirectoryStream<Path> tmp, Path p, int uid)
            throws IOException {
        Map<String, Object> seen = Files.readAttributes(p, "unix:mode,uid,fileKey",
                LinkOption.NOFOLLOW_LINKS);
        int mode = (int) seen.get("mode");
        // 0700 as TempDir makes it; a setgid bit inherited from the temporary directory is fine.
        if ((mode & S_IFMT) != S_IFDIR || (mode & 0777) != 0700 || (int) seen.get("uid") != uid) {
            return false;
        }
        Path name = p.getFileName();
        try (SecureDirectoryStream<Path> dir =
                tmp.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS)) {
            if (!Objects.equals(seen.get("fileKey"), dir.getFileAttributeView(
                    BasicFileAttributeView.class).readAttributes().fileKey())) {
                return false; // replaced since it was checked
            }
            List<Path> sockets = new ArrayList<>();
            for (Path entry : dir) {
                Path e = entry.getFileName();
                Map<String, Object> a = Files.readAttributes(entry, "unix:mode,fileKey",
                        LinkOption.NOFOLLOW_LINKS);
                if (((int) a.get("mode") & S_IFMT) != S_IFSOCK
                        || !Objects.equals(a.get("fileKey"), dir.getFileAttributeView(e,
                                BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                                .readAttributes().fileKey())) {
                    return false;
                }
                sockets.add(e);
            }
            for (Path e : sockets) {
                dir.deleteFile(e);
            }
        }
        tmp.deleteDirectory(name);
        return true;
    }
}
