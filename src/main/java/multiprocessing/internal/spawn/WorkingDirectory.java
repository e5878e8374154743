package multiprocessing.internal.spawn;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A child started while this process's working directory has been removed (a service started
 * from a temporary directory, a build directory deleted under it): a JVM cannot start there
 * ("Could not determine current working directory"), so such a child starts in the directory
 * of that name if one was made again since (a redeploy: relative class path entries then
 * resolve as the parent's did), else in {@code /} (attack 48: no child could start; CPython's
 * can).
 */
public final class WorkingDirectory {
    private WorkingDirectory() {}

    private static volatile Boolean envChangesDirectory;

    /** Whether this process's working directory is gone (its link says "(deleted)"). */
    public static boolean gone() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/cwd")).toString()
                    .endsWith(" (deleted)");
        } catch (IOException | RuntimeException e) {
            return false; // no /proc: nothing to tell
        }
    }

    /**
     * {@code argv} (its first element the program's path) run from {@code /}: through
     * coreutils' {@code env -C /}, or where it has no -C (busybox) a shell's {@code cd /},
     * which says on standard error that it found no working directory.
     */
    public static List<String> fromRoot(List<String> argv) {
        String where = "/";
        String named = System.getProperty("user.dir");
        if (named != null && Files.isDirectory(Path.of(named))) {
            where = named;
        }
        List<String> out = new ArrayList<>();
        if (envChangesDirectory()) {
            out.addAll(List.of("/usr/bin/env", "-C", where));
        } else {
            out.addAll(List.of("/bin/sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", where));
        }
        out.addAll(argv);
        return out;
    }

    private static boolean envChangesDirectory() {
        Boolean known = envChangesDirectory;
        if (known == null) {
            boolean works;
            try {
                java.lang.Process p = new ProcessBuilder("/usr/bin/env", "-C", "/", "true")
                        .directory(new File("/")).redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                works = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (IOException | RuntimeException e) {
                works = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                works = false;
            }
            envChangesDirectory = known = works;
        }
        return known;
    }
}
