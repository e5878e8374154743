package multiprocessing.internal.showcase;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import multiprocessing.Multiprocessing;
import multiprocessing.Process;
import multiprocessing.Queue;
import multiprocessing.managers.DictProxy;
import multiprocessing.managers.SyncManager;
import multiprocessing.pool.Pool;
import multiprocessing.sharedctypes.RawValue;
import multiprocessing.sharedctypes.SharedInt;
import multiprocessing.sharedctypes.Value;
import multiprocessing.synchronize.Lock;
import multiprocessing.connection.Address;
import multiprocessing.connection.Client;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Connections;
import multiprocessing.connection.Listener;
import multiprocessing.connection.Pipe;

/**
 * What the library does, end to end, with timings: run by README's showcase command
 * ({@code ./mvnw -q -Pshowcase package}). Each step starts real processes on fresh JVMs.
 */
public final class Showcase {
    private Showcase() {}

    /** A message with some structure, to show objects crossing the process line. */
    record Order(int id, String item, double price, List<String> tags) {}

    public static void main(String[] args) throws Exception {
        System.out.println("multiprocessing for Java: " + Multiprocessing.cpuCount()
                + " CPUs, start methods " + Multiprocessing.getAllStartMethods()
                + ", this is " + Multiprocessing.currentProcess());
        startAndJoin();
        forkserver();
        objectsThroughAPipe();
        exitCodes();
        listenerAndClient();
        waitForSeveral();
        sharedStateAndLocks();
        queueBetweenProcesses();
        managerDict();
        poolMap();
        System.out.println("\ndone; children left running: " + Multiprocessing.activeChildren());
    }

    private static void step(String title) {
        System.out.println("\n== " + title);
    }

    private static double millisSince(long start) {
        return (System.nanoTime() - start) / 1e6;
    }

    private static void startAndJoin() throws InterruptedException {
        step("start and join processes (a fresh JVM each; the first run with a new class path also"
                + " trains an AOT cache in the background, and later runs start children faster)");
        for (int i = 0; i < 4; i++) {
            long t0 = System.nanoTime();
            Process p = new Process(() -> {});
            p.start();
            p.join();
            System.out.printf("  %s: start+join %.1f ms%n", p, millisSince(t0));
            p.close();
        }
    }

    private static void forkserver() throws InterruptedException {
        step("the \"forkserver\" start method: each process runs in a JVM booted ahead of time"
                + " (the first is spawned, as none waits yet; each start boots the next in the"
                + " background)");
        multiprocessing.ForkServerContext ctx =
                (multiprocessing.ForkServerContext) Multiprocessing.getContext("forkserver");
        for (int i = 0; i < 4; i++) {
            long t0 = System.nanoTime();
            Process p = ctx.process(() -> {});
            p.start();
            p.join();
            System.out.printf("  %s: start+join %.1f ms%n", p, millisSince(t0));
            p.close();
            // As a program that does other work between starts: the next JVM warms up meanwhile.
            Thread.sleep(300);
        }
        ctx.stopWarmJvms();
    }

