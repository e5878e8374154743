package multiprocessing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;

import multiprocessing.internal.forkserver.ForkServer;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class that leaves a child process of the test JVM running once it is done
 * (after a grace period for children that are on their way out). JVMs waiting in a fork server
 * for a process to run are not left behind: they are the "forkserver" start method's, and
 * shared by the tests that use it (ForkServerTest checks that they go when stopped).
 */
public final class NoLeftoverProcesses implements AfterAllCallback {
    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        assertNoChildren();
    }

    /** Waits up to 10 s for every child of this JVM to be gone; fails naming those left. */
    public static void assertNoChildren() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<ProcessHandle> left;
        do {
            List<Long> waiting = ForkServer.waitingPids();
            left = ProcessHandle.current().children().filter(ProcessHandle::isAlive)
                    .filter(h -> !waiting.contains(h.pid())).toList();
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        fail("child processes left behind: " + left.stream()
                .map(h -> h.pid() + " " + h.info().commandLine().orElse("?")).toList());
    }
}
