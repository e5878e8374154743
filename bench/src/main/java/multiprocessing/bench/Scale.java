package multiprocessing.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.tools.ToolProvider;

import multiprocessing.Context;
import multiprocessing.ForkServerContext;
import multiprocessing.Multiprocessing;
import multiprocessing.Process;
import multiprocessing.synchronize.Event;

/**
 * Many processes at once, and what one costs (CPython's {@code bench_scale} in
 * python_anchor.py). Run in a fresh JVM by bench/compare (group scale), from the benchmarks jar
 * with an empty {@code -Dmultiprocessing.cacheDir}: before measuring, unmeasured spawn children
 * set the AOT caches' trainers off and the harness waits for both caches to be written
 * ({@link TrainedCaches}), so no trainer's CPU or start falls in a measurement. Then, per
 * start method (spawn, forkserver):
 * <ul>
 * <li>one unmeasured round of 4, then N = 1, 4, 16, 64 no-op processes started one after another
 * without waiting, then all joined (3 repetitions, 2 for 64):
 * {@code scale time <method> <N> <rep> <ms>};</li>
 * <li>spawn only: the mean CPU time (user+sys) of a no-op child, from this JVM's
 * {@code /proc/self/stat} cutime+cstime around 8 children started and joined one by one:
 * {@code scale cpu spawn <ms>};</li>
 * <li>4 children that have started and wait on an Event: each one's RSS and PSS
 * ({@code /proc/PID/smaps_rollup}), {@code scale mem <method>_idle <i> <rss kB> <pss kB>};
 * forkserver also: the JVMs waiting in the fork server once they have warmed up,
 * {@code scale mem forkserver_waiting <i> <rss kB> <pss kB>}.</li>
 * </ul>
 * And a bare JVM, with the options a child gets ({@code -XX:+UseSerialGC -XX:-UsePerfData}): a
 * class compiled here that prints a line (and sleeps, when asked): 8 runs one by one for the CPU
 * ({@code scale cpu bare <ms>}), 4 sleeping at once for the memory ({@code scale mem bare ...}).
 * Usage: {@code Scale [methods]} (default spawn,forkserver; {@code -Dscale.ns=1,4} for fewer Ns).
 */
public final class Scale {
    /** The Ns; {@code -Dscale.ns=1,4} for a quick look. */
    private static final int[] NS = java.util.Arrays.stream(
            System.getProperty("scale.ns", "1,4,16,64").split(",")).mapToInt(Integer::parseInt).toArray();
    private static final Duration JOIN_LIMIT = Duration.ofSeconds(180);

    private Scale() {
    }

    public static void main(String[] args) throws Exception {
        String[] methods = (args.length > 0 ? args[0] : "spawn,forkserver").split(",");
        TrainedCaches.await(() -> { });
        for (String method : methods) {
            Context ctx = Multiprocessing.getContext(method);
            try {
                atOnce(ctx, 4); // warm-up, unmeasured
                for (int n : NS) {
                    int reps = n < 64 ? 3 : 2;
                    for (int r = 0; r < reps; r++) {
                        System.out.printf("scale time %s %d %d %.1f%n", method, n, r, atOnce(ctx, n));
                    }
                }
                if (method.equals("spawn")) {
                    System.out.printf("scale cpu spawn %.1f%n", childCpuMs(ctx, 8));
                }
                idleMemory(ctx, method, 4);
                if (ctx instanceof ForkServerContext) {
                    waitingMemory();
                }
            } finally {
                if (ctx instanceof ForkServerContext fs) {
                    fs.stopWarmJvms();
                }
            }
        }
        bareJvm();
    }

