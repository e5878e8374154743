package multiprocessing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import multiprocessing.internal.heap.Heap;

/**
 * Fails a test class that leaves shared memory behind in /dev/shm: what appeared there while
 * the class ran must be gone once it is done (after a grace period), except this JVM's own
 * heap arenas and receipts, which live as long as the JVM by design.
 *
 * <p>Other programs (other test runs on the machine) create segments too: a new name that some
 * other live process has mapped is theirs, not a leak of this class.
 */
public final class NoLeftoverSharedMemory implements BeforeAllCallback, AfterAllCallback {
    private static final Path SHM = Path.of("/dev/shm");
    private static final ExtensionContext.Namespace NS =
            ExtensionContext.Namespace.create(NoLeftoverSharedMemory.class);

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        context.getStore(NS).put("before", names());
    }

    @Override
    @SuppressWarnings("unchecked")
    public void afterAll(ExtensionContext context) throws Exception {
        Set<String> before = (Set<String>) context.getStore(NS).get("before");
        assertNoneLeft(before);
    }

    /** Names in /dev/shm now. */
    public static Set<String> names() throws IOException {
        try (Stream<Path> s = Files.list(SHM)) {
            Set<String> names = new HashSet<>();
            s.forEach(p -> names.add(p.getFileName().toString()));
            return names;
        }
    }

    /** Names of the objects in /dev/shm this process maps now ("(deleted)" taken off). */
    public static Set<String> mappedHere() throws IOException {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            Set<String> names = new HashSet<>();
            lines.filter(l -> l.contains("/dev/shm/")).forEach(l -> names.add(
                    l.substring(l.indexOf("/dev/shm/") + 9).replace(" (deleted)", "")));
            return names;
        }
    }

    /** What a probe finds still there; a set it returns may be changed by the caller. */
    @FunctionalInterface
    public interface Probe {
        Set<String> stillThere() throws Exception;
    }

    /**
     * Asks for GCs, 50 ms apart, until {@code probe} finds nothing still there or 20 s have
     * passed (what the Cleaner frees once objects are dropped); returns its last finding.
     */
    public static Set<String> afterGcs(Probe probe) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        Set<String> left;
        do {
            System.gc();
            Thread.sleep(50);
            left = probe.stillThere();
        } while (!left.isEmpty() && System.nanoTime() < deadline);
        return left;
    }

    /** Waits up to 5 s for every name that is not in {@code before} to be gone. */
    public static void assertNoneLeft(Set<String> before) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        Set<String> left;
        do {
            left = leftovers(before);
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        fail("shared memory left in /dev/shm: " + left);
    }

    static Set<String> leftovers(Set<String> before) throws IOException {
        Set<String> left = names();
        left.removeAll(before);
        for (String own : Heap.ownedNames()) {
            left.remove(own.substring(1));
        }
        if (left.stream().anyMatch(n -> n.startsWith(Heap.NAME_PREFIX + "r"))) {
            // Receipts of a process that died are given back and removed by whoever finds them
            // (its parent when it reaps it, any process whose sweep finds blocks still held):
            // find them now, so that a dead process of another program running meanwhile
            // (another test run) is not taken for a leak of this class.
            Heap.reapDeadReceipts();
            left.retainAll(names());
        }
        if (!left.isEmpty()) {
            left.removeAll(mappedByOthers());
        }
        // A receipts segment (mph_r<pid>_...) lives as long as the process named in it, by
        // design; one of a live process is another run's (this class's children are gone).
        left.removeIf(NoLeftoverSharedMemory::receiptsOfALiveProcess);
        return left;
    }

    private static boolean receiptsOfALiveProcess(String name) {
        String prefix = Heap.NAME_PREFIX + "r";
        if (!name.startsWith(prefix)) {
            return false;
        }
        int end = name.indexOf('_', prefix.length());
        if (end < 0) {
            return false;
        }
        try {
            long pid = Long.parseLong(name.substring(prefix.length(), end));
            return pid != ProcessHandle.current().pid()
                    && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Names in /dev/shm that a process other than this one has mapped. */
    private static Set<String> mappedByOthers() {
        Set<String> mapped = new HashSet<>();
        long self = ProcessHandle.current().pid();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> Long.parseLong(p.getFileName().toString()) != self)
                    .forEach(p -> {
                        try (Stream<String> lines = Files.lines(p.resolve("maps"))) {
                            lines.forEach(line -> {
                                int at = line.indexOf("/dev/shm/");
                                if (at >= 0) {
                                    String name = line.substring(at + "/dev/shm/".length());
                                    mapped.add(name.replace(" (deleted)", ""));
                                }
                            });
                        } catch (IOException | RuntimeException ignored) {
                            // gone, or not ours to read
                        }
                    });
        } catch (IOException ignored) {
            // no /proc: every new name counts
        }
        return mapped;
    }
}
