package multiprocessing.bench;

import java.time.Duration;

import multiprocessing.ForkServerContext;
import multiprocessing.Multiprocessing;

/**
 * Forkserver start+join of a no-op when a warm JVM is ready for it, as a program that starts
 * processes with gaps between them meets it (JMH's {@code ProcessBench} starts them back to
 * back, and then each start also waits for, or competes with, the boot of the one before's
 * replacement). Run in a fresh JVM by bench/compare: after a warm-up of 3 starts, {@code n}
 * starts each after a gap of {@code gapMillis}, long enough for the replacement of the one
 * before to boot; one line per start, {@code ready <i> <ms>}. Usage:
 * {@code ReadyStart [n] [gapMillis]} (default 10 800).
 */
public final class ReadyStart {
    private ReadyStart() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Duration gap = Duration.ofMillis(args.length > 1 ? Long.parseLong(args[1]) : 800);
        ForkServerContext ctx = (ForkServerContext) Multiprocessing.getContext("forkserver");
        try {
            for (int i = -3; i < n; i++) {
                Thread.sleep(gap);
                double ms = ColdStart.startJoin(ctx, () -> { });
                if (i >= 0) {
                    System.out.printf("ready %d %.2f%n", i, ms);
                }
            }
        } finally {
            ctx.stopWarmJvms();
        }
    }
}
