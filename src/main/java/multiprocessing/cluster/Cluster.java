package multiprocessing.cluster;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.Lock;

import multiprocessing.pool.Pool;
import multiprocessing.pool.WorkerLostException;
import multiprocessing.internal.cluster.Engines;
import multiprocessing.internal.cluster.Node;
import multiprocessing.internal.cluster.Settings;

/**
 * This JVM's place in a cluster of JVMs on several machines (on Hazelcast, open source): a
 * member that runs tasks in its own worker processes ({@link #start}), or a client that only
 * submits work and uses the shared structures ({@link #connect}).
 *
 * <pre>{@code
 * try (Cluster cluster = Cluster.connect(ClusterConfig.builder().name("render")
 *         .member("10.0.0.5:5701").build())) {
 *     Pool pool = cluster.pool();
 *     List<Integer> squares = pool.map(x -> x * x, List.of(1, 2, 3));
 * }
 * }</pre>
 *
 * <p><b>The pool.</b> {@link #pool()} is a {@link Pool}, the class a local pool is: the same
 * chunking, ordering, results, exceptions (type, message, the worker's stack trace), progress
 * and {@code close}/{@code terminate}/{@code join}; only where a chunk runs differs: in a worker
 * process of some member, the least loaded. Members need the classes of the tasks and their
 * arguments on their class path. A member that leaves or dies while it runs chunks does not
 * hang a map: its unfinished chunks run once more on another member, so tasks should be
 * idempotent (as Ray assumes); a chunk lost with its member a second time fails its tasks with
 * {@link WorkerLostException} naming that member. {@code terminate()} fails unfinished results
 * at once; chunks already running on a member run to their end there.
 *
 * <p><b>The structures.</b> {@link #queue}, {@link #dict} and {@link #lock} are one object
 * cluster-wide for every member and client that names them: Hazelcast's IQueue, IMap and IMap's
 * per-key locks, each kept with a backup on a second member (one member may die without a loss).
 * A lock whose holder's member or client dies is released by Hazelcast once the cluster sees it
 * gone: measured on one machine, under half a second for a member's JVM killed, a few seconds
 * for a client's, where the connection is refused at once; 15 s (the heartbeat timeout) for a
 * machine that vanishes from the network. One that only seemed to vanish (a network split, a
 * pause longer than that) still believes it holds the lock when another is given it: the lock
 * is not safe across a split.
 *
 * <p><b>Trust.</b> Hazelcast's open-source edition does not authenticate members or clients:
 * anyone who reaches a member's port can join or connect. So everything this library puts into
 * the cluster (tasks, results, queue elements, dict keys and values) is its own serialized
 * bytes with an HMAC of the authentication key in front, checked before anything is
 * deserialized or run; never Java serialization. A member or client with another key is refused
 * when it joins or connects ({@link multiprocessing.AuthenticationError}), before it sends a
 * task or any data, and a task or element without the key's HMAC is refused where it
 * arrives. Without the key, a peer on the network cannot make a task run or anything be read as
 * data, nor pass one element or value off as another; it can read what crosses the network
 * (nothing is encrypted), replay what it saw (a task runs again, a queue element is taken
 * twice, a dict value put back rolls its entry back, into this cluster or another with the
 * same key), and deny service: remove or corrupt entries, hold or break locks, stop members. Nothing it sends has a class built: the
 * cluster's Hazelcast loads no class by name but its own and the JDK's (its format for {@code
 * DataSerializable} objects names a class to build with its no-argument constructor). Keep the
 * cluster on a network only the application's machines reach.
 *
 * <p>Hazelcast must be on the class path (the optional dependency
 * {@code com.hazelcast:hazelcast:5.7.0}); without it, {@link #start} and {@link #connect}
 * throw an {@link IllegalStateException} saying so, and the rest of the library works as
 * ever. Hazelcast logs through {@code java.util.logging}, at WARNING and above unless the
 * logger {@code com.hazelcast} is configured.
 */
public final class Cluster implements AutoCloseable {
    private final Node node;

