package multiprocessing.bench;

import java.time.Duration;

import multiprocessing.ForkServerContext;
import multiprocessing.Multiprocessing;
import multiprocessing.pool.Pool;

/**
 * Forkserver start+join of a no-op, or a Pool(2)'s start-up, close and join, when warm JVMs are
 * ready for it, as a program that starts processes or pools with gaps between them meets it
 * (JMH's {@code ProcessBench} and {@code PoolBench} start them back to back, and then each start
 * also waits for, or competes with, the boot of the JVMs that replace the ones before). Run in a
 * fresh JVM by bench/compare: after a warm-up of 3, {@code n} starts each after a gap of
 * {@code gapMillis}, long enough for the replacements to boot; one line per start,
 * {@code ready <i> <ms>} (or {@code readypool <i> <ms>}). Usage:
 * {@code ReadyStart [pool] [n] [gapMillis]} (default 10 800; a pool's two JVMs warm up one after
 * the other, so give it more).
 */
public final class ReadyStart {
    private ReadyStart() {
    }

    public static void main(String[] args) throws Exception {
        boolean pool = args.length > 0 && args[0].equals("pool");
        int first = pool ? 1 : 0;
        int n = args.length > first ? Integer.parseInt(args[first]) : 10;
        Duration gap = Duration.ofMillis(
                args.length > first + 1 ? Long.parseLong(args[first + 1]) : 800);
        ForkServerContext ctx = (ForkServerContext) Multiprocessing.getContext("forkserver");
        try {
            for (int i = -3; i < n; i++) {
                Thread.sleep(gap);
                double ms = pool ? poolStartCloseJoin(ctx) : ColdStart.startJoin(ctx, () -> { });
                if (i >= 0) {
                    System.out.printf("%s %d %.2f%n", pool ? "readypool" : "ready", i, ms);
                }
            }
        } finally {
            ctx.stopWarmJvms();
        }
    }

    /** Milliseconds of a Pool(2)'s creation, close and join, as PoolBench.Startup measures. */
    private static double poolStartCloseJoin(ForkServerContext ctx) throws InterruptedException {
        long t0 = System.nanoTime();
        Pool pool = Pool.builder().processes(2).context(ctx).build();
        pool.close();
        pool.join();
        return (System.nanoTime() - t0) / 1e6;
    }
}
