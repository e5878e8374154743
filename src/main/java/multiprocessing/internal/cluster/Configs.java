package multiprocessing.internal.cluster;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.ExecutorConfig;
import com.hazelcast.config.JavaSerializationFilterConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.SerializationConfig;

/**
 * The Hazelcast configuration of a member and of a client: TCP/IP join with the given members
 * (no multicast, no cloud discovery), the given address only, nothing reaching beyond the
 * cluster (no phone-home), no Java deserialization of classes outside the JDK and Hazelcast,
 * no class built by Compact's reflection nor loaded by a name read ({@link NamedClasses}), and
 * the library's one task type.
 */
final class Configs {
    private Configs() {}

    /** The factory of the library's one Hazelcast-serialized type, {@link ChunkTask}. */
    static final int FACTORY_ID = 0x6d70_0001;
    static final String EXECUTOR = "__multiprocessing.chunks";
    /** The key check ({@code key-check}). */
    static final String META = "__multiprocessing";
    /** The members that run workers: member uuid to its sealed {@link WorkerRecord}. */
    static final String WORKERS = "__multiprocessing.workers";
    static final String LOCKS = "__multiprocessing.locks";
    static final String QUEUE_PREFIX = "multiprocessing.queue:";
    static final String DICT_PREFIX = "multiprocessing.dict:";

    /**
     * How often members tell each other they are alive, and after how long without a word one
     * is taken for dead (Hazelcast's defaults are 5 s and 60 s). A member killed on a machine
     * that stays up is seen gone at once, its connections refused; these bound the case of a
     * machine that vanishes. System properties of the same names win.
     */
    static final int HEARTBEAT_SECONDS = 1;
    static final int MAX_NO_HEARTBEAT_SECONDS = 15;
    /** How long a client tries to reach a member before it gives up. */
    static final long CONNECT_TIMEOUT_MILLIS = TimeUnit.SECONDS.toMillis(20);

    private static final AtomicInteger INSTANCES = new AtomicInteger();
    /** Held: a logger's level lives only as long as someone holds the logger. */
    private static final Logger HAZELCAST_LOGGER = Logger.getLogger("com.hazelcast");
    /** The loggers of a client's attempts to connect, held for their filters. */
    private static final List<Logger> CONNECTION_LOGGERS = List.of(
            Logger.getLogger("com.hazelcast.client.impl.connection.ClientConnectionManager"),
            Logger.getLogger("com.hazelcast.client.impl.connection.tcp.TcpClientConnection"));

    static Config member(Settings s) {
        quietLogging();
        Config c = new Config();
        c.setClusterName(s.name());
        c.setInstanceName("multiprocessing-member-" + ProcessHandle.current().pid() + "-"
                + INSTANCES.incrementAndGet());
        common(c::setProperty);
        defaultProperty(c::setProperty, "hazelcast.heartbeat.interval.seconds", HEARTBEAT_SECONDS);
        defaultProperty(c::setProperty, "hazelcast.max.no.heartbeat.seconds", MAX_NO_HEARTBEAT_SECONDS);
        defaultProperty(c::setProperty, "hazelcast.graceful.shutdown.max.wait", 30);
        c.setProperty("hazelcast.socket.bind.any", "false");
        c.getJetConfig().setEnabled(false);
        c.getMetricsConfig().setEnabled(false);

        NetworkConfig n = c.getNetworkConfig();
        n.setPort(s.port()).setPortAutoIncrement(s.portAutoIncrement()).setPortCount(100);
        n.getInterfaces().setEnabled(true).addInterface(address(s.bind()));
        JoinConfig j = n.getJoin();
        j.getMulticastConfig().setEnabled(false);
        j.getAutoDetectionConfig().setEnabled(false);
        j.getTcpIpConfig().setEnabled(true).setMembers(s.members());

        // Each running chunk holds an executor thread while the member's workers run it.
        c.addExecutorConfig(new ExecutorConfig(EXECUTOR, Math.max(16, 4 * s.workers()))
                .setStatisticsEnabled(false));
        serialization(c.getSerializationConfig());
        c.setClassLoader(NamedClasses.LOADER);
        return c;
    }

