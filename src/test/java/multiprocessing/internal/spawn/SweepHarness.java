package multiprocessing.internal.spawn;

import multiprocessing.internal.posix.ProcessIdentity;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.internal.util.TempDir;

/**
 * A JVM that creates its private socket directory and starts its class server, as a program
 * does on its first listener and its first class of its own, then waits for the sweeps those
 * start (TempDirSweeperTest) and prints its class server's address and its start time; then
 * starts a child that prints its temporary directory.
 */
public final class SweepHarness {
    private SweepHarness() {}

    public static void main(String[] args) throws Exception {
        TempDir.get();
        ClassServer.startIfNeeded();
        ThreadGroup group = LibraryThreads.group();
        Thread[] all = new Thread[group.activeCount() + 16];
        int n = group.enumerate(all, true);
        for (int i = 0; i < n; i++) {
            if (all[i].getName().equals("multiprocessing-tmp-sweep")) {
                all[i].join();
            }
        }
        System.out.println("address " + ClassServer.address());
        System.out.println("start " + ProcessIdentity.START);
        System.out.flush();
        // A child's private directories go where this JVM's do.
        multiprocessing.Process child = new multiprocessing.Process(
                () -> System.out.println("child " + System.getProperty("java.io.tmpdir")));
        child.start();
        child.join();
    }
}