    private static void objectsThroughAPipe() throws Exception {
        step("objects through a pipe: a child prices orders and sends them back");
        try (Pipe pipe = Pipe.open()) {
            Connection child = pipe.right();
            Process worker = new Process(() -> {
                while (true) {
                    Order order = (Order) child.recv();
                    if (order == null) {
                        return;
                    }
                    child.send(new Order(order.id(), order.item(), order.price() * 1.2,
                            List.of("priced-by", Multiprocessing.currentProcess().name())));
                }
            });
            worker.start();
            Connection parent = pipe.left();
            parent.send(new Order(1, "teapot", 10.0, List.of("kitchen")));
            System.out.println("  sent Order 1, got back " + parent.recv());
            int n = 20_000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                parent.send(new Order(i, "cup", 2.5, List.of()));
                parent.recv();
            }
            System.out.printf("  %,d round trips: %.1f us each%n", n, millisSince(t0) * 1000 / n);
            byte[] big = new byte[64 << 20];
            Pipe bulk = Pipe.open();
            Connection bulkChild = bulk.right();
            Process sink = new Process(() -> {
                byte[] got = bulkChild.recvBytes();
                bulkChild.send(got.length);
            });
            sink.start();
            long t1 = System.nanoTime();
            bulk.left().sendBytes(big);
            int length = (Integer) bulk.left().recv();
            System.out.printf("  one 64 MiB message: %d bytes in %.1f ms (%.0f MB/s, JVM start "
                    + "included)%n", length, millisSince(t1), big.length / (millisSince(t1) * 1e3));
            sink.join();
            bulk.close();
            parent.send(null);
            worker.join();
            System.out.println("  worker ended: " + worker);
        }
    }

    private static void exitCodes() throws InterruptedException {
        step("exit codes as Python reports them");
        List<Process> ps = List.of(
                Process.builder().name("returns").target(() -> {}).build(),
                Process.builder().name("exits-3").target(() -> System.exit(3)).build(),
                Process.builder().name("sleeps-terminated").target(() -> Thread.sleep(60_000)).build(),
                Process.builder().name("sleeps-killed").target(() -> Thread.sleep(60_000)).build());
        for (Process p : ps) {
            p.start();
        }
        ps.get(2).terminate();
        ps.get(3).kill();
        for (Process p : ps) {
            p.join();
            System.out.println("  " + p);
        }
    }

    private static void listenerAndClient() throws Exception {
        step("a Listener and a Client in another process, with an HMAC-authenticated handshake");
        byte[] key = "showcase secret".getBytes();
        try (Listener listener = new Listener(Address.inet("127.0.0.1", 0), null, 1, key)) {
            Address address = listener.address();
            Process client = new Process(() -> {
                try (Connection c = Client.connect(address, null, key)) {
                    c.send("hello from " + Multiprocessing.currentProcess().name());
                    System.out.println("  client got: " + c.recv());
                }
            });
            client.start();
            try (Connection c = listener.accept()) {
                System.out.println("  listener on " + address + " got: " + c.recv());
                c.send("welcome");
            }
            client.join();
        }
    }

    private static void waitForSeveral() throws IOException, InterruptedException {
        step("Connections.await: wait for whichever of several children ends first");
        List<Process> sleepers = new ArrayList<>();
        for (int ms : new int[] {900, 300, 600}) {
            Process p = Process.builder().name("sleeps-" + ms).target(() -> Thread.sleep(ms)).build();
            p.start();
            sleepers.add(p);
        }
        List<Process> left = new ArrayList<>(sleepers);
        while (!left.isEmpty()) {
            for (Object ready : Connections.await(left, Duration.ofSeconds(30))) {
                Process p = (Process) ready;
                p.join();
                System.out.println("  ended: " + p.name() + " exit code " + p.exitCode());
                left.remove(p);
            }
        }
    }

    private static void sharedStateAndLocks() throws InterruptedException {
        step("shared memory: 3 processes count into the same Value (under its lock) and SharedInt");
        Value total = Multiprocessing.getContext().value("q", 0L);
        SharedInt atomic = RawValue.ofInt(0);
        Lock printLock = new Lock();
        List<Process> counters = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < 3; i++) {
            Process p = new Process(() -> {
                for (int j = 0; j < 100_000; j++) {
                    atomic.getAndAdd(1);
                    total.getLock().lock();
                    try {
                        total.value((Long) total.value() + 1);
                    } finally {
                        total.getLock().unlock();
                    }
                }
                printLock.lock();
                try {
                    System.out.println("  " + Multiprocessing.currentProcess().name() + " counted 100,000");
                } finally {
                    printLock.unlock();
                }
            });
            p.start();
            counters.add(p);
        }
        for (Process p : counters) {
            p.join();
        }
        System.out.printf("  Value %d, SharedInt %d (expected 300000 each), %.0f ms with the JVM starts%n",
                total.value(), atomic.get(), millisSince(t0));
    }

    private static void queueBetweenProcesses() throws InterruptedException {
        step("a Queue in shared memory: 2 producer processes, this process consumes");
        Queue<String> queue = new Queue<>();
        int each = 50_000;
        List<Process> producers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Process p = new Process(() -> {
                String me = Multiprocessing.currentProcess().name();
                for (int j = 0; j < each; j++) {
                    queue.put(me + ":" + j);
                }
            });
            p.start();
            producers.add(p);
        }
        String first = queue.get();
        long t0 = System.nanoTime();
        for (int i = 1; i < 2 * each; i++) {
            queue.get();
        }
        double ms = millisSince(t0);
        for (Process p : producers) {
            p.join();
        }
        System.out.printf("  first item %s; %,d items in %.0f ms (%.0f k items/s)%n", first,
                2 * each, ms, 2 * each / ms);
    }

    private static void managerDict() throws InterruptedException {
        step("a manager: 2 processes update one dict that lives in the manager's server process");
        long t0 = System.nanoTime();
        try (SyncManager manager = Multiprocessing.manager()) { // close() shuts the server down
            System.out.printf("  manager started (its server is a child JVM, pid %d): %.0f ms%n",
                    manager.process().pid(), millisSince(t0));
            DictProxy<String, Integer> counts = manager.dict();
            int each = 2_000;
            List<Process> children = new ArrayList<>();
            long t1 = System.nanoTime();
            for (String name : List.of("left", "right")) {
                Process p = Process.builder().name(name).target(() -> {
                    for (int i = 0; i < each; i++) {
                        counts.merge("total", 1, Integer::sum); // one atomic step in the server
                        counts.merge(name, 1, Integer::sum);
                    }
                }).build();
                p.start();
                children.add(p);
            }
            for (Process p : children) {
                p.join();
            }
            System.out.printf("  %s: each child added 1 to \"total\" and to its own name %,d"
                    + " times (expected total %,d), %.0f ms with the JVM starts%n",
                    new TreeMap<>(counts), each, 2 * each, millisSince(t1));
            int n = 5_000;
            long t2 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                counts.get("total");
            }
            System.out.printf("  get from this process: %.1f us per round trip to the server%n",
                    millisSince(t2) * 1000 / n);
            t0 = System.nanoTime();
        }
        System.out.printf("  shut down: %.0f ms%n", millisSince(t0));
    }

    private static void poolMap() throws Exception {
        step("a Pool of 2 worker JVMs: map, and a worker killed in the middle of a task");
        try (Pool pool = Pool.builder().processes(2).build()) {
            long t0 = System.nanoTime();
            List<Integer> inputs = new ArrayList<>();
            for (int i = 0; i < 100_000; i++) {
                inputs.add(i);
            }
            List<Long> squares = pool.map(x -> (long) x * x, inputs);
            System.out.printf("  map of %,d items: last %d, %.0f ms%n", squares.size(),
                    squares.get(squares.size() - 1), millisSince(t0));
            try {
                pool.apply(() -> {
                    Runtime.getRuntime().halt(9); // the worker dies in the middle of the task
                    return 0;
                });
            } catch (RuntimeException e) {
                System.out.println("  the task whose worker died: " + e);
            }
            System.out.println("  the pool goes on: " + pool.apply(() -> "still here"));
        }
    }
}
