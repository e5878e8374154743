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
 * ("Could not determine current working directory"), so such a child starts in {@code /}
 * (attack 48: no child could start; CPython's can). Its class path entries are as the parent
 * gave them: a relative one could be found nowhere anyway.
 */
final class WorkingDirectory {
    private WorkingDirectory() {}

    private static volatile Boolean envChangesDirectory;

    /** Whether this process's working directory is gone (its link says "(deleted)"). */
    static boolean gone() {
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
    static List<String> fromRoot(List<String> argv) {
        List<String> out = new ArrayList<>();
        if (envChangesDirectory()) {
            out.addAll(List.of("/usr/bin/env", "-C", "/"));
        } else {
            out.addAll(List.of("/bin/sh", "-c", "cd / && exec \"$0\" \"$@\""));
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