    private Cluster(Node node) {
        this.node = node;
    }

    /**
     * Makes this JVM a member of the cluster {@code config} names: it joins the given members
     * (or starts a new cluster when none is given), starts {@code workers} worker processes and
     * runs in them the chunks of every pool of the cluster.
     *
     * @param config the cluster, this member's address and its number of workers
     * @return this JVM's membership, to be closed when it leaves
     * @throws multiprocessing.AuthenticationError if the cluster's members hold another key
     *         (this member then leaves at once)
     * @throws multiprocessing.ProcessError if the member cannot start (the port is taken)
     * @throws IllegalStateException if Hazelcast is not on the class path
     */
    public static Cluster start(ClusterConfig config) {
        return new Cluster(Engines.member(settings(config)));
    }

    /**
     * Connects this JVM to the cluster {@code config} names, through the members it gives (at
     * least one), as a client: it submits work and uses the structures, and runs no task.
     *
     * @param config the cluster and the members to reach it through
     * @return this JVM's connection, to be closed when it is done with the cluster
     * @throws multiprocessing.AuthenticationError if the cluster's members hold another key
     * @throws multiprocessing.ProcessError if no member answers within 20 s
     * @throws IllegalArgumentException if {@code config} names no member
     * @throws IllegalStateException if Hazelcast is not on the class path
     */
    public static Cluster connect(ClusterConfig config) {
        return new Cluster(Engines.client(settings(config)));
    }

    private static Settings settings(ClusterConfig c) {
        return new Settings(c.name(), c.members(), c.bind(), c.port(), c.portDefaulted(),
                c.authKey(), c.workers());
    }

    /**
     * {@return this member's {@code host:port}; for a client, the member it reached (one it was
     * given)}
     *
     * @throws IllegalStateException after {@link #close()}, as every method but {@code close}
     */
    public String address() {
        return node.address();
    }

    /** {@return the {@code host:port} of every member now, the oldest first} */
    public List<String> members() {
        return node.members();
    }

    /**
     * A new pool whose tasks run on the members' worker processes (see the class
     * documentation); its {@code processes()} is the number of workers of the members when it
     * is made, which sets its default chunk size.
     *
     * @return the new pool, to be closed (or terminated) as any pool
     * @throws IllegalStateException after {@link #close()}
     */
    public Pool pool() {
        return node.pool();
    }

    /**
     * {@return the cluster-wide queue of this name (no null elements)}
     *
     * @param <E>  the type of its elements
     * @param name the queue's name in the cluster
     */
    public <E> BlockingQueue<E> queue(String name) {
        return node.queue(name);
    }

    /**
     * The cluster-wide dict of this name (no null keys or values). Keys are compared by their
     * serialized bytes: use keys whose equal objects serialize alike (strings, numbers, records
     * of them).
     *
     * @param <K>  the type of its keys
     * @param <V>  the type of its values
     * @param name the dict's name in the cluster
     * @return the dict
     */
    public <K, V> ConcurrentMap<K, V> dict(String name) {
        return node.dict(name);
    }

    /**
     * The cluster-wide lock of this name: reentrant, held by a thread; it has no conditions.
     * {@code unlock()} by a thread that does not hold it throws
     * {@link IllegalMonitorStateException}.
     *
     * @param name the lock's name in the cluster
     * @return the lock
     */
    public Lock lock(String name) {
        return node.lock(name);
    }

    /**
     * Leaves the cluster: this JVM's pools of the cluster are terminated; a member hands back
     * the chunks it has not finished (their pools run them elsewhere), ends its worker
     * processes and waits for them, and its data moves to the other members. Also done at
     * exit. A second call does nothing.
     */
    @Override
    public void close() {
        node.close();
    }

    /** For {@link Member}: waits until this node has left; why, if it was made to. */
    String awaitEnd() throws InterruptedException {
        return node.awaitEnd();
    }

    @Override
    public String toString() {
        String where;
        try {
            where = " at " + address();
        } catch (IllegalStateException left) {
            where = ", left";
        }
        return "<Cluster " + node + where + ">";
    }
}
