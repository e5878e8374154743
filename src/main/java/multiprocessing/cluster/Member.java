package multiprocessing.cluster;

import java.io.PrintStream;
import java.util.HexFormat;
import java.util.concurrent.CountDownLatch;

/**
 * A cluster member on its own: the command that makes a machine's JVM a member of a cluster
 * and keeps it one until it is killed.
 *
 * <pre>
 * MULTIPROCESSING_AUTHKEY=&lt;hex&gt; java -cp &lt;library, Hazelcast, your classes&gt; \
 *     multiprocessing.cluster.Member --name NAME [--bind HOST] [--port PORT] \
 *     [--member HOST:PORT]... [--workers N]
 * </pre>
 *
 * It prints the address it listens on, then stays up; SIGTERM (or Ctrl-C) makes it leave the
 * cluster, handing back its unfinished chunks, and end its workers. The authentication key is
 * read from the environment, in hex, never from the command line (which other users of the
 * machine can see).
 */
public final class Member {
    /** The environment variable holding the authentication key, in hex. */
    public static final String AUTHKEY_ENV = "MULTIPROCESSING_AUTHKEY";

    private Member() {}

    /**
     * Starts the member the arguments describe (see the class documentation) and waits until
     * the JVM is told to stop. Exits 2 with the usage on bad arguments or no key, 1 with the
     * reason when the member cannot start.
     *
     * @param args {@code --name}, {@code --bind}, {@code --port}, {@code --member} (repeatable)
     *             and {@code --workers}, each followed by its value
     * @throws InterruptedException if the main thread is interrupted while the member runs
     */
    public static void main(String[] args) throws InterruptedException {
        ClusterConfig config;
        try {
            config = parse(args, System.getenv(AUTHKEY_ENV));
        } catch (IllegalArgumentException e) {
            usage(System.err, e.getMessage());
            System.exit(2);
            return;
        }
        Cluster cluster;
        try {
            cluster = Cluster.start(config);
        } catch (RuntimeException e) {
            System.err.println("multiprocessing.cluster.Member: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        System.out.println("multiprocessing.cluster.Member: member of cluster '" + config.name()
                + "' at " + cluster.address() + " with " + config.workers() + " workers; members "
                + cluster.members());
        System.out.flush();
        // Until killed (the exit hook leaves the cluster), or until Hazelcast ends the member
        // by itself: then it exits 1 saying why, rather than linger with its workers idle.
        String lost = cluster.awaitEnd();
        if (lost != null) {
            System.err.println("multiprocessing.cluster.Member: no longer a member of cluster '"
                    + config.name() + "': " + lost);
            System.exit(1);
        }
        new CountDownLatch(1).await(); // closed by the exit hook: the JVM is ending
    }

    static ClusterConfig parse(String[] args, String keyHex) {
        ClusterConfig.Builder b = ClusterConfig.builder();
        boolean named = false;
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            String value = args[++i];
            switch (option) {
                case "--name" -> {
                    b.name(value);
                    named = true;
                }
                case "--bind" -> b.bind(value);
                case "--port" -> b.port(number(option, value));
                case "--member" -> b.member(value);
                case "--workers" -> b.workers(number(option, value));
                default -> throw new IllegalArgumentException("unknown option " + option);
            }
        }
        if (!named) {
            throw new IllegalArgumentException("--name is required");
        }
        if (keyHex == null || keyHex.isBlank()) {
            throw new IllegalArgumentException(AUTHKEY_ENV + " must hold the cluster's "
                    + "authentication key, in hex");
        }
        try {
            b.authKey(HexFormat.of().parseHex(keyHex.trim()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(AUTHKEY_ENV + " is not hex: " + e.getMessage());
        }
        return b.build();
    }

    private static int number(String option, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a number, not '" + value + "'");
        }
    }

    private static void usage(PrintStream out, String problem) {
        out.println("multiprocessing.cluster.Member: " + problem);
        out.println("usage: " + AUTHKEY_ENV + "=<hex key> java -cp <library, Hazelcast, your classes> "
                + "multiprocessing.cluster.Member --name NAME [--bind HOST] [--port PORT] "
                + "[--member HOST:PORT]... [--workers N]");
    }
}
