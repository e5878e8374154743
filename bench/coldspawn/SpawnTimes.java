import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.Process;

/**
 * Prints the milliseconds of each {@code new Process(() -> {}).start(); join()}, then their
 * median. Arguments: N, then JVM options for the children (e.g. -Xlog:... to a file).
 */
public class SpawnTimes {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        Context ctx = Multiprocessing.getContext()
                .withJvmOptions(Arrays.copyOfRange(args, 1, args.length));
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            Process p = ctx.process(() -> { });
            p.start();
            p.join();
            double t = (System.nanoTime() - t0) / 1e6;
            if (p.exitCode() != 0) {
                throw new AssertionError("exit " + p.exitCode());
            }
            p.close();
            ms.add(t);
            System.out.printf("spawn %d %.1f ms%n", i, t);
        }
        List<Double> sorted = new ArrayList<>(ms);
        sorted.sort(null);
        System.out.printf("median %.1f ms of %d%n", sorted.get(n / 2), n);
    }
}
