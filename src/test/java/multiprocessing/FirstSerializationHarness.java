package multiprocessing;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.util.LibraryThreads;

/**
 * A fresh JVM for {@link LibraryThreadsTest}: the library's serializer is built once per JVM,
 * on its first use, and what matters is who uses it first. Prints "ok" when the first use
 * worked as the scenario says, else a line saying what went wrong.
 */
public final class FirstSerializationHarness {
    private FirstSerializationHarness() {}

    /** The name of the thread Fory starts as it is built (MultiKeyWeakMap's). */
    static final String FORY_CLEANER = "fory-multi-key-weak-map-cleaner";

    public static void main(String[] args) throws Exception {
        if (thread(FORY_CLEANER) != null) {
            System.out.println("the serializer was built before the scenario");
            return;
        }
        switch (args[0]) {
            case "concurrent" -> concurrent();
            case "shutdown-hook" -> shutdownHook();
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    /**
     * First uses at once from platform threads of groups of their own (one of them with an
     * interrupt pending) and from virtual threads (the test runs this JVM with a single
     * carrier: a virtual thread that waits in a class initializer holds it).
     */
    private static void concurrent() throws Exception {
        List<ThreadGroup> groups = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<String> problem = new AtomicReference<>();
        for (int i = 0; i < 4; i++) {
            ThreadGroup g = new ThreadGroup("user-" + i);
            groups.add(g);
            boolean interrupted = i == 0;
            threads.add(new Thread(g, () -> firstUse(go, interrupted, problem), "user-" + i));
        }
        for (int i = 0; i < 2; i++) {
            threads.add(Thread.ofVirtual().name("virtual-" + i).unstarted(
                    () -> firstUse(go, false, problem)));
        }
        threads.forEach(Thread::start);
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        if (problem.get() != null) {
            System.out.println(problem.get());
            return;
        }
        for (ThreadGroup g : groups) {
            Thread[] left = new Thread[g.activeCount() + 8];
            int n = g.enumerate(left, true);
            if (n > 0) {
                System.out.println("thread " + left[0].getName() + " left in " + g.getName());
                return;
            }
        }
        Thread cleaner = thread(FORY_CLEANER);
        if (cleaner == null || cleaner.getThreadGroup() != LibraryThreads.group()) {
            System.out.println("Fory's cleaner is not in the library's group: " + cleaner);
            return;
        }
        System.out.println("ok");
    }

    private static void firstUse(CountDownLatch go, boolean interrupted,
            AtomicReference<String> problem) {
        try {
            go.await();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            // A set: Fory writes it (a List.of of plain values travels without Fory).
            Object back = Serialization.deserialize(Serialization.serialize(Set.of("x", 1)));
            if (!back.equals(Set.of("x", 1))) {
                problem.set(Thread.currentThread().getName() + " read back " + back);
            }
            if (interrupted && !Thread.interrupted()) {
                problem.set(Thread.currentThread().getName() + " lost its interrupt");
            }
        } catch (Throwable t) {
            problem.set(Thread.currentThread().getName() + " failed: " + t);
        }
    }

    /** The first use is in a shutdown hook of a group of the program's. */
    private static void shutdownHook() {
        ThreadGroup g = new ThreadGroup("user-hooks");
        Runtime.getRuntime().addShutdownHook(new Thread(g, () -> {
            Object back = Serialization.deserialize(Serialization.serialize(Set.of("y", 2)));
            System.out.println(back.equals(Set.of("y", 2)) ? "ok" : "read back " + back);
            System.out.flush();
        }, "user-hook"));
    }

    private static Thread thread(String name) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
