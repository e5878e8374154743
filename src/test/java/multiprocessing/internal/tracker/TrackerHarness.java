package multiprocessing.internal.tracker;

import multiprocessing.Process;
import multiprocessing.sharedmemory.SharedMemory;

/** A program for the tracker tests, started with ProcessBuilder so that it can be killed. */
public final class TrackerHarness {
    private TrackerHarness() {}

    public static void main(String[] args) throws Exception {
        String prefix = args[1];
        switch (args[0]) {
            case "kill-me" -> {
                // Two segments here, one created by a daemon child, then wait for SIGKILL.
                SharedMemory.create(prefix + "_a", 4096);
                SharedMemory.create(prefix + "_b", 1 << 20);
                Process child = childHolding(prefix + "_c");
                String pipe = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of(
                        "/proc/self/fd/" + ResourceTracker.fdForChild())).toString();
                System.out.println("ready " + child.pid() + " " + pipe);
                System.out.flush();
                Thread.sleep(60_000);
            }
            case "tidy" -> {
                // Creates and unlinks, in the parent and in a child: nothing for the tracker.
                SharedMemory a = SharedMemory.create(prefix + "_a", 4096);
                Process child = new Process(() -> {
                    SharedMemory c = SharedMemory.create(prefix + "_c", 4096);
                    c.close();
                    c.unlink();
                    // Unlinking what another process created unregisters it too.
                    SharedMemory.attach(prefix + "_a").unlink();
                });
                child.start();
                child.join();
                a.close();
                System.out.println("exit " + child.exitCode());
            }
            case "forgotten" -> {
                // Exits normally without unlinking: the tracker unlinks and says so.
                SharedMemory.create(prefix + "_a", 4096).close();
                // A name with a carriage return, which ended the tracker's line there: it
                // registered "_r" and left this one.
                SharedMemory.create(prefix + "_r\rx", 4096).close();
                // A name the JVM's locale cannot encode (run under LANG=C): its inode was read
                // through a Java path, which failed, and it stayed (attack 49).
                SharedMemory.create(prefix + "_\u00e9", 4096).close();
                System.out.println("done");
            }
            case "stalled-create" -> {
                // Run with -Dmultiprocessing.shm.testCreatedStallMillis: an array's arena is
                // created, and the creation stalls just after the object exists, to be killed
                // there by the test.
                String pipe = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of(
                        "/proc/self/fd/" + ResourceTracker.fdForChild())).toString();
                Thread creating = new Thread(
                        () -> multiprocessing.sharedctypes.RawArray.of("b", 16));
                creating.setDaemon(true);
                creating.start();
                System.out.println("ready " + pipe);
                System.out.flush();
                Thread.sleep(60_000);
            }
            case "leave" -> {
                // A child's segment left behind (it is SIGKILLed), then this process leaves
                // the tree and lives on, as an AOT cache's trainer does while it writes.
                Process child = childHolding(prefix + "_c");
                child.kill();
                child.join();
                SharedMemory own = SharedMemory.create(prefix + "_p", 4096);
                System.out.println("holding " + ResourceTracker.leave());
                own.close();
                own.unlink();
                System.out.println("left " + ResourceTracker.leave());
                System.out.flush();
                Thread.sleep(60_000);
            }
            case "made-again" -> {
                // Creates a segment by a name of its own choosing and leaves it; the test
                // unlinks the name and makes another object of that name meanwhile (another
                // program's), then lets this one exit.
                SharedMemory.create(prefix + "_n", 4096).close();
                String pipe = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of(
                        "/proc/self/fd/" + ResourceTracker.fdForChild())).toString();
                System.out.println("created " + pipe);
                System.out.flush();
                System.in.read();
            }
            case "tracker-killed" -> {
                // The test kills the tracker between the first segment and the others: this
                // process starts another tracker, which is told of all three (the child's
                // too, which reports to it).
                SharedMemory.create(prefix + "_a", 4096);
                System.out.println("ready " + pipeOf(ResourceTracker.fdForChild()));
                System.out.flush();
                System.in.read();
                SharedMemory.create(prefix + "_b", 4096);
                Process child = childHolding(prefix + "_c");
                System.out.println("again " + pipeOf(ResourceTracker.fdForChild()) + " "
                        + child.pid());
                System.out.flush();
                Thread.sleep(60_000);
            }
            case "idle-after" -> {
                // Registers once, then does nothing more: the test kills the tracker, then
                // this process.
                SharedMemory.create(prefix + "_a", 4096);
                System.out.println("ready " + pipeOf(ResourceTracker.fdForChild()));
                System.out.flush();
                Thread.sleep(60_000);
            }
            case "child-restarts" -> {
                // The test kills the tracker while a child waits; the child then creates a
                // segment, leaves it for this process and exits: the tracker it starts must
                // not unlink it before this process has ended too.
                SharedMemory own = SharedMemory.create(prefix + "_a", 4096);
                java.nio.file.Path go = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"),
                        prefix + ".go");
                Process child = new Process(() -> {
                    while (!java.nio.file.Files.exists(go)) {
                        Thread.sleep(10);
                    }
                    SharedMemory.create(prefix + "_c", 4096).close();
                });
                child.start();
                System.out.println("ready " + pipeOf(ResourceTracker.fdForChild()));
                System.out.flush();
                System.in.read();
                java.nio.file.Files.writeString(go, "go");
                child.join();
                java.nio.file.Files.delete(go);
                Thread.sleep(3000); // the time the child's tracker would take to unlink it
                System.out.println("kept " + java.nio.file.Files.exists(
                        java.nio.file.Path.of("/dev/shm", prefix + "_c")) + " " + child.exitCode());
                own.close();
                own.unlink();
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static String pipeOf(int fd) throws java.io.IOException {
        return java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + fd))
                .toString();
    }

    /**
     * Starts a daemon child that creates a segment named {@code name} and sleeps, and returns
     * once the segment is registered: it is in /dev/shm a moment before create() returns, and
     * a kill in that moment would leave it behind.
     */
    private static Process childHolding(String name) throws Exception {
        java.nio.file.Path created = java.nio.file.Path.of(
                System.getProperty("java.io.tmpdir"), name + ".created");
        Process child = Process.builder().daemon(true).target(() -> {
            SharedMemory.create(name, 4096);
            java.nio.file.Files.writeString(created, "yes");
            Thread.sleep(60_000);
        }).build();
        child.start();
        while (!java.nio.file.Files.exists(created)) {
            Thread.sleep(10);
        }
        java.nio.file.Files.delete(created);
        return child;
    }
}
