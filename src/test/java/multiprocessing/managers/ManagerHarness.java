package multiprocessing.managers;

import java.util.HexFormat;

import multiprocessing.AuthenticationError;
import multiprocessing.connection.Address;

/**
 * A JVM that is no child of the test's: started with ProcessBuilder to use a manager from
 * outside its process tree, or to create one and be killed.
 */
public final class ManagerHarness {
    private ManagerHarness() {}

    static Address address(String spec) {
        int colon = spec.lastIndexOf(':');
        return spec.startsWith("/") ? Address.unix(spec)
                : Address.inet(spec.substring(0, colon), Integer.parseInt(spec.substring(colon + 1)));
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "use" -> {
                // use ADDRESS KEYHEX: put into the manager's "shared" map, print what it holds.
                BaseManager m = new BaseManager(address(args[1]), HexFormat.of().parseHex(args[2]));
                m.register("shared", DictProxy.class);
                try {
                    m.connect();
                } catch (AuthenticationError e) {
                    System.out.println("auth-error " + e.getMessage());
                    return;
                }
                DictProxy<String, Integer> shared = m.create("shared");
                shared.merge("from-harness", 1, Integer::sum);
                System.out.println("sees " + new java.util.TreeMap<>(shared));
                m.shutdown();
            }
            case "creator" -> {
                // creator: a SharedMemoryManager and one segment, then wait to be killed.
                SharedMemoryManager m = new SharedMemoryManager();
                m.start();
                var shm = m.sharedMemory(4096);
                System.out.println("server " + m.process().pid());
                System.out.println("segment " + shm.name());
                System.out.flush();
                Thread.sleep(120_000);
            }
            case "exit-while-a-child-waits" -> {
                // A non-daemon child blocked on this program's manager as the program ends
                // (main returns, or System.exit when args[1] says so).
                SyncManager m = new SyncManager();
                m.start();
                QueueProxy<Object> q = m.queue();
                multiprocessing.Process child = new multiprocessing.Process(() -> {
                    try {
                        q.get();
                        System.out.println("child got an item");
                    } catch (RuntimeException e) {
                        System.out.println("child ended: " + e.getClass().getSimpleName());
                    }
                });
                child.start();
                Thread.sleep(500);
                System.out.println("server " + m.process().pid());
                System.out.println("child " + child.pid());
                System.out.flush();
                if (args.length > 1 && args[1].equals("exit")) {
                    System.exit(0);
                }
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }
}
