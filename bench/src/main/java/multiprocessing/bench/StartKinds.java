package multiprocessing.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.Process;
import multiprocessing.Queue;
import multiprocessing.SerializableRunnable;
import multiprocessing.managers.SyncManager;
import multiprocessing.pool.Pool;
import multiprocessing.synchronize.Lock;

/**
 * What a program's child costs by what its target captures, beside the benchmarks' no-op: run
 * in a fresh JVM (not JMH: what differs is paid by every fresh child), it starts and joins, in
 * turn, a no-op, a target that captures a {@code HashMap} (its payload needs the serializer),
 * one that takes and gives back a captured {@code Lock} (the libc layer's first link), one that
 * puts an {@code Integer} into a captured {@code Queue}, one that does both of the first two, a
 * {@code Pool(2)} started, closed and joined, and a spawned {@code SyncManager} started and shut
 * down; {@code n} rounds, then one line per kind, {@code <kind> <ms> <ms> ...}. The first round
 * includes this JVM's own first use of the library. Usage: {@code StartKinds [method] [n]}
 * (default spawn 5); with an empty {@code -Dmultiprocessing.cacheDir}, run it twice and read
 * the second run, whose children map the AOT cache the first one trained (bench/RESULTS.md,
 * twelfth session).
 */
public final class StartKinds {
    private StartKinds() {
    }

    public static void main(String[] args) throws Exception {
        String method = args.length > 0 ? args[0] : "spawn";
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Context ctx = Multiprocessing.getContext(method);
        HashMap<String, Integer> map = new HashMap<>(Map.of("a", 1));
        Lock lock = new Lock();
        Queue<Integer> queue = new Queue<>();
        Map<String, SerializableRunnable> kinds = new LinkedHashMap<>();
        kinds.put("noop", () -> { });
        kinds.put("map", () -> check(map.size() == 1));
        kinds.put("lock", () -> {
            lock.acquire();
            lock.release();
        });
        kinds.put("queue", () -> queue.put(1));
        kinds.put("map+lock", () -> {
            lock.acquire();
            lock.release();
            check(map.size() == 1);
        });
        Map<String, List<Long>> times = new LinkedHashMap<>();
        for (int round = 0; round < n; round++) {
            for (Map.Entry<String, SerializableRunnable> kind : kinds.entrySet()) {
                long t0 = System.nanoTime();
                Process p = ctx.process(kind.getValue());
                p.start();
                p.join();
                if (kind.getKey().equals("queue")) {
                    queue.get();
                }
                record(times, kind.getKey(), t0);
                check(Integer.valueOf(0).equals(p.exitCode()));
                p.close();
            }
            long t0 = System.nanoTime();
            Pool pool = new Pool(2, null, 0, (multiprocessing.JvmContext) ctx);
            pool.close();
            pool.join();
            record(times, "pool2", t0);
            t0 = System.nanoTime();
            SyncManager manager = new SyncManager(null, null, ctx);
            manager.start();
            manager.shutdown();
            record(times, "manager", t0);
        }
        queue.close();
        times.forEach((kind, ms) -> System.out.println(kind + " " + ms.stream()
                .map(String::valueOf).reduce((a, b) -> a + " " + b).orElse("")));
    }

    private static void record(Map<String, List<Long>> times, String kind, long t0) {
        times.computeIfAbsent(kind, k -> new ArrayList<>()).add((System.nanoTime() - t0) / 1_000_000);
    }

    private static void check(boolean ok) {
        if (!ok) {
            throw new IllegalStateException("the child saw what it should not");
        }
    }
}
