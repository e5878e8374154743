package multiprocessing.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.stream.IntStream;

import multiprocessing.AuthenticationError;
import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.RemoteTraceback;
import multiprocessing.pool.AsyncResult;
import multiprocessing.pool.Pool;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Three members on 127.0.0.1: this JVM (A) and two children started by the library (B and C),
 * shared by the tests; one client (this JVM too). The last test kills C.
 */
@ExtendWith(NoLeftoverProcesses.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTest {
    static final String NAME = "cluster-test-" + ProcessHandle.current().pid();
    static Cluster a;
    static ChildMember b;
    static ChildMember c;
    static Cluster client;
    /** The worker pids seen running tasks: none may be left after close. */
    static final Set<Long> workerPids = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static ClusterConfig.Builder config() {
        return ClusterConfig.builder().name(NAME).port(0);
    }

    @BeforeAll
    static void startCluster() throws Exception {
        ChildMember.quiet();
        // B and C boot their JVMs while A starts: they join A at a port chosen beforehand.
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1,
                java.net.InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        String joinA = "127.0.0.1:" + port;
        ChildMember.Starting sb = ChildMember.start(config().member(joinA).workers(1).build());
        ChildMember.Starting sc = ChildMember.start(config().member(joinA).workers(1).build());
        // A and the client join from a thread of a group of the "user's" own, as a jshell
        // snippet does: none of Hazelcast's threads may stay in that group.
        ThreadGroup user = new ThreadGroup("cluster-test-user");
        Throwable[] failed = new Throwable[1];
        Thread joiner = new Thread(user, () -> {
            try {
                a = Cluster.start(config().port(port).workers(2).build());
                client = Cluster.connect(config().member(a.address()).build());
            } catch (Throwable t) {
                failed[0] = t;
            }
        }, "cluster-test-joiner");
        joiner.start();
        joiner.join();
        strayThreads = liveThreadsIn(user);
        if (failed[0] != null) {
            throw new AssertionError("joining failed", failed[0]);
        }
        b = sb.ready();
        c = sc.ready();
    }

    /** The threads left in the group of the thread that joined A and the client. */
    static List<String> strayThreads;

    static List<String> liveThreadsIn(ThreadGroup group) {
        Thread[] all = new Thread[group.activeCount() + 64];
        int n = group.enumerate(all, true);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add(all[i].getName());
        }
        return names;
    }

    @AfterAll
    static void stopCluster() throws Exception {
        try (AutoCloseable cl = client; AutoCloseable cc = c; AutoCloseable cb = b; AutoCloseable ca = a) {
            // closed in reverse order
        }
        // Members end their workers when they close: none of the workers seen is left.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<Long> left;
        do {
            left = workerPids.stream().filter(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive)
                    .orElse(false)).toList();
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("worker processes left behind: " + left);
    }

    /** The pid of the member JVM a pool worker belongs to, and the worker's own. */
    static long[] where() {
        long member = Multiprocessing.parentProcess().orElseThrow().pid();
        return new long[] {member, ProcessHandle.current().pid()};
    }

    @Test
    @Order(0)
    void joiningLeavesNoThreadInTheGroupOfTheThreadThatJoined() {
        assertEquals(List.of(), strayThreads, "Hazelcast's threads in the joiner's group");
    }

    @Test
    @Order(1)
    void everyNodeSeesThreeMembers() {
        assertEquals(3, a.members().size(), a.members().toString());
        assertEquals(Set.copyOf(a.members()), Set.copyOf(client.members()));
        assertTrue(a.members().containsAll(List.of(a.address(), b.address, c.address)), a.members().toString());
        assertTrue(a.members().contains(client.address()), client.address());
    }

    @Test
    @Order(2)
    void mapRunsOnSeveralMembersInOrder() throws Exception {
        Pool pool = client.pool();
        assertEquals(4, pool.processes(), "2 + 1 + 1 workers");
        List<Integer> items = IntStream.range(0, 40).boxed().toList();
        List<long[]> out = pool.map(x -> {
            Thread.sleep(30);
            long[] w = where();
            return new long[] {x * x, w[0], w[1]};
        }, items, 1);
        assertEquals(items.size(), out.size());
        Set<Long> members = new HashSet<>();
        for (int i = 0; i < items.size(); i++) {
            assertEquals((long) i * i, out.get(i)[0], "result " + i + " in its place");
            members.add(out.get(i)[1]);
            workerPids.add(out.get(i)[2]);
        }
        Set<Long> memberPids = Set.of(ProcessHandle.current().pid(), b.pid, c.pid);
        assertTrue(memberPids.containsAll(members), members + " are members' pids " + memberPids);
        assertTrue(members.size() > 1, "ran on more than one member: " + members);
        pool.close();
        pool.join();
    }

    /**
     * A cluster pool's tasks, recorded where they were submitted, name the member each ran on
     * and its JVM's pid (they named none: attack 29c).
     */
    @Test
    @Order(3)
    void aRecordedTaskNamesTheMemberItRanOn() throws Exception {
        java.util.concurrent.ConcurrentLinkedQueue<jdk.jfr.consumer.RecordedEvent> tasks =
                new java.util.concurrent.ConcurrentLinkedQueue<>();
        try (jdk.jfr.consumer.RecordingStream stream = new jdk.jfr.consumer.RecordingStream();
                Pool pool = client.pool()) {
            stream.enable("multiprocessing.PoolTask").withoutThreshold();
            stream.setReuse(false);
            stream.onEvent("multiprocessing.PoolTask", tasks::add);
            stream.startAsync();
            assertEquals(List.of(1, 4, 9, 16), pool.map(x -> x * x, List.of(1, 2, 3, 4), 1));
            stream.stop();
        }
        // Member a, in this JVM, runs its share on its own workers: those tasks are recorded
        // too, by the member's pool.
        List<jdk.jfr.consumer.RecordedEvent> onMembers = tasks.stream()
                .filter(e -> e.getString("worker") != null
                        && e.getString("worker").startsWith("member "))
                .toList();
        assertEquals(4, onMembers.size(), tasks.toString());
        for (jdk.jfr.consumer.RecordedEvent e : onMembers) {
            assertTrue(e.getLong("workerPid") > 0, e.toString());
        }
    }

    @Test
    @Order(3)
    void poolMethodsAsOnALocalPool() throws Exception {
        try (Pool pool = a.pool()) {
            assertEquals(List.of(1, 4, 9), pool.map(x -> x * x, List.of(1, 2, 3)));
            assertEquals(List.of(3, 7), pool.starmap((Integer x, Integer y) -> x + y,
                    List.of(java.util.Map.entry(1, 2), java.util.Map.entry(3, 4))));
            assertEquals("hi", pool.apply(() -> "hi"));
            AsyncResult<Integer> r = pool.applyAsync(() -> 6 * 7);
            assertEquals(42, r.get(Duration.ofSeconds(30)));
            assertTrue(r.successful());
            List<Integer> viaImap = new ArrayList<>();
            pool.imap((Integer x) -> x + 1, List.of(1, 2, 3, 4, 5), 2).forEachRemaining(viaImap::add);
            assertEquals(List.of(2, 3, 4, 5, 6), viaImap);
            List<Integer> unordered = new ArrayList<>();
            Iterator<Integer> it = pool.imapUnordered((Integer x) -> {
                Thread.sleep(x % 3 * 20);
                return x * 10;
            }, IntStream.range(0, 20).boxed().toList());
            it.forEachRemaining(unordered::add);
            assertEquals(IntStream.range(0, 20).map(x -> x * 10).boxed().collect(java.util.stream.Collectors.toSet()),
                    Set.copyOf(unordered));
            assertEquals(20, unordered.size(), "nothing twice: " + unordered);
            assertEquals(List.of(), pool.map(x -> x, List.<Integer>of()));
        }
    }

    static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    static int refuse(int x) {
        if (x == 3) {
            throw new Refused("no " + x);
        }
        return x;
    }

    @Test
    @Order(4)
    void anExceptionKeepsItsTypeMessageAndRemoteTrace() throws Exception {
        try (Pool pool = client.pool()) {
            Refused e = assertThrows(Refused.class, () -> pool.map(ClusterTest::refuse, List.of(1, 2, 3, 4)));
            assertEquals("no 3", e.getMessage());
            assertTrue(Arrays.stream(e.getStackTrace()).anyMatch(f -> f.getMethodName().equals("refuse")),
                    "the worker's frames");
            assertTrue(Arrays.stream(e.getSuppressed()).anyMatch(s -> s instanceof RemoteTraceback rt
                    && rt.getMessage().contains("no 3")), Arrays.toString(e.getSuppressed()));
            ExecutionException async = assertThrows(ExecutionException.class,
                    () -> pool.applyAsync(() -> refuse(3)).get());
            assertInstanceOf(Refused.class, async.getCause());
            // the pool goes on
            assertEquals(List.of(1, 2), pool.map(ClusterTest::refuse, List.of(1, 2)));
        }
    }

    @Test
    @Order(5)
    void progressIsReportedAsOnALocalPool() throws Exception {
        List<long[]> reports = java.util.Collections.synchronizedList(new ArrayList<>());
        try (Pool pool = client.pool()) {
            pool.onProgress((done, total) -> reports.add(new long[] {done, total}));
            pool.map(x -> x, IntStream.range(0, 12).boxed().toList(), 3);
        }
        assertEquals(4, reports.size(), "one report per chunk");
        long[] last = reports.get(reports.size() - 1);
        assertEquals(12, last[0]);
        assertEquals(12, last[1]);
    }

    @Test
    @Order(6)
    void aQueueFedByOneMemberIsDrainedByAnotherWithNothingLostOrTwice() throws Exception {
        String q = "jobs";
        int n = 500;
        b.submit(() -> {
            BlockingQueue<Integer> queue = ChildMember.here.queue(q);
            for (int i = 0; i < n; i++) {
                queue.put(i);
            }
            return null;
        });
        c.submit(() -> {
            BlockingQueue<Integer> queue = ChildMember.here.queue(q);
            List<Integer> got = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Integer x = queue.poll(30, TimeUnit.SECONDS);
                if (x == null) {
                    break;
                }
                got.add(x);
            }
            return got;
        });
        b.result();
        @SuppressWarnings("unchecked")
        List<Integer> got = (List<Integer>) c.result();
        assertEquals(IntStream.range(0, n).boxed().toList(), got, "FIFO, nothing lost or twice");
        BlockingQueue<Integer> queue = client.queue(q);
        assertEquals(0, queue.size());
        assertTrue(queue.offer(7));
        assertEquals(7, queue.peek());
        assertEquals(7, a.<Integer>queue(q).take());
        assertTrue(queue.isEmpty());
        assertThrows(NullPointerException.class, () -> queue.put(null));
    }

    @Test
    @Order(7)
    void aDictCounterMergedFromTwoMembers() throws Exception {
        String d = "counters";
        int n = 300;
        for (ChildMember m : List.of(b, c)) {
            m.submit(() -> {
                ConcurrentMap<String, Integer> dict = ChildMember.here.dict(d);
                for (int i = 0; i < n; i++) {
                    dict.merge("hits", 1, Integer::sum);
                }
                return null;
            });
        }
        b.result();
        c.result();
        ConcurrentMap<String, Integer> dict = client.dict(d);
        assertEquals(2 * n, dict.get("hits"));
        assertNull(dict.putIfAbsent("other", 1));
        assertEquals(1, dict.putIfAbsent("other", 2));
        assertTrue(dict.replace("other", 1, 5));
        assertFalse(dict.replace("other", 1, 6));
        assertEquals(java.util.Map.of("hits", 2 * n, "other", 5), new java.util.HashMap<>(a.dict(d)));
        assertTrue(dict.remove("other", 5));
        assertEquals(1, dict.size());
    }

    @Test
    @Order(7)
    void iteratorsWorkOnASnapshotAndWriteThrough() {
        ConcurrentMap<String, Integer> dict = client.dict("iterated");
        dict.putAll(java.util.Map.of("a", 1, "b", 2, "c", 3));
        for (var it = dict.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals("a")) {
                it.remove();
            } else {
                e.setValue(e.getValue() * 10);
            }
        }
        assertEquals(java.util.Map.of("b", 20, "c", 30), new java.util.HashMap<>(a.dict("iterated")));
        var empty = dict.entrySet().iterator();
        assertThrows(IllegalStateException.class, empty::remove);

        BlockingQueue<String> queue = client.queue("iterated");
        queue.addAll(List.of("x", "y", "z"));
        for (var it = queue.iterator(); it.hasNext(); ) {
            if (it.next().equals("y")) {
                it.remove();
            }
        }
        assertEquals(List.of("x", "z"), new java.util.ArrayList<>(a.queue("iterated")));
        var done = queue.iterator();
        while (done.hasNext()) {
            done.next();
        }
        assertThrows(java.util.NoSuchElementException.class, done::next);
        dict.clear();
        queue.clear();
    }

    private static void assertNull(Object o) {
        org.junit.jupiter.api.Assertions.assertNull(o);
    }

    @Test
    @Order(8)
    void aLockHeldByTwoMembersInTurnLosesNoIncrement() throws Exception {
        String d = "locked";
        int n = 100;
        client.dict(d).put("n", 0);
        for (ChildMember m : List.of(b, c)) {
            m.submit(() -> {
                Lock lock = ChildMember.here.lock("counter");
                ConcurrentMap<String, Integer> dict = ChildMember.here.dict(d);
                for (int i = 0; i < n; i++) {
                    lock.lock();
                    try {
                        // a read and a write apart: only the lock keeps them from interleaving
                        int v = dict.get("n");
                        dict.put("n", v + 1);
                    } finally {
                        lock.unlock();
                    }
                }
                return null;
            });
        }
        b.result();
        c.result();
        assertEquals(2 * n, client.<String, Integer>dict(d).get("n"));
        Lock lock = client.lock("counter");
        assertTrue(lock.tryLock());
        assertFalse((Boolean) b.call(() -> ChildMember.here.lock("counter").tryLock(100, TimeUnit.MILLISECONDS)));
        lock.unlock();
        assertThrows(IllegalMonitorStateException.class, lock::unlock);
        assertThrows(UnsupportedOperationException.class, lock::newCondition);
    }

    @Test
    @Order(9)
    void aClientWithAnotherKeyIsRefused() {
        ClusterConfig wrong = config().member(a.address()).authKey("not the key".getBytes()).build();
        AuthenticationError e = assertThrows(AuthenticationError.class, () -> Cluster.connect(wrong));
        assertTrue(e.getMessage().contains("another authentication key"), e.getMessage());
    }

    @Test
    @Order(10)
    void aMemberWithAnotherKeyIsRefusedAndLeaves() throws Exception {
        ClusterConfig wrong = config().member(a.address()).workers(1)
                .authKey("not the key".getBytes()).build();
        AuthenticationError e = assertThrows(AuthenticationError.class, () -> Cluster.start(wrong));
        assertTrue(e.getMessage().contains("another authentication key"), e.getMessage());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (a.members().size() != 3 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(3, a.members().size(), "it left: " + a.members());
        try (Pool pool = client.pool()) {
            assertEquals(4, pool.processes(), "its workers were never offered");
        }
    }

    @Test
    @Order(12)
    void misuseFailsClearly() throws Exception {
        String port = a.address().substring(a.address().lastIndexOf(':') + 1);
        multiprocessing.ProcessError taken = assertThrows(multiprocessing.ProcessError.class,
                () -> Cluster.start(config().port(Integer.parseInt(port)).workers(1).build()));
        assertTrue(taken.getMessage().contains("cannot start a member"), taken.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Cluster.connect(config().build()),
                "a client needs a member to reach");
        assertThrows(IllegalArgumentException.class, () -> client.queue(""));
        assertThrows(IllegalArgumentException.class, () -> ClusterConfig.builder().member("host:0"));
        assertThrows(IllegalArgumentException.class, () -> ClusterConfig.builder().bind("host:5701"));
        assertThrows(IllegalArgumentException.class, () -> ClusterConfig.builder().workers(0));
        assertThrows(IllegalArgumentException.class, () -> ClusterConfig.builder().authKey(new byte[0]));
        Cluster other = Cluster.connect(config().member(a.address()).build());
        Pool pool = other.pool();
        AsyncResult<Object> pending = pool.applyAsync(() -> {
            Thread.sleep(2000);
            return null;
        });
        other.close();
        other.close();
        assertThrows(IllegalStateException.class, other::members);
        assertThrows(IllegalStateException.class, other::pool);
        assertTrue(other.toString().contains("left"), other.toString());
        ExecutionException e = assertThrows(ExecutionException.class, () -> pending.get(Duration.ofSeconds(30)));
        assertInstanceOf(multiprocessing.ProcessError.class, e.getCause(), "its pools are terminated");
        assertTrue(e.getCause().getMessage().contains("client of cluster '" + NAME + "' was closed"),
                e.getCause().getMessage());
        assertThrows(IllegalStateException.class, () -> pool.applyAsync(() -> 1));
    }

    /** Where a task run by a forged or a genuine message leaves its mark. */
    static void mark(String path) throws java.io.IOException {
        java.nio.file.Files.writeString(java.nio.file.Path.of(path), "ran");
    }

    @Test
    @Order(11)
    void bytesWithoutTheKeyAreNeverRunNorReadAsData(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        // A peer without the key, with Hazelcast's own API (A's instance, as any member could).
        com.hazelcast.core.HazelcastInstance raw = com.hazelcast.core.Hazelcast.getAllHazelcastInstances()
                .iterator().next();
        multiprocessing.internal.cluster.Seal wrongKey =
                new multiprocessing.internal.cluster.Seal("not the key".getBytes());
        multiprocessing.internal.cluster.Seal rightKey =
                new multiprocessing.internal.cluster.Seal(Multiprocessing.currentProcess().authKey());

        // A task, as a worker reads it (an apply whose callable writes a file).
        java.nio.file.Path forged = dir.resolve("forged");
        java.nio.file.Path genuine = dir.resolve("genuine");
        Class<?> taskClass = Class.forName("multiprocessing.internal.cluster.ChunkTask");
        java.lang.reflect.Constructor<?> newTask = taskClass.getDeclaredConstructor(byte[].class,
                java.util.UUID.class);
        newTask.setAccessible(true);
        com.hazelcast.cluster.Member target = raw.getCluster().getLocalMember();
        com.hazelcast.core.IExecutorService executor = raw.getExecutorService("__multiprocessing.chunks");
        for (java.nio.file.Path marker : List.of(forged, genuine)) {
            String path = marker.toString();
            multiprocessing.SerializableCallable<Object> write = () -> {
                mark(path);
                return null;
            };
            byte[] message = multiprocessing.internal.reduction.Serialization.serialize(new Object[] {
                7L, 0, multiprocessing.internal.reduction.Serialization.serializeFunction(write), null});
            multiprocessing.internal.cluster.Seal seal = marker == forged ? wrongKey : rightKey;
            @SuppressWarnings("unchecked")
            java.util.concurrent.Callable<byte[]> task = (java.util.concurrent.Callable<byte[]>)
                    newTask.newInstance(seal.seal("task", message), raw.getLocalEndpoint().getUuid());
            byte[] answer = executor.submitToMember(task, target).get(60, TimeUnit.SECONDS);
            assertEquals(marker == forged ? 1 : 0, answer[0], "refused, or run");
        }
        assertTrue(java.nio.file.Files.exists(genuine), "the genuine task ran (the check can see a run)");
        assertFalse(java.nio.file.Files.exists(forged), "the forged task never ran");

        // A queue element and a dict value without the key: refused on reading, nothing deserialized.
        com.hazelcast.collection.IQueue<byte[]> rawQueue = raw.getQueue("multiprocessing.queue:forged");
        rawQueue.offer(wrongKey.seal("queue", multiprocessing.internal.reduction.Serialization.serialize("evil"),
                "forged".getBytes()));
        BlockingQueue<String> queue = client.queue("forged");
        queue.put("good");
        assertThrows(AuthenticationError.class, () -> queue.poll(10, TimeUnit.SECONDS));
        assertEquals("good", queue.poll(10, TimeUnit.SECONDS), "the queue goes on");

        ConcurrentMap<String, String> dict = client.dict("forged");
        dict.put("k", "good");
        // The genuine value of another key, moved under k: its seal binds it to its own key.
        dict.put("other", "moved");
        com.hazelcast.map.IMap<byte[], byte[]> rawMap = raw.getMap("multiprocessing.dict:forged");
        byte[] kKey = null;
        byte[] otherValue = null;
        for (java.util.Map.Entry<byte[], byte[]> e : rawMap.entrySet()) {
            String k = (String) multiprocessing.internal.reduction.Serialization.deserialize(
                    java.util.Arrays.copyOfRange(e.getKey(), 32, e.getKey().length));
            if (k.equals("k")) {
                kKey = e.getKey();
            } else {
                otherValue = e.getValue();
            }
        }
        rawMap.put(kKey, otherValue);
        assertThrows(AuthenticationError.class, () -> dict.get("k"));
        rawMap.put(kKey, new byte[] {1, 2, 3});
        assertThrows(AuthenticationError.class, () -> dict.get("k"));
    }

    /**
     * A task of a class that is not {@link java.io.Serializable}: Hazelcast's zero-config
     * Compact format would build it on a member from the fields its sender chose.
     */
    public static final class ZeroConfigTask implements java.util.concurrent.Callable<String> {
        public String path;

        public ZeroConfigTask() {}

        @Override
        public String call() throws Exception {
            mark(path);
            return "ran";
        }
    }

    /** Where a {@link Planted} built anywhere leaves its mark: one path for every JVM. */
    static final java.nio.file.Path PLANTED = java.nio.file.Path.of(
            System.getProperty("java.io.tmpdir"), "multiprocessing-cluster-test-planted");

    /** A class of every member's class path whose constructor leaves a mark. */
    public static final class Planted {
        public Planted() throws java.io.IOException {
            java.nio.file.Files.writeString(PLANTED, "built in " + ProcessHandle.current().pid());
        }
    }

    /**
     * What a plain Hazelcast client sends to name a class to build: Hazelcast's format for a
     * DataSerializable that is not identified (its header names the class).
     */
    static final class Naming implements com.hazelcast.nio.serialization.TypedDataSerializable,
            java.util.concurrent.Callable<String> {
        @Override
        public Class<?> getClassType() {
            return Planted.class;
        }

        @Override
        public void writeData(com.hazelcast.nio.ObjectDataOutput out) {}

        @Override
        public void readData(com.hazelcast.nio.ObjectDataInput in) {}

        @Override
        public String call() {
            return "not run";
        }
    }

    /**
     * A peer without the key, with Hazelcast's own API: a task of any class of a member's class
     * path is never built there (the zero-config Compact format rebuilt one, past the Java
     * serialization filter, and ran it: attack 29c), and an element or key of another type than
     * sealed bytes is refused as one without the key (it threw ClassCastException).
     */
    @Test
    @Order(11)
    void objectsOfAnyTypeWithoutTheKeyAreNeverBuiltNorRun(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        // A plain Hazelcast client: the cluster's name and a member's address, no key, none of
        // the library's settings (so its Compact format is Hazelcast's default).
        com.hazelcast.client.config.ClientConfig plain =
                new com.hazelcast.client.config.ClientConfig();
        plain.setClusterName(NAME);
        plain.getNetworkConfig().addAddress(a.address());
        com.hazelcast.core.HazelcastInstance raw =
                com.hazelcast.client.HazelcastClient.newHazelcastClient(plain);
        try {
            strangerPutsObjectsOfAnyType(raw, dir.resolve("zero-config"));
        } finally {
            raw.shutdown();
        }
    }

    private static void strangerPutsObjectsOfAnyType(com.hazelcast.core.HazelcastInstance raw,
            java.nio.file.Path marker) throws Exception {
        ZeroConfigTask task = new ZeroConfigTask();
        task.path = marker.toString();
        for (String name : List.of("__multiprocessing.chunks", "default")) {
            com.hazelcast.core.IExecutorService executor = raw.getExecutorService(name);
            for (com.hazelcast.cluster.Member m : raw.getCluster().getMembers()) {
                assertThrows(ExecutionException.class,
                        () -> executor.submitToMember(task, m).get(60, TimeUnit.SECONDS));
            }
        }
        assertFalse(java.nio.file.Files.exists(marker), "the task ran on a member");

        // A class named in Hazelcast's DataSerializable header is never built either: not on a
        // member (attack 29d: ProcessPoolExecutor() started worker processes there), not in a
        // library client that reads it from a queue.
        java.nio.file.Files.deleteIfExists(PLANTED);
        try {
            for (com.hazelcast.cluster.Member m : raw.getCluster().getMembers()) {
                assertThrows(ExecutionException.class, () -> raw.getExecutorService("default")
                        .submitToMember(new Naming(), m).get(60, TimeUnit.SECONDS));
            }
            raw.getQueue("multiprocessing.queue:named").offer(new Naming());
            BlockingQueue<String> named = client.queue("named");
            assertThrows(AuthenticationError.class, () -> named.poll(10, TimeUnit.SECONDS),
                    "refused as any element without the key (it was Hazelcast's exception)");
            named.put("good");
            assertEquals("good", named.poll(10, TimeUnit.SECONDS), "the queue goes on");
            ConcurrentMap<String, String> namedDict = client.dict("named");
            namedDict.put("k", "v");
            com.hazelcast.map.IMap<Object, Object> rawNamed =
                    raw.getMap("multiprocessing.dict:named");
            Object sealedK = rawNamed.keySet().iterator().next();
            rawNamed.put(sealedK, new Naming()); // over k's value
            assertThrows(AuthenticationError.class, () -> namedDict.get("k"));
            // A write over it is done, and says so: it threw as if not done (attack 32).
            assertNull(namedDict.put("k", "new"));
            assertEquals("new", namedDict.get("k"));
            rawNamed.put(sealedK, new Naming());
            assertNull(namedDict.remove("k"));
            assertFalse(namedDict.containsKey("k"));
            rawNamed.put(new Naming(), "a key");
            assertThrows(AuthenticationError.class, () -> namedDict.entrySet().iterator());
            assertFalse(java.nio.file.Files.exists(PLANTED), () -> {
                try {
                    return "a Planted was " + java.nio.file.Files.readString(PLANTED);
                } catch (java.io.IOException e) {
                    return e.toString();
                }
            });
        } finally {
            java.nio.file.Files.deleteIfExists(PLANTED);
        }

        com.hazelcast.collection.IQueue<Object> rawQueue =
                raw.getQueue("multiprocessing.queue:typed");
        rawQueue.offer("not sealed bytes");
        BlockingQueue<String> queue = client.queue("typed");
        queue.put("good");
        assertThrows(AuthenticationError.class, () -> queue.poll(10, TimeUnit.SECONDS));
        assertEquals("good", queue.poll(10, TimeUnit.SECONDS), "the queue goes on");

        com.hazelcast.map.IMap<Object, Object> rawMap = raw.getMap("multiprocessing.dict:typed");
        rawMap.put("not sealed bytes", "either");
        ConcurrentMap<String, String> dict = client.dict("typed");
        assertThrows(AuthenticationError.class, () -> dict.keySet().iterator().next());
    }

    /** Leaves a file named after the member a task runs on. */
    static void markMember(String dir) throws java.io.IOException {
        java.nio.file.Path p = java.nio.file.Path.of(dir, "ran-on-" + where()[0]);
        if (!java.nio.file.Files.exists(p)) {
            java.nio.file.Files.writeString(p, "");
        }
    }

    /**
     * A cluster pool the program drops without close() is closed once unreachable, as a local
     * one is: the client held every pool it made until it left the cluster, with its result
     * thread (review 50).
     */
    @Test
    @Order(13)
    void aDroppedClusterPoolIsClosed() throws Exception {
        java.util.Set<Thread> before = resultThreads();
        assertEquals(List.of(1, 2, 3), mapOnADroppedPool());
        java.util.Set<Thread> its = resultThreads();
        its.removeAll(before);
        assertTrue(its.size() <= 1, "the dropped pool's result thread: " + its);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (its.stream().anyMatch(Thread::isAlive) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(100);
        }
        assertFalse(its.stream().anyMatch(Thread::isAlive), "the dropped pool's result thread ended");
    }

    private static List<Integer> mapOnADroppedPool() throws Exception {
        Pool dropped = client.pool();
        return dropped.map(x -> x, List.of(1, 2, 3));
    }

    private static java.util.Set<Thread> resultThreads() {
        java.util.Set<Thread> found = new java.util.HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("pool-results")) {
                found.add(t);
            }
        }
        return found;
    }

    /**
     * A member Hazelcast shuts down by itself (a failed merge or join; a client that could not
     * reach the cluster for its connect timeout) leaves as a closed one does: its workers end,
     * and what it is asked after says why. It stayed "open", every call threw Hazelcast's
     * "not active", and its workers idled for good (review 50).
     */
    @Test
    @Order(15)
    void aMemberHazelcastShutsDownLeavesAsAClosedOneDoes(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        String runner = dir.resolve("runner").toString();
        try (ChildMember d = ChildMember.start(config().member(a.address()).workers(1).build())
                .ready()) {
            @SuppressWarnings("unchecked")
            List<Object> seen = (List<Object>) d.call(() -> {
                List<Long> pids = new ArrayList<>();
                ProcessHandle.current().children().forEach(h -> pids.add(h.pid()));
                Pool pool = ChildMember.here.pool();
                multiprocessing.pool.AsyncResult<Object> running = pool.applyAsync(() -> {
                    java.nio.file.Files.writeString(java.nio.file.Path.of(runner),
                            Long.toString(ProcessHandle.current().pid()));
                    Thread.sleep(60_000);
                    return null;
                });
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!java.nio.file.Files.exists(java.nio.file.Path.of(runner))
                        && System.nanoTime() < until) {
                    Thread.sleep(20);
                }
                for (com.hazelcast.core.HazelcastInstance i
                        : com.hazelcast.core.Hazelcast.getAllHazelcastInstances()) {
                    i.getLifecycleService().terminate();
                }
                String failed;
                try {
                    running.get(Duration.ofSeconds(30));
                    failed = "it finished";
                } catch (Throwable t) {
                    failed = String.valueOf(t.getMessage());
                }
                return List.of(pids, failed);
            });
            @SuppressWarnings("unchecked")
            List<Long> workers = (List<Long>) seen.get(0);
            assertFalse(workers.isEmpty(), "the member's worker processes");
            // The chunk of the member that left is stopped where it ran, with its worker:
            // it ran on for nobody (attack 51).
            long ran = Long.parseLong(java.nio.file.Files.readString(dir.resolve("runner")));
            ProcessHandle h = ProcessHandle.of(ran).orElse(null);
            assertTrue(h == null || h.onExit().get(30, TimeUnit.SECONDS) != null,
                    "the worker that ran the chunk of a member that left ends");
            // Its pool's task says why it failed: it said the pool was terminated (attack 51).
            assertTrue(String.valueOf(seen.get(1)).contains("has left cluster")
                    && String.valueOf(seen.get(1)).contains("Hazelcast shut it down"),
                    String.valueOf(seen.get(1)));
            Object said = d.call(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (System.nanoTime() < deadline) {
                    try {
                        ChildMember.here.members();
                    } catch (IllegalStateException e) {
                        return e.getMessage();
                    }
                    Thread.sleep(50);
                }
                return "still a member";
            });
            assertTrue(String.valueOf(said).contains("Hazelcast shut it down"), String.valueOf(said));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (workers.stream().anyMatch(pid -> ProcessHandle.of(pid)
                    .map(ProcessHandle::isAlive).orElse(false)) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertFalse(workers.stream().anyMatch(pid -> ProcessHandle.of(pid)
                    .map(ProcessHandle::isAlive).orElse(false)), "its workers ended");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while ((a.members().size() != 3 || client.members().size() != 3)
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(3, a.members().size(), "A, B and C again: " + a.members());
        assertEquals(3, client.members().size(), "as the client sees it: " + client.members());
    }

    /**
     * The dict's conditional methods compare values with equals: a set equal to the stored one
     * but serialized in another order (a HashSet whose table was larger) replaces and removes
     * it. Compared by bytes made again, it never matched, and a merge over such values spun
     * for good (review 50).
     */
    @Test
    @Order(16)
    void conditionalDictMethodsCompareValuesWithEquals() {
        java.util.concurrent.ConcurrentMap<String, Set<Integer>> d = client.dict("equal-values");
        java.util.HashSet<Integer> stored = new java.util.HashSet<>();
        stored.add(97);
        stored.add(17); // one bucket of 16: iterated 97, 17
        java.util.HashSet<Integer> equal = new java.util.HashSet<>(2048);
        equal.add(97);
        equal.add(17); // buckets 17 and 97 of 2048: iterated 17, 97
        assertEquals(stored, equal);
        assertEquals(List.of(97, 17), List.copyOf(stored), "the test's premise: two orders");
        assertEquals(List.of(17, 97), List.copyOf(equal), "the test's premise: two orders");
        d.put("k", stored);
        assertTrue(d.replace("k", equal, Set.of(1)), "replaced by an equal value");
        assertEquals(Set.of(1), d.get("k"));
        assertFalse(d.replace("k", equal, Set.of(2)), "not equal any more");
        d.put("k", stored);
        assertTrue(d.remove("k", equal), "removed by an equal value");
        assertFalse(d.containsKey("k"));
    }

    /**
     * merge, compute and computeIfPresent over values whose class keeps Object's equals (a
     * byte[]): they swap on the stored bytes. Over ConcurrentMap's loops, whose replace
     * compares with equals, a copy read back never matched and they spun for good, nothing
     * else writing (attack 51).
     */
    @Test
    @Order(16)
    void compoundDictMethodsWorkOnValuesWithoutEquals() {
        java.util.concurrent.ConcurrentMap<String, byte[]> d = client.dict("byte-values");
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            d.put("k", new byte[] {1});
            assertArrayEquals(new byte[] {1, 2}, d.merge("k", new byte[] {2}, ClusterTest::concat));
            assertArrayEquals(new byte[] {1, 2, 3},
                    d.compute("k", (k, v) -> concat(v, new byte[] {3})));
            assertArrayEquals(new byte[] {1, 2, 3, 4},
                    d.computeIfPresent("k", (k, v) -> concat(v, new byte[] {4})));
            assertEquals(null, d.computeIfPresent("k", (k, v) -> null));
            assertFalse(d.containsKey("k"), "removed by a null");
            assertArrayEquals(new byte[] {5}, d.merge("k", new byte[] {5}, ClusterTest::concat));
            assertEquals(null, d.compute("absent", (k, v) -> null));
            assertFalse(d.containsKey("absent"));
            d.put("other", new byte[] {6});
            d.replaceAll((k, v) -> concat(v, new byte[] {7})); // attack 52: it spun too
            assertArrayEquals(new byte[] {6, 7}, d.get("other"));
            d.remove("other");
        });
        assertArrayEquals(new byte[] {5, 7}, d.get("k"));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    /**
     * terminate() stops the pool's chunks on the members: a never-ending task on every worker
     * of the cluster ends with its worker, which its member replaces, and the next pool runs.
     * They ran on for nobody, holding every worker, and the next pool waited for good (attack
     * 51).
     */
    @Test
    @Order(17)
    void terminateStopsTheChunksRunningOnMembers(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        String running = dir.toString();
        Pool endless = client.pool();
        // Member D of an earlier test left abruptly: its record goes once the members see it
        // gone, which may be after that test (a pool then counted its worker too).
        long settled = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (endless.processes() != 4 && System.nanoTime() < settled) {
            endless.close();
            Thread.sleep(100);
            endless = client.pool();
        }
        int workers = endless.processes();
        assertEquals(4, workers, "A's 2, B's and C's");
        for (int i = 0; i < workers; i++) {
            endless.applyAsync(() -> {
                long pid = ProcessHandle.current().pid();
                java.nio.file.Files.writeString(java.nio.file.Path.of(running, Long.toString(pid)), "");
                while (true) {
                    Thread.sleep(1000);
                }
            });
        }
        List<Long> pids = List.of();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (pids.size() < workers && System.nanoTime() < deadline) {
            Thread.sleep(100);
            try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(dir)) {
                pids = files.map(f -> Long.parseLong(f.getFileName().toString())).toList();
            }
        }
        assertEquals(workers, pids.size(), "every worker runs one: " + pids);
        // With B stopped (as if cut off), terminate() returns at once: B answers its cancel
        // only when it is back, and terminate() waited for that up to the heartbeat timeout,
        // 15 s (attack 53).
        long bPid = (Long) b.call(() -> ProcessHandle.current().pid());
        new ProcessBuilder("kill", "-STOP", Long.toString(bPid)).start().waitFor();
        long took;
        try {
            long start = System.nanoTime();
            endless.terminate();
            took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        } finally {
            new ProcessBuilder("kill", "-CONT", Long.toString(bPid)).start().waitFor();
        }
        assertTrue(took < 5_000, "terminate() took " + took + " ms with B stopped");
        endless.join();
        for (long pid : pids) {
            ProcessHandle h = ProcessHandle.of(pid).orElse(null);
            assertTrue(h == null || h.onExit().get(30, TimeUnit.SECONDS) != null,
                    "the worker running a terminated pool's chunk ends");
        }
        try (Pool next = client.pool()) {
            assertEquals(List.of(2, 3, 4, 5, 6, 7, 8, 9), next.mapAsync((Integer x) -> x + 1,
                    List.of(1, 2, 3, 4, 5, 6, 7, 8)).get(Duration.ofSeconds(60)));
        }
    }

    /**
     * A member whose workers broke (they failed to start, or were killed as they started, as
     * the OOM killer does) withdraws, then starts new workers after a wait and takes tasks
     * again. It stayed out for good, idling with no workers (attack 51).
     */
    @Test
    @Order(18)
    void aMemberWhoseWorkersBrokeComesBackWithNewOnes() throws Exception {
        @SuppressWarnings("unchecked")
        List<Long> before = (List<Long>) b.call(() -> {
            System.setProperty("multiprocessing.cluster.testRebuildMillis", "2000");
            System.setProperty("multiprocessing.cluster.testBreak", "1");
            return ProcessHandle.current().children().map(ProcessHandle::pid).toList();
        });
        long bPid = (Long) b.call(() -> ProcessHandle.current().pid());
        try (Pool pool = client.pool()) {
            // Enough chunks that one reaches B, which finds its workers broken and hands it on.
            List<Integer> items = java.util.stream.IntStream.range(0, 40).boxed().toList();
            assertEquals(items, pool.map((Integer x) -> x, items, 1));
        }
        assertEquals(null, b.call(() -> System.getProperty("multiprocessing.cluster.testBreak")),
                "a chunk reached B and found its workers broken");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        boolean back = false;
        while (!back && System.nanoTime() < deadline) {
            Thread.sleep(500);
            try (Pool pool = client.pool()) {
                back = pool.processes() == 4 && pool.map((Integer x) -> where()[0],
                        java.util.stream.IntStream.range(0, 40).boxed().toList(), 1)
                        .contains(bPid);
            }
        }
        assertTrue(back, "B takes tasks again");
        for (long pid : before) {
            ProcessHandle h = ProcessHandle.of(pid).orElse(null);
            assertTrue(h == null || h.onExit().get(30, TimeUnit.SECONDS) != null,
                    "B's broken workers were ended: " + pid);
        }
    }

    /**
     * A member closed while it waits to start new workers (they broke) ends that wait at once,
     * and the tasks its close ends say it was closed (attack 53: the waiting thread kept the
     * closed member's service and pool for the rest of its wait, up to 5 minutes, and the
     * tasks said only that the pool was terminated). A member of a cluster of its own, in this
     * JVM.
     */
    @Test
    @Order(19)
    void aMemberClosedWhileItWaitsToStartNewWorkersStopsWaiting() throws Exception {
        System.setProperty("multiprocessing.cluster.testRebuildMillis", "120000");
        try {
            Cluster alone = Cluster.start(ClusterConfig.builder().name(NAME + "-alone").port(0)
                    .workers(1).build());
            AsyncResult<List<Integer>> pending;
            try {
                Pool pool = alone.pool();
                System.setProperty("multiprocessing.cluster.testBreak", "1");
                pending = pool.mapAsync((Integer x) -> x, List.of(1, 2), 1);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (rebuilders() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertEquals(1, rebuilders(), "its workers broke, and it waits to start others");
            } finally {
                alone.close();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (rebuilders() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(0, rebuilders(), "the wait ended with the close");
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> pending.get(Duration.ofSeconds(30)));
            assertTrue(e.getCause().getMessage().contains("was closed"), e.getCause().getMessage());
        } finally {
            System.clearProperty("multiprocessing.cluster.testRebuildMillis");
            System.clearProperty("multiprocessing.cluster.testBreak");
        }
    }

    private static long rebuilders() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().equals("multiprocessing-member-rebuild"))
                .count();
    }

    static final String NOT_RUN = "multiprocessing.cluster.testNotRun";

    static Object notRunNext(String count) {
        if (count == null) {
            return System.clearProperty(NOT_RUN);
        }
        return System.setProperty(NOT_RUN, count);
    }

    /**
     * Members that answer that they did not run a chunk (as a member that is leaving does, in
     * a rolling restart) do not use up its runs: each of the three bounces the first chunk it
     * gets, so the chunk is bounced at least twice before one runs it. Counted as runs, two
     * bounces failed it with WorkerLostException, having run nowhere (review 50).
     */
    @Test
    @Order(14)
    void aChunkMembersDidNotRunIsNotCountedAsRun() throws Exception {
        try (Pool pool = client.pool()) {
            notRunNext("1");
            b.call(() -> notRunNext("1"));
            c.call(() -> notRunNext("1"));
            assertEquals(42, pool.applyAsync(() -> 6 * 7).get(Duration.ofSeconds(60)));
            int bounced = 0;
            for (Object left : List.of(notRunNext(null), b.call(() -> notRunNext(null)),
                    c.call(() -> notRunNext(null)))) {
                bounced += left.equals("0") ? 1 : 0;
            }
            assertTrue(bounced >= 2, "members that bounced it: " + bounced);
        } finally {
            notRunNext(null);
            b.call(() -> notRunNext(null));
            c.call(() -> notRunNext(null));
        }
    }

    /**
     * A chunk every member bounces, again and again (as when the only members left are
     * leaving), is sent again after growing waits and runs once one takes it: nine answers
     * in a few milliseconds failed it (attack 51).
     */
    @Test
    @Order(14)
    void aChunkBouncedManyTimesWaitsForAMemberToTakeIt() throws Exception {
        try (Pool pool = client.pool()) {
            notRunNext("5");
            b.call(() -> notRunNext("5"));
            c.call(() -> notRunNext("5"));
            assertEquals(42, pool.applyAsync(() -> 6 * 7).get(Duration.ofSeconds(60)));
            int bounces = 0;
            for (Object left : List.of(notRunNext(null), b.call(() -> notRunNext(null)),
                    c.call(() -> notRunNext(null)))) {
                bounces += 5 - Integer.parseInt((String) left);
            }
            // Members take turns (a chunk avoids the last that bounced it) until one has no
            // bounce left: at least nine answers, one more than failed it.
            assertTrue(bounces >= 9, "bounces: " + bounces);
        } finally {
            notRunNext(null);
            b.call(() -> notRunNext(null));
            c.call(() -> notRunNext(null));
        }
    }

    @Test
    @Order(100)
    void aMemberKilledMidMapDoesNotHangIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        String marks = dir.toString();
        try (Pool pool = client.pool()) {
            List<Integer> items = IntStream.range(0, 80).boxed().toList();
            AsyncResult<List<long[]>> r = pool.mapAsync(x -> {
                markMember(marks);
                Thread.sleep(200);
                long[] w = where();
                return new long[] {x, w[0], w[1]};
            }, items, 1);
            java.nio.file.Path onC = dir.resolve("ran-on-" + c.pid);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!java.nio.file.Files.exists(onC) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(java.nio.file.Files.exists(onC), "C runs chunks of the map");
            assertFalse(r.ready(), "the map is under way");
            assertTrue((Boolean) c.call(() -> ChildMember.here.lock("held-by-c").tryLock()));
            c.kill();
            long killed = System.nanoTime();
            // Hazelcast releases the lock of a member that died.
            Lock held = client.lock("held-by-c");
            assertTrue(held.tryLock(60, TimeUnit.SECONDS), "the dead member's lock is released");
            held.unlock();
            List<long[]> out = r.get(Duration.ofSeconds(60));
            for (int i = 0; i < items.size(); i++) {
                assertEquals(i, out.get(i)[0], "every result, in its place");
                workerPids.add(out.get(i)[2]);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (a.members().size() > 2 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(2, a.members().size(), "C is gone: " + a.members());
        try (Pool pool = client.pool()) {
            assertEquals(3, pool.processes(), "a new pool counts the workers left");
            assertEquals(List.of(0, 1, 2), pool.map(x -> x, List.of(0, 1, 2)));
        }
    }

    @Test
    @Order(101)
    void aMemberThatLeavesMidMapHandsItsChunksBack(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        String marks = dir.toString();
        List<Long> bWorkers = new ArrayList<>();
        try (Pool pool = client.pool()) {
            List<Integer> items = IntStream.range(0, 40).boxed().toList();
            AsyncResult<List<long[]>> r = pool.mapAsync(x -> {
                markMember(marks);
                Thread.sleep(300);
                long[] w = where();
                return new long[] {x, w[0], w[1]};
            }, items, 1);
            java.nio.file.Path onB = dir.resolve("ran-on-" + b.pid);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!java.nio.file.Files.exists(onB) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(java.nio.file.Files.exists(onB), "B runs chunks of the map");
            ProcessHandle.of(b.pid).ifPresent(h -> h.children().forEach(ch -> bWorkers.add(ch.pid())));
            b.close(); // leaves the cluster while running a chunk
            assertEquals(0, b.process.exitCode(), "B ended normally");
            List<long[]> out = r.get(Duration.ofSeconds(60));
            for (int i = 0; i < items.size(); i++) {
                assertEquals(i, out.get(i)[0], "every result, in its place");
            }
        }
        assertFalse(bWorkers.isEmpty(), "B had workers");
        assertTrue(bWorkers.stream().noneMatch(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false)),
                "B's workers ended with it: " + bWorkers);
    }
}
