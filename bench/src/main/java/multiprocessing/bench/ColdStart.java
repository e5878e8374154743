package multiprocessing.bench;

import multiprocessing.Multiprocessing;
import multiprocessing.Process;

/**
 * Start+join of a no-op process as a user's program meets it: run in a fresh JVM (by
 * bench/compare, with the class path and cache directory of the case it measures), it starts and
 * joins {@code n} no-op processes one after another and prints one line per start,
 * {@code start <i> <ms>}. The first start is the one a short program pays; the later ones show
 * the same JVM once the library's classes are loaded (and, for a jar, once the AOT cache the
 * first start trains is written). Usage: {@code ColdStart [method] [n]} (default spawn 6).
 */
public final class ColdStart {
    private ColdStart() {
    }

    public static void main(String[] args) throws InterruptedException {
        String method = args.length > 0 ? args[0] : "spawn";
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 6;
        var ctx = Multiprocessing.getContext(method);
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            Process p = ctx.process(() -> { });
            p.start();
            p.join();
            long t1 = System.nanoTime();
            Integer code = p.exitCode();
            p.close();
            if (code == null || code != 0) {
                throw new IllegalStateException("child exit code " + code);
            }
            System.out.printf("start %d %.2f%n", i, (t1 - t0) / 1e6);
        }
        if (ctx instanceof multiprocessing.ForkServerContext fs) {
            fs.stopWarmJvms();
        }
    }
}