    /** Starts n no-op processes, then joins them all; the wall time in ms. */
    static double atOnce(Context ctx, int n) throws InterruptedException {
        List<Process> ps = new ArrayList<>(n);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Process p = ctx.process(() -> { });
            p.start();
            ps.add(p);
        }
        for (Process p : ps) {
            p.join();
        }
        long t1 = System.nanoTime();
        for (Process p : ps) {
            Integer code = p.exitCode();
            p.close();
            if (code == null || code != 0) {
                throw new IllegalStateException("child exit code " + code);
            }
        }
        return (t1 - t0) / 1e6;
    }

    /** Mean user+sys ms of k no-op children started and joined one by one. */
    static double childCpuMs(Context ctx, int k) throws Exception {
        long before = childTicks();
        for (int i = 0; i < k; i++) {
            Process p = ctx.process(() -> { });
            p.start();
            joinOrKill(p);
            p.close();
        }
        return (childTicks() - before) * 10.0 / k; // USER_HZ is 100 on Linux
    }

    /** cutime + cstime of this process, in clock ticks (children waited for). */
    static long childTicks() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[13]) + Long.parseLong(f[14]); // fields 16 and 17
    }

    /** When the idle children are measured a second time, after they are ready. */
    private static final long SETTLED_MILLIS = 6_000;

    /**
     * RSS and PSS of n children that have started and wait on an Event: 0.5 s after they are
     * ready, and again {@value #SETTLED_MILLIS} ms after; and the CPU each took between the two
     * looks, per second ({@code scale idlecpu <method> <i> <ms/s>}). Daemon children, as a
     * pool's workers are: a daemon child watches for its parent to go.
     */
    static void idleMemory(Context ctx, String method, int n) throws Exception {
        Event go = ctx.event();
        List<Event> ready = new ArrayList<>();
        List<Process> ps = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Event r = ctx.event();
            ready.add(r);
            Process p = Process.builder().context(ctx).daemon(true).target(() -> {
                r.set();
                go.await(Duration.ofSeconds(120));
            }).build();
            p.start();
            ps.add(p);
        }
        try {
            for (Event r : ready) {
                if (!r.await(Duration.ofSeconds(120))) {
                    throw new IllegalStateException("an idle child did not start");
                }
            }
            long readyAt = System.nanoTime();
            Thread.sleep(500);
            long[] ticks = new long[n];
            long ticksAt = System.nanoTime();
            for (int i = 0; i < n; i++) {
                long[] m = smaps(ps.get(i).pid());
                ticks[i] = cpuTicks(ps.get(i).pid());
                System.out.printf("scale mem %s_idle %d %d %d%n", method, i, m[0], m[1]);
            }
            // Again once a child's JVM has trimmed its native heap (every 5 s, a child
            // default): what the start's bursts of malloc left is given back by then.
            Thread.sleep(Math.max(0, SETTLED_MILLIS - (System.nanoTime() - readyAt) / 1_000_000));
            double seconds = (System.nanoTime() - ticksAt) / 1e9;
            for (int i = 0; i < n; i++) {
                long[] m = smaps(ps.get(i).pid());
                System.out.printf("scale mem %s_settled %d %d %d%n", method, i, m[0], m[1]);
                System.out.printf("scale idlecpu %s %d %.2f%n", method, i,
                        (cpuTicks(ps.get(i).pid()) - ticks[i]) * 10 / seconds); // USER_HZ 100
            }
        } finally {
            go.set();
            for (Process p : ps) {
                joinOrKill(p);
                p.close();
            }
        }
    }

    /**
     * RSS and PSS of the JVMs waiting in the fork server, once their CPU time has stopped
     * growing (warmed up). ForkServer is in a package the library's module does not export; from
     * the class path it is reachable.
     */
    @SuppressWarnings("unchecked")
    static void waitingMemory() throws Exception {
        var waitingPids = Class.forName("multiprocessing.internal.forkserver.ForkServer")
                .getMethod("waitingPids");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<Long> pids = List.of();
        long last = -1;
        while (System.nanoTime() < deadline) {
            pids = (List<Long>) waitingPids.invoke(null);
            long cpu = 0;
            for (long pid : pids) {
                cpu += cpuTicks(pid);
            }
            if (!pids.isEmpty() && cpu == last) {
                break;
            }
            last = cpu;
            Thread.sleep(1000);
        }
        int i = 0;
        for (long pid : pids) {
            long[] m = smaps(pid);
            if (m[0] > 0) {
                System.out.printf("scale mem forkserver_waiting %d %d %d%n", i++, m[0], m[1]);
            }
        }
    }

    static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** {Rss, Pss} in kB from /proc/PID/smaps_rollup ({0, 0} when the process is gone). */
    static long[] smaps(long pid) {
        long[] m = new long[2];
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
                String[] f = line.trim().split("\\s+");
                if (f[0].equals("Rss:")) {
                    m[0] = Long.parseLong(f[1]);
                } else if (f[0].equals("Pss:")) {
                    m[1] = Long.parseLong(f[1]);
                }
            }
        } catch (IOException e) {
            // gone
        }
        return m;
    }

    static void joinOrKill(Process p) throws InterruptedException {
        p.join(JOIN_LIMIT);
        if (p.isAlive()) {
            p.kill();
            p.join();
        }
    }

    private static final String TINY = """
            public class Tiny {
                public static void main(String[] args) throws Exception {
                    System.out.println("tiny");
                    System.out.flush();
                    if (args.length > 0) {
                        Thread.sleep(Long.parseLong(args[0]));
                    }
                }
            }
            """;

    /**
     * A bare JVM: the CPU of `java -cp . Tiny` (8 runs), the memory of 4 sleeping at once and
     * the CPU they take while they sleep, per second.
     */
    static void bareJvm() throws Exception {
        Path dir = Files.createTempDirectory("scale-tiny");
        try {
            Files.writeString(dir.resolve("Tiny.java"), TINY);
            int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null,
                    "-d", dir.toString(), dir.resolve("Tiny.java").toString());
            if (rc != 0) {
                throw new IllegalStateException("javac Tiny: " + rc);
            }
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = List.of(java, "-XX:+UseSerialGC", "-XX:-UsePerfData", "-cp", ".",
                    "Tiny");
            run(dir, cmd); // unmeasured
            long before = childTicks();
            int k = 8;
            for (int i = 0; i < k; i++) {
                run(dir, cmd);
            }
            System.out.printf("scale cpu bare %.1f%n", (childTicks() - before) * 10.0 / k);

            List<java.lang.Process> sleepers = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    List<String> c = new ArrayList<>(cmd);
                    c.add("120000");
                    sleepers.add(new ProcessBuilder(c).directory(dir.toFile())
                            .redirectErrorStream(true).start());
                }
                for (java.lang.Process p : sleepers) {
                    new BufferedReader(new InputStreamReader(p.getInputStream(),
                            StandardCharsets.UTF_8)).readLine();
                }
                Thread.sleep(500);
                long[] ticks = new long[sleepers.size()];
                long ticksAt = System.nanoTime();
                for (int i = 0; i < sleepers.size(); i++) {
                    long[] m = smaps(sleepers.get(i).pid());
                    ticks[i] = cpuTicks(sleepers.get(i).pid());
                    System.out.printf("scale mem bare %d %d %d%n", i, m[0], m[1]);
                }
                Thread.sleep(SETTLED_MILLIS - 500); // the same window as the idle children's
                double seconds = (System.nanoTime() - ticksAt) / 1e9;
                for (int i = 0; i < sleepers.size(); i++) {
                    System.out.printf("scale idlecpu bare %d %.2f%n", i,
                            (cpuTicks(sleepers.get(i).pid()) - ticks[i]) * 10 / seconds);
                }
            } finally {
                for (java.lang.Process p : sleepers) {
                    p.destroyForcibly();
                    p.waitFor();
                }
            }
        } finally {
            for (String f : new String[] {"Tiny.java", "Tiny.class"}) {
                Files.deleteIfExists(dir.resolve(f));
            }
            Files.deleteIfExists(dir);
        }
    }

    static void run(Path dir, List<String> cmd) throws Exception {
        java.lang.Process p = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(cmd + ": exit " + p.exitValue());
        }
    }
}
