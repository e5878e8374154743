package multiprocessing.managers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import multiprocessing.AuthenticationError;
import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.ProcessError;
import multiprocessing.Queue;
import multiprocessing.RemoteTraceback;
import multiprocessing.connection.Address;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;
import multiprocessing.dummy.Dummy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** BaseManager: registered types, errors, remote use, and the death of either side. */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(180)
class BaseManagerTest {

    /** Not public: a proxy of it could not be rebuilt in another process. */
    interface Hidden {
        int value();
    }

    @Test
    void aProxyInterfaceThatIsNotPublicIsRefusedAtRegister() {
        try (BaseManager manager = new BaseManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> manager.register("hidden", () -> (Hidden) () -> 1, Hidden.class));
            assertTrue(e.getMessage().contains("must be public"), e.getMessage());
        }
    }

    /** The interface a registered type is used through. */
    public interface CounterApi {
        int increment();

        int get();

        void fail(String message);

        CounterApi spawn();
    }

    public static final class Counter implements CounterApi, Serializable {
        private static final long serialVersionUID = 1L;
        private int n;

        public Counter() {}

        public Counter(int start) {
            this.n = start;
        }

        @Override
        public int increment() {
            return ++n;
        }

        @Override
        public int get() {
            return n;
        }

        @Override
        public void fail(String message) {
            throw new IllegalStateException(message);
        }

        @Override
        public CounterApi spawn() {
            return new Counter(n * 100);
        }

        public String secret() {
            return "hidden";
        }
    }

    private static BaseManager counterManager() {
        BaseManager m = new BaseManager();
        m.register("Counter", () -> new Counter(), CounterApi.class,
                List.of("increment", "get", "fail", "spawn"), Map.of("spawn", "Counter"), true);
        m.register("CounterFrom", args -> new Counter((Integer) args[0]), CounterApi.class);
        return m;
    }

    record Holder(CounterApi counter) implements Serializable {}

    /**
     * JDK collections as registered types (attack 43): an object of a class that is not
     * public ({@code Collections.synchronizedMap}'s) is called through the public interface
     * (every call threw IllegalAccessException); a Deque, NavigableSet or NavigableMap is
     * iterated and viewed on its snapshot (it threw "not an instance of"), reversed views
     * included (they could not be sent); a collection that holds itself prints and hashes
     * (StackOverflowError).
     */
    @Test
    @SuppressWarnings("unchecked")
    void jdkCollectionsAsRegisteredTypes() throws Exception {
        BaseManager m = new BaseManager();
        m.register("smap", () -> java.util.Collections.synchronizedMap(new java.util.HashMap<>()),
                Map.class);
        m.register("nset", () -> new java.util.TreeSet<>(List.of(3, 1, 2)),
                java.util.NavigableSet.class);
        m.register("deque", () -> new java.util.ArrayDeque<>(List.of(1, 2, 3)),
                java.util.Deque.class);
        m.register("nmap", () -> new java.util.TreeMap<>(Map.of("a", 1, "b", 2)),
                java.util.NavigableMap.class);
        m.register("list", () -> new ArrayList<>(List.of(1, 2, 3)), List.class);
        m.register("dict", () -> new java.util.HashMap<>(), Map.class);
        m.register("lhm", () -> new java.util.LinkedHashMap<>(Map.of("x", 1)),
                java.util.SequencedMap.class);
        try (m) {
            m.start();
            Map<String, Integer> smap = m.create("smap");
            smap.put("k", 1);
            assertEquals(1, smap.get("k"));
            assertEquals(1, smap.size());

            java.util.NavigableSet<Integer> nset = m.create("nset");
            List<Integer> seen = new ArrayList<>();
            for (int x : nset) {
                seen.add(x);
            }
            assertEquals(List.of(1, 2, 3), seen);
            assertEquals(List.of(3, 2, 1), new ArrayList<>(nset.descendingSet()));

            java.util.Deque<Integer> deque = m.create("deque");
            assertEquals(List.of(1, 2, 3), new ArrayList<>(deque));
            List<Integer> down = new ArrayList<>();
            deque.descendingIterator().forEachRemaining(down::add);
            assertEquals(List.of(3, 2, 1), down);
            assertThrows(UnsupportedOperationException.class,
                    () -> deque.iterator().remove(), "a snapshot cannot change the object");

            java.util.NavigableMap<String, Integer> nmap = m.create("nmap");
            assertEquals(List.of("a", "b"), new ArrayList<>(nmap.keySet()));
            assertEquals(2, nmap.entrySet().size());

            List<Integer> list = m.create("list");
            assertEquals(List.of(3, 2, 1), new ArrayList<>(list.reversed()));

            UnsupportedOperationException reversedDeque = assertThrows(
                    UnsupportedOperationException.class, deque::reversed);
            assertTrue(reversedDeque.getMessage().contains("copy it first"),
                    reversedDeque.getMessage());

            // A LinkedHashMap's entries are of an internal class: sent as plain entries (a
            // poll removed its entry and then failed to hand it over; attack 44).
            java.util.SequencedMap<String, Integer> lhm = m.create("lhm");
            assertEquals(Map.entry("x", 1), lhm.firstEntry());
            assertEquals(Map.entry("x", 1), lhm.pollFirstEntry());
            assertEquals(0, lhm.size());

            Map<String, Object> dict = m.create("dict");
            dict.put("self", dict);
            String printed = dict.toString();
            assertTrue(printed.startsWith("{self=<dict proxy of object"), printed);
            dict.hashCode(); // ends
            assertTrue(dict.equals(dict), "itself"); // StackOverflowError (attack 44)
            List<Object> holder = m.create("list");
            holder.add(dict);
            dict.put("holder", holder);
            assertTrue(holder.contains(dict));
            assertEquals(3, holder.indexOf(dict));
            assertTrue(dict.containsValue(holder));
            dict.clear();
            holder.clear();
        }
    }

    @Test
    void aRegisteredTypeIsUsedByAChildAndThrowsInTheCaller() throws Exception {
        try (BaseManager m = counterManager()) {
            m.start();
            CounterApi counter = m.create("Counter");
            Holder holder = new Holder(counter);
            Process child = new Process(() -> {
                for (int i = 0; i < 10; i++) {
                    holder.counter().increment();
                }
                try {
                    holder.counter().fail("from the child");
                    throw new AssertionError("no exception");
                } catch (IllegalStateException expected) {
                    if (!expected.getMessage().equals("from the child")) {
                        throw new AssertionError(expected);
                    }
                }
            });
            child.start();
            child.join();
            assertEquals(0, child.exitCode());
            assertEquals(10, counter.get());

            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> counter.fail("boom"));
            assertEquals("boom", e.getMessage());
            assertTrue(Arrays.stream(e.getStackTrace())
                    .anyMatch(f -> f.getClassName().endsWith("Counter")), "the server's frames");
            assertTrue(Arrays.stream(e.getSuppressed()).anyMatch(s -> s instanceof RemoteTraceback));

            CounterApi fromArgs = m.create("CounterFrom", 5);
            assertEquals(6, fromArgs.increment());
            CounterApi spawned = counter.spawn();
            assertInstanceOf(BaseProxy.class, spawned, "methodToTypeId gives a proxy");
            assertEquals(1001, spawned.increment());
            assertEquals(10, counter.get());
            assertInstanceOf(Counter.class, fromArgs.spawn(), "without it, a copy");
        }
    }

    @Test
    void unexposedMethodsAndUnknownTypesAreNamed() {
        try (BaseManager m = counterManager()) {
            m.start();
            BaseProxy counter = m.create("Counter");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> counter.callMethod("secret"));
            assertTrue(e.getMessage().contains("'secret'") && e.getMessage().contains("exposed"),
                    e.getMessage());
            IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                    () -> m.create("Nope"));
            assertTrue(unknown.getMessage().contains("'Nope'"), unknown.getMessage());
            assertThrows(IllegalArgumentException.class, () -> m.create("Counter", 1, 2));
        }
    }

    /** A registered type that reads the server process's system properties. */
    public interface Lookup {
        String get(String key);
    }

    public static final class SystemProperties implements Lookup {
        @Override
        public String get(String key) {
            return System.getProperty(key);
        }
    }

    @Test
    void startRunsTheInitializerInTheServerProcess() {
        try (BaseManager m = new BaseManager()) {
            m.register("props", () -> new SystemProperties(), Lookup.class);
            m.start(() -> System.setProperty("manager.initialized", "yes"));
            Lookup props = m.create("props");
            assertEquals("yes", props.get("manager.initialized"));
            assertEquals(null, System.getProperty("manager.initialized"));
            assertThrows(IllegalStateException.class, m::start);
        }
    }

    /**
     * An initializer that never returns holds start() for as long as it runs (as in Python),
     * but a shutdown() from another thread, or an interrupt of the starting thread, ends the
     * start within moments: the server process is stopped, start() throws, nothing is left.
     */
    @Test
    void aStartHeldByItsInitializerEndsAtAShutdownOrAnInterrupt() throws Exception {
        for (boolean interrupt : new boolean[] {false, true}) {
            SyncManager m = new SyncManager();
            java.util.concurrent.atomic.AtomicReference<Throwable> thrown =
                    new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicBoolean interruptKept =
                    new java.util.concurrent.atomic.AtomicBoolean();
            Thread starter = new Thread(() -> {
                try {
                    m.start(() -> Thread.sleep(Long.MAX_VALUE));
                } catch (Throwable t) {
                    thrown.set(t);
                    interruptKept.set(Thread.currentThread().isInterrupted());
                }
            });
            starter.setDaemon(true);
            starter.start();
            Thread.sleep(1500); // well into the wait: the server runs its initializer
            long t0 = System.nanoTime();
            // From a thread of its own: a shutdown that waited for the start would hang the test.
            Thread stopper = new Thread(interrupt ? starter::interrupt : m::shutdown);
            stopper.setDaemon(true);
            stopper.start();
            starter.join(15_000);
            stopper.join(5_000);
            assertFalse(starter.isAlive(), "start() still waits");
            assertFalse(stopper.isAlive(), "shutdown() still waits");
            assertTrue((System.nanoTime() - t0) / 1_000_000 < 10_000, "ended within seconds");
            assertInstanceOf(multiprocessing.ProcessError.class, thrown.get());
            assertTrue(thrown.get().getMessage().contains(interrupt ? "interrupted" : "shut down"),
                    thrown.get().getMessage());
            assertEquals(interrupt, interruptKept.get(), "the interrupt is kept");
            assertThrows(IllegalStateException.class, m::dict);
            m.shutdown();
        }
    }

    /** What cannot reach the server process is named before any process starts. */
    @Test
    void aTypeThatCannotBeSentOrHasNoNameIsRefusedClearly() {
        Thread unsendable = new Thread(() -> { });
        try (BaseManager m = new BaseManager()) {
            m.register("holder", () -> (Lookup) key -> unsendable.getName(), Lookup.class);
            multiprocessing.ProcessError e = assertThrows(multiprocessing.ProcessError.class,
                    m::start);
            assertTrue(e.getMessage().contains("registered types"), e.getMessage());
        }
        NullPointerException npe = assertThrows(NullPointerException.class,
                () -> new BaseManager().register(null, () -> 1, Lookup.class));
        assertTrue(npe.getMessage().contains("typeId"), npe.getMessage());
    }

    @Test
    void aWrongKeyFailsConnectWithAuthenticationError() {
        byte[] key = "the right key".getBytes(StandardCharsets.UTF_8);
        try (SyncManager m = new SyncManager(Address.inet("127.0.0.1", 0), key)) {
            m.start();
            SyncManager wrong = new SyncManager(m.address(),
                    "a wrong key".getBytes(StandardCharsets.UTF_8));
            assertThrows(AuthenticationError.class, wrong::connect);
            SyncManager right = new SyncManager(m.address(), key);
            right.connect();
            Map<String, Integer> d = right.dict();
            d.put("ok", 1);
            assertEquals(1, d.get("ok"));
        }
    }

    /**
     * A wrong key fails {@code connect()} even when this process is already connected to that
     * manager with the right one, and leaves the right one's proxies working, on new
     * connections too (review 54: the check went over the first manager's connection and
     * passed; the wrong key, remembered for the address, then failed every new connection).
     */
    @Test
    void aWrongKeyFailsConnectBesideAManagerConnectedWithTheRightOne() throws Exception {
        byte[] key = "the right key".getBytes(StandardCharsets.UTF_8);
        try (SyncManager m = new SyncManager(Address.inet("127.0.0.1", 0), key)) {
            m.start();
            SyncManager right = new SyncManager(m.address(), key);
            right.connect();
            Map<String, Integer> d = right.dict();
            d.put("ok", 1);
            SyncManager wrong = new SyncManager(m.address(),
                    "a wrong key".getBytes(StandardCharsets.UTF_8));
            assertThrows(AuthenticationError.class, wrong::connect);
            // A get waiting in the server holds its connection: the put needs another one.
            QueueProxy<String> q = right.queue();
            CompletableFuture<String> got = CompletableFuture.supplyAsync(
                    () -> q.get(Duration.ofSeconds(30)));
            Thread.sleep(300);
            assertEquals(1, d.get("ok"));
            q.put("item");
            assertEquals("item", got.get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void aWrongKeyIsAnAuthenticationErrorOnBothSides() throws Exception {
        byte[] key = "server key".getBytes(StandardCharsets.UTF_8);
        SyncManager m = new SyncManager(Address.inet("127.0.0.1", 0), key);
        Server server = m.getServer();
        List<java.util.logging.LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("multiprocessing");
        log.addHandler(handler);
        Thread serving = Thread.ofPlatform().start(server::serveForever);
        try {
            SyncManager client = new SyncManager(m.address(),
                    "client key".getBytes(StandardCharsets.UTF_8));
            assertThrows(AuthenticationError.class, client::connect);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (records.stream().noneMatch(r -> r.getMessage().contains("authentication"))
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(records.stream().anyMatch(r -> r.getMessage().contains("authentication")),
                    "the server saw the failed handshake: " + records);
            SyncManager right = new SyncManager(m.address(), key);
            right.connect();
            assertEquals(0, right.list().size());
        } finally {
            log.removeHandler(handler);
            m.shutdown();
            serving.join(TimeUnit.SECONDS.toMillis(10));
        }
    }

    @Test
    void aProxyOfAManagerWithItsOwnKeyWorksInAChild() throws Exception {
        byte[] key = "not the process key".getBytes(StandardCharsets.UTF_8);
        try (SyncManager m = new SyncManager(null, key)) {
            m.start();
            ListProxy<String> list = m.list();
            Process child = new Process(() -> list.add("child"));
            child.start();
            child.join();
            assertEquals(0, child.exitCode());
            assertEquals(List.of("child"), list);
        }
    }

    @Test
    void theForkserverAndDummyContextsGiveManagersToo() throws Exception {
        Context forkserver = Multiprocessing.getContext("forkserver");
        try (SyncManager m = forkserver.manager()) {
            DictProxy<String, Integer> d = m.dict();
            Process child = forkserver.process(() -> d.merge("n", 2, Integer::sum));
            child.start();
            child.join();
            assertEquals(0, child.exitCode());
            assertEquals(2, d.get("n"));
        }
        try (SyncManager m = Dummy.context().manager()) {
            DictProxy<String, Integer> d = m.dict();
            d.merge("n", 3, Integer::sum);
            ListProxy<Object> l = m.list();
            l.add(d);
            @SuppressWarnings("unchecked")
            Map<String, Integer> back = (Map<String, Integer>) l.get(0);
            back.merge("n", 1, Integer::sum);
            assertEquals(Map.of("n", 4), d);
        }
    }

    /** A generic interface: {@code add(T)} is {@code add(Object)} once erased. */
    public interface Sink<T> {
        String add(T x);
    }

    /** Overloads that no declared type picks: the arguments do, on every call. */
    public static final class TwoAdds {
        public String add(Integer x) {
            return "int " + x;
        }

        public String add(String x) {
            return "string " + x;
        }
    }

    /**
     * An overload chosen by one call's arguments is not kept for the next call, which may need
     * another (review 51: the first call's choice was cached under the declared types, and a
     * String after an Integer failed with "argument type mismatch").
     */
    @Test
    void anOverloadChosenByTheArgumentsIsChosenAgainEachCall() {
        try (BaseManager m = new BaseManager(null, null, Dummy.context())) {
            m.register("adds", () -> new TwoAdds(), Sink.class);
            m.start();
            Sink<Object> sink = m.create("adds");
            assertEquals("int 1", sink.add(1));
            assertEquals("string s", sink.add("s"));
            assertEquals("int 2", sink.add(2));
        }
    }

    public interface Room {
        /** Stays inside a while; returns how many calls were inside at once, at most. */
        int enter() throws InterruptedException;
    }

    /** Not thread-safe on purpose: counts the calls inside it at once. */
    public static final class OneRoom implements Room {
        private int inside;
        private int most;

        @Override
        public int enter() throws InterruptedException {
            most = Math.max(most, ++inside);
            Thread.sleep(40);
            inside--;
            return most;
        }
    }

    /**
     * One object shared twice (a registered callable that returns one instance, as in Python's
     * remote-manager example) is still called one call at a time: each sharing had a lock of
     * its own, and two clients' calls ran in it at once (review 51).
     */
    @Test
    void oneObjectSharedTwiceIsStillCalledOneCallAtATime() throws Exception {
        OneRoom room = new OneRoom();
        try (BaseManager m = new BaseManager(null, null, Dummy.context())) {
            m.register("room", () -> room, Room.class);
            m.start();
            Room first = m.create("room");
            Room second = m.create("room");
            java.util.concurrent.ExecutorService two =
                    java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                List<java.util.concurrent.Future<Integer>> most = new ArrayList<>();
                for (Room r : List.of(first, second, first, second, first, second)) {
                    most.add(two.submit(r::enter));
                }
                for (java.util.concurrent.Future<Integer> f : most) {
                    assertEquals(1, f.get(30, TimeUnit.SECONDS), "calls inside at once");
                }
            } finally {
                two.shutdownNow();
            }
        }
    }

    @Test
    void aTypeWithoutCreateMethodComesOnlyFromAMethod() {
        try (BaseManager m = new BaseManager()) {
            m.register("Parent", () -> new Counter(7), CounterApi.class, null,
                    Map.of("spawn", "Child"), true);
            m.register("Child", () -> new Counter(), CounterApi.class, null, null, false);
            m.start();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.create("Child"));
            assertTrue(e.getMessage().contains("'Child'"), e.getMessage());
            CounterApi parent = m.create("Parent");
            CounterApi child = parent.spawn();
            assertEquals(701, child.increment());
        }
    }

    @Test
    void aProxyStoredInAnotherManagerKeepsItsObjectAlive() throws Exception {
        try (SyncManager a = Multiprocessing.manager(); SyncManager b = Multiprocessing.manager()) {
            DictProxy<String, Object> holder = a.dict();
            int before = b.numberOfObjects();
            ListProxy<Integer> list = b.list();
            holder.put("list", list);
            list = null;
            for (int i = 0; i < 20; i++) {
                System.gc();
                Thread.sleep(50);
            }
            assertEquals(before + 1, b.numberOfObjects(), "a's server holds a reference");
            @SuppressWarnings("unchecked")
            List<Integer> back = (List<Integer>) holder.get("list");
            back.add(1);
            assertEquals(List.of(1), back);
        }
    }

    /**
     * Two managers served in this JVM, a proxy of one stored in the other: a reply that carries
     * it back counts its reference in the right books, and the object goes once every proxy of
     * it has. The replying server counted it in the other's books under its own client, the
     * receiver counted it again, and the object stayed for good (review 57).
     */
    @Test
    void aReplyCarryingAnotherManagersProxyLeavesNoReferenceBehind() throws Exception {
        SyncManager x = new SyncManager();
        SyncManager y = new SyncManager();
        Thread servingX = Thread.ofPlatform().daemon().start(x.getServer()::serveForever);
        Thread servingY = Thread.ofPlatform().daemon().start(y.getServer()::serveForever);
        try {
            DictProxy<String, Object> holder = x.dict();
            int before = y.numberOfObjects();
            ListProxy<Integer> list = y.list();
            list.add(7);
            holder.put("k", list);
            list = null;
            @SuppressWarnings("unchecked")
            List<Integer> back = (List<Integer>) holder.remove("k"); // the reply carries it
            assertEquals(List.of(7), back);
            back = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (y.numberOfObjects() > before && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(50);
            }
            assertEquals(before, y.numberOfObjects(), "the list went with its last proxy");
        } finally {
            x.shutdown();
            y.shutdown();
            servingX.join(10_000);
            servingY.join(10_000);
        }
    }

    @Test
    void aProxyUsedAfterShutdownThrowsAtOnce() {
        int n = Integer.parseInt(new Process(() -> {}).name().substring("Process-".length()));
        SyncManager m = Multiprocessing.manager();
        // Python's name, numbered as the creator's processes are (attack 58).
        assertEquals("SyncManager-" + (n + 1), m.process().name());
        Map<String, Integer> d = m.dict();
        d.put("a", 1);
        m.shutdown();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.get("a"));
        assertTrue(e.getMessage().contains("shut down"), e.getMessage());
        assertThrows(IllegalStateException.class, m::dict);
        m.shutdown(); // twice is fine
        // How the server ended stays readable, as CPython's test_mymanager reads it (review
        // 55: the process object was closed, and exitCode() threw).
        assertTrue(List.of(0, -15).contains(m.process().exitCode()), "" + m.process().exitCode());
    }

    @Test
    void proxiesTravelThroughPipesAndQueues() throws Exception {
        try (SyncManager m = Multiprocessing.manager()) {
            DictProxy<String, Integer> d = m.dict();
            Queue<Object> queue = new Queue<>();
            Pipe pipe = Pipe.open(true);
            Connection mine = pipe.left();
            Connection theirs = pipe.right();
            Process child = new Process(() -> {
                @SuppressWarnings("unchecked")
                Map<String, Integer> viaQueue = (Map<String, Integer>) queue.get();
                viaQueue.put("queue", 1);
                @SuppressWarnings("unchecked")
                Map<String, Integer> viaPipe = (Map<String, Integer>) theirs.recv();
                viaPipe.put("pipe", 2);
                theirs.send("done");
            });
            child.start();
            queue.put(d);
            mine.send(d);
            assertEquals("done", mine.recv());
            child.join();
            assertEquals(0, child.exitCode());
            assertEquals(Map.of("queue", 1, "pipe", 2), d);
            queue.close();
            mine.close();
            theirs.close();
        }
    }

    @Test
    void objectsGoWhenNoProxyIsLeft() throws Exception {
        try (SyncManager m = Multiprocessing.manager()) {
            int before = m.numberOfObjects();
            Map<String, Integer> d = m.dict();
            assertEquals(before + 1, m.numberOfObjects());
            d = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (m.numberOfObjects() > before && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(50);
            }
            assertEquals(before, m.numberOfObjects());
        }
    }

    @Test
    void theServerKilledMidCallFailsTheCallerWithinSeconds() throws Exception {
        SyncManager m = Multiprocessing.manager();
        QueueProxy<String> q = m.queue();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread waiter = Thread.ofPlatform().start(() -> {
            try {
                q.get();
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        Thread.sleep(300); // let the call reach the server (it fails either way)
        m.process().kill();
        waiter.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(waiter.isAlive(), "the caller still waits");
        assertInstanceOf(ProcessError.class, failure.get());
        // SIGKILL is delivered, not done: until the server has died its listening socket still
        // takes connections (then resets them), so the next call is made once it is dead.
        m.process().join(Duration.ofSeconds(30));
        ProcessError next = assertThrows(ProcessError.class, q::qsize);
        assertTrue(next.getMessage().contains("no manager is serving"), next.getMessage());
        m.shutdown();
    }

    @Test
    void aClientKilledMidCallLeavesTheServerServingAndItsReferencesReleased() throws Exception {
        SyncManager m = new SyncManager();
        m.register("Counter", () -> new Counter(), CounterApi.class, null,
                Map.of("spawn", "Counter"), true);
        m.start();
        try (m) {
            CounterApi counter = m.create("Counter");
            QueueProxy<String> q = m.queue();
            EventProxy ready = m.event();
            int before = m.numberOfObjects();
            Process child = new Process(() -> {
                CounterApi mine = counter.spawn(); // an object only the child holds
                mine.increment();
                ready.set();
                q.get(); // blocks until killed
            });
            child.start();
            assertTrue(ready.await(Duration.ofSeconds(60)));
            assertEquals(before + 1, m.numberOfObjects());
            child.kill();
            child.join();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (m.numberOfObjects() > before && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(before, m.numberOfObjects(), "the dead client's object was released");
            q.put("still served");
            assertEquals("still served", q.get(Duration.ofSeconds(60)));
        }
    }

    @Test
    void aServerInThisProcessServesAChild() throws Exception {
        SyncManager m = new SyncManager(Address.inet("127.0.0.1", 0), null);
        Server server = m.getServer();
        assertTrue(m.address().port() > 0, "the real port");
        Thread serving = Thread.ofPlatform().start(server::serveForever);
        Address address = m.address();
        Process child = new Process(() -> {
            SyncManager client = new SyncManager(address, null);
            client.connect();
            DictProxy<String, String> d = client.dict();
            d.put("k", "v");
            if (!d.get("k").equals("v")) {
                throw new AssertionError();
            }
        });
        child.start();
        child.join();
        assertEquals(0, child.exitCode());
        m.shutdown();
        serving.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(serving.isAlive());
    }

    /**
     * Shutting down a server that serves from this process ends the threads of its
     * connections while their clients (another process here) stay connected and idle: each was
     * blocked in a receive on a descriptor closed under it, for good, and the client never saw
     * the end of its connection.
     */
    @Test
    void shutdownOfAServerInThisProcessEndsItsConnectionsThreads() throws Exception {
        SyncManager m = new SyncManager(Address.inet("127.0.0.1", 0), null);
        Server server = m.getServer();
        Thread serving = Thread.ofPlatform().start(server::serveForever);
        Address address = m.address();
        Context ctx = Multiprocessing.getContext("spawn");
        multiprocessing.synchronize.Event ready = ctx.event();
        multiprocessing.synchronize.Event release = ctx.event();
        Process child = ctx.process(() -> {
            SyncManager client = new SyncManager(address, null);
            client.connect();
            client.dict().put("k", "v");
            ready.set();
            release.await(Duration.ofSeconds(60));
        });
        child.start();
        try {
            assertTrue(ready.await(Duration.ofSeconds(60)), "the child called the manager");
            assertTrue(connectionThreads() > 0, "a thread serves the child's connection");
            m.shutdown();
            serving.join(TimeUnit.SECONDS.toMillis(10));
            assertFalse(serving.isAlive());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (connectionThreads() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(0, connectionThreads(), "connection threads left after the shutdown");
        } finally {
            release.set();
            child.join(Duration.ofSeconds(30));
            if (child.isAlive()) {
                child.kill();
                child.join();
            }
        }
        assertEquals(0, child.exitCode());
    }

    private static long connectionThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("multiprocessing-manager-connection")).count();
    }

    @Test
    void connectingWhereNobodyServesFailsFast() throws Exception {
        int port;
        try (var s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        BaseManager m = new BaseManager(Address.inet("127.0.0.1", port), new byte[] {1, 2, 3});
        ProcessError e = assertThrows(ProcessError.class, m::connect);
        assertTrue(e.getMessage().contains("no manager is serving"), e.getMessage());
        BaseManager unix = new BaseManager(Address.unix("/tmp/no-such-manager-" + port), null);
        assertThrows(ProcessError.class, unix::connect);
    }

    private static java.lang.Process harness(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), ManagerHarness.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static List<String> output(java.lang.Process p) throws Exception {
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(
                new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                lines.add(line);
            }
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return lines;
    }

    /**
     * A program that ends while a non-daemon child waits on its manager exits: the exit joins
     * the child, and after a grace shuts the manager down, which ends the child's wait, as
     * Python's exit does (it shuts its managers down first). Each waited for the other, and the
     * program never exited (attack 43).
     */
    @ParameterizedTest
    @ValueSource(strings = {"return", "exit"})
    void aProgramWhoseChildWaitsOnItsManagerExits(String how, @TempDir Path dir)
            throws Exception {
        // Its output to a file: a program that does not exit keeps a pipe open for good.
        Path out = dir.resolve("out.txt");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), ManagerHarness.class.getName(),
                "exit-while-a-child-waits", how));
        java.lang.Process p = new ProcessBuilder(command).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        boolean exited;
        try {
            exited = p.waitFor(30, TimeUnit.SECONDS);
        } finally {
            p.destroyForcibly();
        }
        List<String> lines = Files.readAllLines(out);
        if (!exited) {
            // Its server and child, which outlive a SIGKILLed program only briefly.
            for (String line : lines) {
                if (line.matches("(server|child) \\d+")) {
                    ProcessHandle.of(Long.parseLong(line.substring(line.indexOf(' ') + 1)))
                            .ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }
        assertTrue(exited, "the program did not exit: " + lines);
        assertEquals(0, p.exitValue(), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("child ended: ")), lines.toString());
        for (String line : lines) {
            if (line.startsWith("server ") || line.startsWith("child ")
                    && !line.startsWith("child ended")) {
                long pid = Long.parseLong(line.substring(line.indexOf(' ') + 1));
                assertTrue(ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true),
                        line + " is still alive");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "unix"})
    void aRemoteManagerServesAProcessThatIsNotItsChild(String family, @TempDir Path dir)
            throws Exception {
        byte[] key = "a key of the remote manager".getBytes(StandardCharsets.UTF_8);
        Address address = family.equals("tcp") ? Address.inet("127.0.0.1", 0)
                : Address.unix(dir.resolve("manager.sock").toString());
        Map<String, Integer> shared = new ConcurrentHashMap<>();
        BaseManager m = new BaseManager(address, key);
        m.register("shared", () -> shared, DictProxy.class);
        m.start();
        try {
            // By another name than the one it listens on: its proxies still get the key.
            String where = family.equals("tcp") ? "localhost:" + m.address().port()
                    : m.address().path();
            List<String> out = output(harness("use", where, HexFormat.of().formatHex(key)));
            assertEquals(List.of("sees {from-harness=1}"), out);
            Map<String, Integer> mine = m.create("shared");
            assertEquals(Map.of("from-harness", 1), mine);

            List<String> wrong = output(harness("use", where, "00112233"));
            assertEquals(1, wrong.size(), wrong.toString());
            assertTrue(wrong.get(0).startsWith("auth-error"), wrong.toString());
            assertEquals(Map.of("from-harness", 1), mine, "the server still serves");
        } finally {
            m.shutdown();
        }
        if (family.equals("unix")) {
            assertFalse(Files.exists(dir.resolve("manager.sock")), "socket file left behind");
        }
    }

    /**
     * The JVM that started a manager can still use it from its shutdown hooks: the exit
     * handler, which runs beside them, used to terminate the server (a daemon child) while a
     * hook called it, and the calls failed, saying the manager had shut down or died. The
     * server now ends with its creator instead, and is gone after it (checked by
     * NoLeftoverProcesses).
     */
    @Test
    void theCreatorsShutdownHookCanStillCallItsManager() throws Exception {
        Queue<String> out = new Queue<>();
        Process creator = new Process(() -> {
            multiprocessing.managers.SyncManager manager = Multiprocessing.manager();
            multiprocessing.managers.DictProxy<String, String> d = manager.dict();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                d.put("from", "the hook");
                out.put(d.get("from"));
            }));
            out.put("started");
        });
        creator.start();
        assertEquals("started", out.get(Duration.ofSeconds(60)));
        creator.join();
        assertEquals(0, creator.exitCode());
        assertEquals("the hook", out.get(Duration.ofSeconds(20)));
        out.close();
    }

    /**
     * A SharedMemoryManager whose creator (itself a child, sharing its parent's resource
     * tracker) exits without shutting it down gives its segments back as the creator ends, as
     * Python's manager does from its exit handler: they stayed in /dev/shm until the tracker's
     * own process, the creator's parent, exited.
     */
    @Test
    void aSharedMemoryManagerLeftRunningByItsCreatorUnlinksItsSegmentsWhenTheCreatorEnds()
            throws Exception {
        Queue<String> out = new Queue<>();
        Process creator = new Process(() -> {
            multiprocessing.managers.SharedMemoryManager manager =
                    new multiprocessing.managers.SharedMemoryManager();
            manager.start();
            out.put(manager.sharedMemory(4096).name());
        });
        creator.start();
        Path segment = Path.of("/dev/shm", out.get(Duration.ofSeconds(60)).replaceFirst("^/", ""));
        creator.join();
        assertEquals(0, creator.exitCode());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.exists(segment) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertFalse(Files.exists(segment), segment + " is still there 10 s after its creator ended");
        out.close();
    }

    @Test
    void theCreatorKilledTakesTheServerAndItsSegments() throws Exception {
        java.lang.Process creator = harness("creator");
        BufferedReader r = new BufferedReader(
                new InputStreamReader(creator.getInputStream(), StandardCharsets.UTF_8));
        String serverLine = r.readLine();
        String segmentLine = r.readLine();
        assertTrue(serverLine != null && serverLine.startsWith("server "), serverLine);
        assertTrue(segmentLine != null && segmentLine.startsWith("segment "), segmentLine);
        long server = Long.parseLong(serverLine.substring("server ".length()));
        String segment = segmentLine.substring("segment ".length()).replaceFirst("^/", "");
        assertTrue(Files.exists(Path.of("/dev/shm", segment)));
        assertFalse(privateDirectories(server).isEmpty(), "the server's socket has a directory");
        creator.destroyForcibly();
        creator.waitFor();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((ProcessHandle.of(server).map(ProcessHandle::isAlive).orElse(false)
                || Files.exists(Path.of("/dev/shm", segment))) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertFalse(ProcessHandle.of(server).map(ProcessHandle::isAlive).orElse(false),
                "the server outlived its creator");
        assertFalse(Files.exists(Path.of("/dev/shm", segment)), "the segment outlived its creator");
        // Removed by the server as it ended, not left for a later JVM to sweep.
        assertEquals(List.of(), privateDirectories(server), "the server's private directory");
    }

    /** The private directories (of Unix sockets) process {@code pid} has in the temp dir. */
    private static List<Path> privateDirectories(long pid) throws IOException {
        try (var dirs = Files.list(multiprocessing.internal.util.TempDir.base())) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("jmp-" + pid + "-"))
                    .toList();
        }
    }

    @Test
    void sharedMemoryManagerUnlinksAtShutdown() throws Exception {
        String a;
        String b;
        try (SharedMemoryManager m = new SharedMemoryManager()) {
            m.start();
            var shm = m.sharedMemory(128);
            var list = m.shareableList(List.of(1, "two", 3.0));
            a = shm.name().replaceFirst("^/", "");
            b = list.shm().name().replaceFirst("^/", "");
            assertEquals(2, m.segmentNames().size());
            Process child = new Process(() -> list.set(0, 42));
            child.start();
            child.join();
            assertEquals(42L, ((Number) list.get(0)).longValue());
            shm.close();
            list.close();
        }
        assertFalse(Files.exists(Path.of("/dev/shm", a)));
        assertFalse(Files.exists(Path.of("/dev/shm", b)));
    }
    /**
     * A segment made for a manager whose server has gone is unlinked at once, as CPython does:
     * handed to nobody, it stayed in /dev/shm until this program's end (review 48).
     */
    /**
     * Two SharedMemoryManagers served in one JVM (the dummy context's server is a thread of
     * its creator's) each unlink only their own segments: they shared one tracker, and the
     * first one's shutdown unlinked the second's segments while they were in use (review 51).
     */
    @Test
    void twoSharedMemoryManagersInOneJvmKeepTheirSegmentsApart() throws Exception {
        try (SharedMemoryManager first = new SharedMemoryManager(null, null, Dummy.context());
                SharedMemoryManager second = new SharedMemoryManager(null, null, Dummy.context())) {
            first.start();
            second.start();
            var mine = first.sharedMemory(64);
            var theirs = second.sharedMemory(64);
            assertEquals(List.of(mine.name()), first.segmentNames());
            assertEquals(List.of(theirs.name()), second.segmentNames());
            first.shutdown();
            assertFalse(Files.exists(Path.of("/dev/shm", mine.name().replaceFirst("^/", ""))));
            assertTrue(Files.exists(Path.of("/dev/shm", theirs.name().replaceFirst("^/", ""))),
                    "the other manager's segment was unlinked");
            second.shutdown();
            assertFalse(Files.exists(Path.of("/dev/shm", theirs.name().replaceFirst("^/", ""))));
            mine.close();
            theirs.close();
        }
    }

    @Test
    void aSegmentTheServerCannotTrackIsUnlinked() throws Exception {
        try (SharedMemoryManager m = new SharedMemoryManager()) {
            m.start();
            var first = m.sharedMemory(64); // the tracker's proxy is made and kept
            first.close();
            first.unlink(); // its server, killed, will not
            m.process().kill();
            m.process().join(java.time.Duration.ofSeconds(30));
            java.util.Set<String> before = shmNames();
            assertThrows(RuntimeException.class, () -> m.sharedMemory(4096));
            assertThrows(RuntimeException.class, () -> m.shareableList(List.of(1, "two")));
            assertEquals(before, shmNames(), "segments left in /dev/shm");
        }
    }

    private static java.util.Set<String> shmNames() throws IOException {
        try (var files = Files.list(Path.of("/dev/shm"))) {
            return files.map(f -> f.getFileName().toString())
                    .collect(java.util.stream.Collectors.toSet());
        }
    }
}