    static ClientConfig client(Settings s) {
        if (s.members().isEmpty()) {
            throw new IllegalArgumentException("a client needs the address of at least one member: "
                    + "ClusterConfig.builder().member(\"host:port\")");
        }
        quietLogging();
        ClientConfig c = new ClientConfig();
        c.setClusterName(s.name());
        c.setInstanceName("multiprocessing-client-" + ProcessHandle.current().pid() + "-"
                + INSTANCES.incrementAndGet());
        common(c::setProperty);
        defaultProperty(c::setProperty, "hazelcast.client.heartbeat.interval",
                TimeUnit.SECONDS.toMillis(HEARTBEAT_SECONDS));
        defaultProperty(c::setProperty, "hazelcast.client.heartbeat.timeout",
                TimeUnit.SECONDS.toMillis(MAX_NO_HEARTBEAT_SECONDS));
        c.getNetworkConfig().setAddresses(s.members());
        c.getConnectionStrategyConfig().getConnectionRetryConfig()
                .setClusterConnectTimeoutMillis(CONNECT_TIMEOUT_MILLIS);
        c.getMetricsConfig().setEnabled(false);
        serialization(c.getSerializationConfig());
        c.setClassLoader(NamedClasses.LOADER);
        return c;
    }

    private static void common(BiConsumer<String, String> set) {
        set.accept("hazelcast.phone.home.enabled", "false");
        // The library's exit hook leaves the cluster, in its order (see AtExit).
        set.accept("hazelcast.shutdownhook.enabled", "false");
        defaultProperty(set, "hazelcast.logging.type", "jdk");
    }

    private static void defaultProperty(BiConsumer<String, String> set, String name, Object value) {
        if (System.getProperty(name) == null) {
            set.accept(name, String.valueOf(value));
        }
    }

    private static void serialization(SerializationConfig sc) {
        sc.addDataSerializableFactory(FACTORY_ID, new TaskFactory());
        // What this library stores and sends is byte[]; nothing it does needs Java
        // serialization of a class outside the JDK and Hazelcast, and gadget chains live there.
        JavaSerializationFilterConfig filter = new JavaSerializationFilterConfig();
        filter.getWhitelist().addPrefixes("com.hazelcast.", "java.", "javax.", "[");
        sc.setJavaSerializationFilterConfig(filter);
        // Hazelcast's Compact format, on by default, builds by reflection any class of the
        // class path that no other format claims ("zero-config"), with the field values its
        // sender chose, past the filter above: a peer without the key had a member run a
        // Callable of the member's class path, or the library's own descriptor closer (attack
        // 29c). Nothing here is Compact: no class is eligible.
        JavaSerializationFilterConfig noCompact = new JavaSerializationFilterConfig()
                .setDefaultsDisabled(true);
        noCompact.getBlacklist().addPrefixes("");
        sc.getCompactSerializationConfig().setZeroConfigFilter(noCompact);
    }

    /**
     * Hazelcast logs through java.util.logging at WARNING and above unless configured otherwise,
     * and then each of a client's failed attempts to connect once a minute at most.
     */
    private static void quietLogging() {
        if (HAZELCAST_LOGGER.getLevel() == null
                && LogManager.getLogManager().getProperty("com.hazelcast.level") == null) {
            HAZELCAST_LOGGER.setLevel(Level.WARNING);
            for (Logger l : CONNECTION_LOGGERS) {
                if (l.getFilter() == null) {
                    l.setFilter(new OncePerMinute());
                }
            }
        }
    }

    /**
     * Lets a warning through unless the same one (its text but for numbers, and what it
     * carries) was let through less than a minute ago. A client with a wrong cluster name logged
     * three warnings at each of its 16 attempts in the 20 s it tries, one with a stack trace:
     * 437 lines before the library's error said the same.
     */
    static final class OncePerMinute implements Filter {
        private static final long MINUTE_NANOS = TimeUnit.MINUTES.toNanos(1);
        private final Map<String, Long> lastLogged = new HashMap<>();

        @Override
        public synchronized boolean isLoggable(LogRecord record) {
            Throwable t = record.getThrown();
            String message = String.valueOf(record.getMessage()).replaceAll("[0-9]+", "#");
            String key = t == null ? message : message + " " + t.getClass().getName();
            long now = System.nanoTime();
            Long last = lastLogged.get(key);
            if (last != null && now - last < MINUTE_NANOS) {
                return false;
            }
            if (lastLogged.size() >= 64) {
                lastLogged.clear(); // bounded: what repeats is a handful of messages
            }
            lastLogged.put(key, now);
            return true;
        }
    }

    /** The IP address of {@code host}: Hazelcast's interface list takes addresses only. */
    static String address(String host) {
        try {
            return InetAddress.getByName(host).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot bind to '" + host + "': no such host", e);
        }
    }
}
