package multiprocessing.bench;

import java.util.List;
import java.util.stream.IntStream;

import multiprocessing.SerializableFunction;
import multiprocessing.pool.Pool;

/**
 * A fresh program's first chunksize=1 maps: a new Pool(2) in this fresh JVM, the warm-up
 * CPython's {@code bench_pool} gives its pool (a map of 10,000 items, then of 200 with
 * chunksize 1), then {@code n} maps of 20,000 tiny tasks with chunksize 1, each timed. JMH's
 * {@code PoolBench.mapChunksize1} is the steady state of a long-lived JVM; this is what a program
 * meets first, its parent's and workers' pool paths still interpreted or being compiled (CPython,
 * with no JIT, meets its steady figure at once). Run in a fresh JVM by bench/compare; one line
 * per map, {@code coldpool <i> <ms>}. Usage: {@code ColdPool [n]} (default 5).
 */
public final class ColdPool {
    private static final SerializableFunction<Integer, Integer> SQUARE = x -> x * x;

    private ColdPool() {
    }

    public static void main(String[] args) throws InterruptedException {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        List<Integer> items = range(20_000);
        Pool pool = new Pool(2);
        try {
            pool.map(SQUARE, range(10_000));
            pool.map(SQUARE, range(200), 1);
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                List<Integer> r = pool.map(SQUARE, items, 1);
                double ms = (System.nanoTime() - t0) / 1e6;
                if (r.size() != items.size() || r.get(r.size() - 1) != 19_999 * 19_999) {
                    throw new IllegalStateException("pool.map: wrong result");
                }
                System.out.printf("coldpool %d %.2f%n", i, ms);
            }
        } finally {
            pool.close();
            pool.join();
        }
    }

    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }
}
