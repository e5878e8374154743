package multiprocessing.bench;

import java.time.Duration;

import multiprocessing.Context;
import multiprocessing.ForkServerContext;
import multiprocessing.Multiprocessing;
import multiprocessing.Process;
import multiprocessing.Queue;

/**
 * Queue throughput from a fresh producer: per measurement a new child process puts {@code n}
 * items (an Integer each, or a 4 KiB byte[]) into a new Queue and exits; this JVM gets them all.
 * Unlike QueueBench, whose producers are warm (JIT-compiled by earlier batches), the producer's
 * put path runs from its first call here, as in a program that starts a worker for one job.
 * Prints one line per measurement: {@code queue <kind> <method> <i> <items/s from the first item
 * got> <items/s from start()>}; the first excludes the child's JVM start (and the wait for a
 * forkserver JVM), the second includes it. Usage: {@code ColdQueue <spawn|forkserver>
 * <small|4k> [reps]} (default reps 5; n = 200,000 small or 50,000 4 KiB items).
 */
public final class ColdQueue {
    private ColdQueue() {
    }

    public static void main(String[] args) throws InterruptedException {
        String method = args[0];
        boolean big = args[1].equals("4k");
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int n = big ? 50_000 : 200_000;
        Context ctx = Multiprocessing.getContext(method);
        for (int r = 0; r < reps; r++) {
            Queue<Object> q = ctx.queue();
            Process p = ctx.process(big ? () -> {
                byte[] item = new byte[4096];
                for (int i = 0; i < n; i++) {
                    q.put(item);
                }
            } : () -> {
                for (int i = 0; i < n; i++) {
                    q.put(1);
                }
            });
            long t0 = System.nanoTime();
            p.start();
            q.get();
            long t1 = System.nanoTime();
            for (int i = 1; i < n; i++) {
                q.get();
            }
            long t2 = System.nanoTime();
            p.join(Duration.ofSeconds(30));
            if (p.isAlive()) {
                p.kill();
                p.join();
            }
            Integer code = p.exitCode();
            p.close();
            q.close();
            if (code == null || code != 0) {
                throw new IllegalStateException("producer exit code " + code);
            }
            System.out.printf("queue %s %s %d %.0f %.0f%n", big ? "4k" : "small", method, r,
                    (n - 1) / ((t2 - t1) / 1e9), n / ((t2 - t0) / 1e9));
        }
        if (ctx instanceof ForkServerContext fs) {
            fs.stopWarmJvms();
        }
    }
}
