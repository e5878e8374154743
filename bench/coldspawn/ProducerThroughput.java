import multiprocessing.Process;
import multiprocessing.Queue;

/**
 * A fresh producer child puts 200,000 Integers and then 50,000 4 KiB byte[] into a Queue the
 * parent reads; the child times its own two put loops and sends the figures last. Prints
 * items/s for each loop. Arguments: rounds (a fresh child each), then child JVM options.
 */
public class ProducerThroughput {
    static final int SMALL = 200_000, LARGE = 50_000;

    public static void main(String[] args) throws Exception {
        int rounds = Integer.parseInt(args[0]);
        var ctx = multiprocessing.Multiprocessing.getContext()
                .withJvmOptions(java.util.Arrays.copyOfRange(args, 1, args.length));
        for (int r = 0; r < rounds; r++) {
            Queue<Object> q = ctx.queue();
            Process p = ctx.process(() -> {
                long t0 = System.nanoTime();
                for (int i = 0; i < SMALL; i++) {
                    q.put(i);
                }
                long t1 = System.nanoTime();
                byte[] item = new byte[4096];
                for (int i = 0; i < LARGE; i++) {
                    q.put(item);
                }
                long t2 = System.nanoTime();
                q.put(new long[] {t1 - t0, t2 - t1});
            });
            p.start();
            for (int i = 0; i < SMALL + LARGE; i++) {
                q.get();
            }
            long[] t = (long[]) q.get();
            p.join();
            p.close();
            q.close();
            System.out.printf("round %d small %.0f items/s large %.0f items/s%n", r,
                    SMALL / (t[0] / 1e9), LARGE / (t[1] / 1e9));
        }
    }
}
