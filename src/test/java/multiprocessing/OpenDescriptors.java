package multiprocessing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The descriptors this JVM has open, by kind, for tests that check that many processes leave
 * none behind. Compared by kind ("pipe", "socket", "anon_inode:[pidfd]", a file's path) and
 * count, since a pipe made again gets another inode. Jar files are left out: the JVM opens each
 * jar of its class path when it first loads a class from it and keeps it open, which a test
 * cannot tell from its own work, and no process of the library holds one.
 */
public final class OpenDescriptors {
    private static final Path FDS = Path.of("/proc/self/fd");

    private OpenDescriptors() {}

    /** How many descriptors of each kind are open now. */
    public static Map<String, Integer> byKind() throws IOException {
        Map<String, Integer> kinds = new TreeMap<>();
        // The listing's own descriptor, open on this directory.
        String self = "/proc/" + ProcessHandle.current().pid() + "/fd";
        try (Stream<Path> fds = Files.list(FDS)) {
            for (Path fd : fds.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException closed) {
                    continue; // the directory stream's own, or one closed meanwhile
                }
                if (target.endsWith(".jar") || target.equals(self)) {
                    continue;
                }
                kinds.merge(kind(target), 1, Integer::sum);
            }
        }
        return kinds;
    }

    private static String kind(String target) {
        if (target.startsWith("pipe:")) {
            return "pipe";
        }
        if (target.startsWith("socket:")) {
            return "socket";
        }
        return target;
    }

    /**
     * Waits up to 10 s (a reaped child's pidfd and pipes are closed by threads of their own)
     * until no kind has more descriptors open than in {@code before}; fails naming the kinds
     * that kept more.
     */
    public static void assertNoMoreThan(Map<String, Integer> before) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<String> more;
        do {
            more = new ArrayList<>();
            for (Map.Entry<String, Integer> e : byKind().entrySet()) {
                int was = before.getOrDefault(e.getKey(), 0);
                if (e.getValue() > was) {
                    more.add(e.getKey() + ": " + was + " -> " + e.getValue());
                }
            }
            if (more.isEmpty()) {
                return;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        fail("file descriptors left open: " + more);
    }
}
