package multiprocessing.internal.cluster;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.Lock;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.cluster.Address;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;

import multiprocessing.AuthenticationError;
import multiprocessing.ProcessError;
import multiprocessing.internal.pool.PoolAccess;
import multiprocessing.internal.util.LibraryLog;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.pool.Pool;

/**
 * A member or client of a cluster, on a Hazelcast instance.
 *
 * <p>Joining, in order: a member's worker processes start booting (they take as long as
 * Hazelcast does); Hazelcast joins (TCP/IP, the configured members only); the key check
 * compares an HMAC of the cluster's name under this node's key with the one the first member
 * stored, and refuses this node, which leaves at once, when they differ, before it has sent a
 * task or any data; a member then makes its workers known to the executor ({@link MemberService}
 * in the instance's user context) and records itself in the workers map, sealed, which is what
 * makes pools send it chunks. Leaving reverses it: the record goes, chunks still waiting are
 * handed back, the workers end, and Hazelcast leaves gracefully (its data moves to the other
 * members). The key check only catches a misconfigured peer early: what keeps out a peer
 * without the key is the seal on everything it would send ({@link Seal}).
 */
final class HazelcastNode implements Node {
    private final HazelcastInstance hz;
    private final Settings settings;
    private final boolean member;
    private final Seal seal;
    private final Sealer sealer;
    private final Directory directory;
    /**
     * What terminates each pool made here, at leave: not the pools themselves, so that one
     * the program drops is closed as unreachable (review 50: each kept its result thread and
     * watcher until the cluster closed).
     */
    private final Map<ClusterPlacement, Runnable> pools = new ConcurrentHashMap<>();
    private final MemberService service;
    private UUID recordListener;
    private volatile boolean closed;
    /** Why Hazelcast ended this node by itself, or null (left by {@link #close()}, or open). */
    private volatile String lost;
    /** Counted down once the node has left, asked to or not. */
    private final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);

    private HazelcastNode(HazelcastInstance hz, Settings settings, MemberService service) {
        this.hz = hz;
        this.settings = settings;
        this.member = service != null;
        this.service = service;
        this.seal = new Seal(settings.authKey());
        this.sealer = new Sealer(seal);
        this.directory = new Directory(hz, seal);
    }

    /*
     * Joining, leaving and what Hazelcast does for them run on a thread of the library's
     * (LibraryThreads): Hazelcast's threads join the group of the thread that starts them, a
     * member's or client's dozens of long-lived ones as well as the threads its futures start
     * for callbacks when the common pool has a single thread (2 CPUs), and a jshell snippet that
     * joined a cluster would wait for them for good.
     */
    static Node member(Settings s) {
        return LibraryThreads.callInGroup("multiprocessing-cluster-start", () -> startMember(s));
    }

    static Node client(Settings s) {
        return LibraryThreads.callInGroup("multiprocessing-cluster-connect", () -> connect(s));
    }

    private static Node startMember(Settings s) {
        com.hazelcast.config.Config config = Configs.member(s);
        // The worker JVMs boot while Hazelcast does.
        MemberService service = new MemberService(s.workers(), new Seal(s.authKey()));
        HazelcastInstance hz;
        try {
            hz = Hazelcast.newHazelcastInstance(config);
        } catch (RuntimeException | Error e) {
            service.close();
            if (e instanceof IllegalArgumentException || e instanceof Error) {
                throw e;
            }
            throw new ProcessError("cannot start a member of cluster '" + s.name() + "' on "
                    + s.bind() + ":" + s.port() + ": " + e.getMessage(), e);
        }
        return open(new HazelcastNode(hz, s, service));
    }

    private static Node connect(Settings s) {
        HazelcastInstance hz;
        try {
            hz = HazelcastClient.newHazelcastClient(Configs.client(s));
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ProcessError("cannot reach cluster '" + s.name() + "' at " + s.members()
                    + " (tried for " + Configs.CONNECT_TIMEOUT_MILLIS / 1000 + " s): no member "
                    + "answers there, or its members have another cluster name: " + e.getMessage(), e);
        }
        return open(new HazelcastNode(hz, s, null));
    }

    private static Node open(HazelcastNode node) {
        try {
            node.checkKey();
            if (node.service != null) {
                node.offerWorkers();
            }
            node.watchLifecycle();
            node.directory.start();
        } catch (RuntimeException | Error e) {
            node.close();
            throw e;
        }
        Nodes.opened(node);
        return node;
    }

    /** Refuses this node if the cluster's members hold another key. */
    private void checkKey() {
        // Of Object: a peer without the key may have put anything there (refused below).
        IMap<String, Object> meta = hz.getMap(Configs.META);
        byte[] mine = seal.mac("key-check", Seal.utf8(settings.name()));
        Object theirs = meta.putIfAbsent("key-check", mine);
        if (theirs != null
                && !(theirs instanceof byte[] mac && MessageDigest.isEqual(mac, mine))) {
            throw new AuthenticationError("the members of cluster '" + settings.name() + "' "
                    + members() + " hold another authentication key than this "
                    + (member ? "member" : "client") + ": it is refused and leaves (give every "
                    + "member and client the same ClusterConfig.authKey, or "
                    + "MULTIPROCESSING_AUTHKEY to a Member)");
        }
    }

    /** Makes the workers known: the executor's tasks find them, the pools see the record. */
    private void offerWorkers() {
        service.onBroken(this::withdrawRecord);
        service.onRebuilt(this::recordAgain);
        hz.getUserContext().put(MemberService.CONTEXT_KEY, service);
        IMap<String, byte[]> records = hz.getMap(Configs.WORKERS);
        // A member that dies leaves its record behind: the others take it away.
        recordListener = hz.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                service.senderGone(e.getMember().getUuid());
                try {
                    records.removeAsync(e.getMember().getUuid().toString());
                } catch (RuntimeException leaving) {
                    // this member is shutting down too
                }
            }
        });
        // A client that left (closed, killed, or cut off) has its chunks stopped here too.
        hz.getClientService().addClientListener(new com.hazelcast.client.ClientListener() {
            @Override
            public void clientConnected(com.hazelcast.client.Client c) {
            }

            @Override
            public void clientDisconnected(com.hazelcast.client.Client c) {
                // Disconnected from this member only, maybe: stopped only once it is gone
                // from the whole cluster (a smart client holds a connection to each).
                boolean elsewhere = false;
                try {
                    for (com.hazelcast.client.Client other : hz.getClientService()
                            .getConnectedClients()) {
                        elsewhere |= other.getUuid().equals(c.getUuid());
                    }
                } catch (RuntimeException leaving) {
                    return;
                }
                if (!elsewhere) {
                    service.senderGone(c.getUuid());
                }
            }
        });
        writeRecord();
    }

    /** Takes this member's record away: its workers cannot run tasks (see MemberService). */
    private void withdrawRecord() {
        LibraryLog.get().log(System.Logger.Level.WARNING, "multiprocessing: the workers of this"
                + " member of cluster '" + settings.name() + "' cannot run tasks (they failed"
                + " to start, or were killed as they started): it takes itself out of the pools'"
                + " choice, stays a member, and starts new workers after a wait");
        try {
            hz.getMap(Configs.WORKERS).removeAsync(hz.getCluster().getLocalMember().getUuid()
                    .toString());
        } catch (RuntimeException e) {
            // leaving already: its record goes with it
        }
    }

    /** Its workers made again after they broke: pools may choose it again. */
    private void recordAgain() {
        if (closed) {
            return;
        }
        try {
            writeRecord();
            LibraryLog.get().log(System.Logger.Level.INFO, "multiprocessing: this member of"
                    + " cluster '" + settings.name() + "' starts new workers and takes tasks"
                    + " again");
        } catch (RuntimeException e) {
            LibraryLog.get().log(System.Logger.Level.WARNING, "multiprocessing: this member of"
                    + " cluster '" + settings.name() + "' starts new workers but cannot record"
                    + " them: " + e);
        }
    }

    /** Records this member's workers under its UUID, which pools look for. */
    private void writeRecord() {
        IMap<String, byte[]> records = hz.getMap(Configs.WORKERS);
        String uuid = hz.getCluster().getLocalMember().getUuid().toString();
        WorkerRecord r = new WorkerRecord(address(), settings.workers(), ProcessHandle.current().pid());
        records.put(uuid, seal.seal(WorkerRecord.CONTEXT, r.bytes(), Seal.utf8(uuid)));
    }

    /**
     * What Hazelcast does to this node by itself (review 50). A member that merges back after
     * a split, or a pause the others took for its death, has a new UUID: its record is
     * written again under it, or no pool would send it a chunk again. A node Hazelcast shuts
     * down (a client that could not reach the cluster for its connect timeout, a member whose
     * merge or join failed) leaves as {@link #close()} does: its pools are terminated, its
     * workers end, and what it is asked for after says why, not Hazelcast's "not active".
     */
    private void watchLifecycle() {
        hz.getLifecycleService().addLifecycleListener(event -> {
            switch (event.getState()) {
                case MERGED -> {
                    if (service != null && !closed && !service.broken()) {
                        try {
                            writeRecord();
                        } catch (RuntimeException e) {
                            LibraryLog.get().log(System.Logger.Level.WARNING, "multiprocessing:"
                                    + " this member merged back into cluster '" + settings.name()
                                    + "' but cannot record its workers again: " + e);
                        }
                    }
                }
                case SHUTTING_DOWN -> {
                    if (!closed) {
                        // Known as soon as it begins: the tasks failed meanwhile say it too.
                        going = SHUT_DOWN;
                    }
                }
                case SHUTDOWN -> lostBy(SHUT_DOWN);
                default -> { }
            }
        });
    }

    private static final String SHUT_DOWN = "Hazelcast shut it down (a client that could not"
            + " reach any member for " + Configs.CONNECT_TIMEOUT_MILLIS / 1000 + " s, or a"
            + " member whose join or merge failed)";

    /** Why Hazelcast is ending this node by itself, once it has begun to; else null. */
    private volatile String going;

    /** Why this node is leaving the cluster, as a task it fails says it; null: not by itself. */
    private String leaving() {
        String why = lost != null ? lost : going;
        return why == null ? null : "this " + (member ? "member" : "client") + " has left cluster '"
                + settings.name() + "': " + why;
    }

    private void lostBy(String why) {
        synchronized (this) {
            if (closed) {
                return;
            }
            lost = why;
            closed = true;
        }
        LibraryLog.get().log(System.Logger.Level.WARNING, "multiprocessing: this "
                + (member ? "member" : "client") + " of cluster '" + settings.name()
                + "' has left it: " + why);
        LibraryThreads.platform().daemon().name("multiprocessing-cluster-lost").start(this::leave);
    }

    /**
     * Waits until this node has left the cluster; returns why, if Hazelcast ended it by itself,
     * or null if it was closed.
     */
    @Override
    public String awaitEnd() throws InterruptedException {
        ended.await();
        return lost;
    }

    // ------------------------------------------------------------------ Node

    @Override
    public String address() {
        checkOpen();
        if (member) {
            return address(hz.getCluster().getLocalMember());
        }
        Set<Member> all = hz.getCluster().getMembers();
        for (String configured : settings.members()) {
            for (Member m : all) {
                if (address(m).equals(configured)) {
                    return configured;
                }
            }
        }
        return all.isEmpty() ? settings.members().get(0) : address(all.iterator().next());
    }

    @Override
    public List<String> members() {
        checkOpen();
        List<String> out = new ArrayList<>();
        for (Member m : hz.getCluster().getMembers()) {
            out.add(address(m));
        }
        return out;
    }

    static String address(Member m) {
        Address a = m.getAddress();
        String host = a.getHost();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    @Override
    public Pool pool() {
        checkOpen();
        ClusterPlacement placement = new ClusterPlacement(hz, directory, seal, settings.name(),
                pools::remove, this::leaving);
        Pool pool = PoolAccess.get().pool(placement);
        Runnable terminate = PoolAccess.get().terminator(pool, () -> {
            String why = leaving();
            if (why == null && closed) {
                // close() with tasks pending (attack 53: they said only "terminated")
                why = "this " + (member ? "member" : "client") + " of cluster '"
                        + settings.name() + "' was closed";
            }
            return why == null ? null : "the task did not finish: " + why;
        });
        boolean open;
        synchronized (this) { // as close() sets closed: leave() sees this pool, or it sees closed
            open = !closed;
            if (open) {
                pools.put(placement, terminate);
            }
        }
        if (!open) {
            terminate.run(); // it raced close() (review 50: it lived on)
            checkOpen();
        }
        return pool;
    }

    @Override
    public <E> BlockingQueue<E> queue(String name) {
        checkName(name);
        return new SealedQueue<>(hz.getQueue(Configs.QUEUE_PREFIX + name), sealer, name);
    }

    @Override
    public <K, V> ConcurrentMap<K, V> dict(String name) {
        checkName(name);
        return new SealedDict<>(hz.getMap(Configs.DICT_PREFIX + name), sealer, name);
    }

    @Override
    public Lock lock(String name) {
        checkName(name);
        return new MapLock(hz.getMap(Configs.LOCKS), name);
    }

    private void checkName(String name) {
        checkOpen();
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a cluster structure needs a name");
        }
    }

    private void checkOpen() {
        if (closed) {
            String why = lost;
            throw new IllegalStateException("this " + (member ? "member" : "client")
                    + " has left the cluster" + (why == null ? "" : ": " + why));
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        LibraryThreads.callInGroup("multiprocessing-cluster-leave", () -> {
            leave();
            return null;
        });
    }

    private void leave() {
        try {
            for (Runnable terminate : List.copyOf(pools.values())) {
                terminate.run();
            }
            if (service != null) {
                try {
                    hz.getMap(Configs.WORKERS).remove(hz.getCluster().getLocalMember().getUuid().toString());
                    hz.getCluster().removeMembershipListener(recordListener);
                } catch (RuntimeException alreadyDown) {
                    // the instance went down first: its record goes with it (see startWorkers)
                }
                service.close();
            }
            directory.stop();
        } finally {
            try {
                hz.shutdown();
            } finally {
                Nodes.closed(this);
                ended.countDown();
            }
        }
    }

    @Override
    public String toString() {
        return (member ? "member " : "client ") + "of cluster '" + settings.name() + "'";
    }
}
