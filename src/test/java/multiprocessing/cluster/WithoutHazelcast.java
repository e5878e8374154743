package multiprocessing.cluster;

import java.util.List;

import multiprocessing.pool.Pool;

/** Run by MemberCommandTest in a JVM whose class path lacks Hazelcast. */
public final class WithoutHazelcast {
    private WithoutHazelcast() {}

    public static void main(String[] args) throws Exception {
        try {
            Class.forName("com.hazelcast.core.Hazelcast");
            System.out.println("hazelcast present");
        } catch (ClassNotFoundException e) {
            System.out.println("hazelcast absent");
        }
        try (Pool pool = new Pool(1)) {
            System.out.println("pool " + pool.map(x -> x * x, List.of(1, 2, 3)));
        }
        ClusterConfig config = ClusterConfig.builder().name("n").member("127.0.0.1:5701").build();
        try {
            Cluster.start(config).close();
        } catch (IllegalStateException e) {
            System.out.println("start: IllegalStateException: " + e.getMessage());
        }
        try {
            Cluster.connect(config).close();
        } catch (IllegalStateException e) {
            System.out.println("connect: IllegalStateException: " + e.getMessage());
        }
    }
}
