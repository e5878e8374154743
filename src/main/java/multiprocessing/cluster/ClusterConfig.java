package multiprocessing.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import multiprocessing.Multiprocessing;

/**
 * How a JVM joins a cluster: the cluster's name, the members to join, where to listen, the
 * authentication key, and how many worker processes a member runs tasks in. Immutable; made by
 * {@link #builder()}, whose setters check their argument at once.
 *
 * <pre>{@code
 * ClusterConfig config = ClusterConfig.builder()
 *         .name("render")
 *         .member("10.0.0.5:5701")
 *         .bind("10.0.0.7")
 *         .build();
 * }</pre>
 */
public final class ClusterConfig {
    /** Hazelcast's port, where a member listens unless told otherwise. */
    public static final int DEFAULT_PORT = 5701;

    private final String name;
    private final List<String> members;
    private final String bind;
    private final int port;
    private final byte[] authKey;
    private final int workers;

    private ClusterConfig(Builder b) {
        this.name = b.name;
        this.members = List.copyOf(b.members);
        this.bind = b.bind;
        this.port = b.port;
        this.authKey = b.authKey != null ? b.authKey.clone()
                : Multiprocessing.currentProcess().authKey();
        this.workers = b.workers;
    }

    /**
     * {@return a builder with the defaults: name {@code "multiprocessing"}, no member, bind
     * {@code 127.0.0.1}, port 5701}
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the cluster's name: members and clients of another name never join it} */
    public String name() {
        return name;
    }

    /** {@return the members to join ({@code host:port}); empty when a member starts a new cluster} */
    public List<String> members() {
        return members;
    }

    /** {@return the address a member listens on and tells the others} */
    public String bind() {
        return bind;
    }

    /**
     * {@return the port a member listens on: 0 for a free one; by default 5701, or the next free
     * one up to 5801}
     */
    public int port() {
        return port == -1 ? DEFAULT_PORT : port;
    }

    /** {@return the authentication key (a copy)} */
    public byte[] authKey() {
        return authKey.clone();
    }

    /** {@return how many worker processes a member runs tasks in} */
    public int workers() {
        return workers;
    }

    /** Whether the port was left to its default (5701 or the next free one). */
    boolean portDefaulted() {
        return port == -1;
    }

    @Override
    public String toString() {
        return "ClusterConfig[name=" + name + ", members=" + members + ", bind=" + bind
                + ", port=" + (port == -1 ? DEFAULT_PORT + "+" : port) + ", workers=" + workers + "]";
    }

    /** The settings of a {@link ClusterConfig}. */
    public static final class Builder {
        private String name = "multiprocessing";
        private final List<String> members = new ArrayList<>();
        private String bind = "127.0.0.1";
        private int port = -1;
        private byte[] authKey;
        private int workers = Multiprocessing.cpuCount();

        private Builder() {}

        /**
         * The cluster's name (default {@code "multiprocessing"}): members of another name never join.
         *
         * @param name the name, not blank
         * @return this builder
         */
        public Builder name(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("a cluster name must not be empty");
            }
            this.name = name;
            return this;
        }

        /**
         * A member to join, as {@code host:port} ({@code host} alone means port 5701). Repeat for
         * several; none makes the first member start a new cluster (a client needs at least one).
         *
         * @param hostPort the member's {@code host:port}, or {@code host}
         * @return this builder
         */
        public Builder member(String hostPort) {
            members.add(checkHostPort(hostPort));
            return this;
        }

        /**
         * The address a member listens on and tells the others (default {@code 127.0.0.1}: this
         * machine only); give this machine's address on the network the other machines reach.
         *
         * @param host a host name or an address, without a port
         * @return this builder
         */
        public Builder bind(String host) {
            // One colon is a host with a port; an IPv6 address has several.
            if (host == null || host.isBlank() || host.chars().filter(ch -> ch == ':').count() == 1) {
                throw new IllegalArgumentException("bind takes a host name or an address without a "
                        + "port, not '" + host + "'");
            }
            this.bind = host;
            return this;
        }

        /**
         * The port a member listens on; 0 for any free port.
         *
         * @param port the port, 0 to 65535
         * @return this builder
         */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("a port is between 0 and 65535, not " + port);
            }
            this.port = port;
            return this;
        }

        /**
         * The authentication key every member and client of the cluster must share (default:
         * this process's {@link multiprocessing.Process#authKey()}, which children inherit).
         *
         * @param authKey the key, not empty (copied)
         * @return this builder
         */
        public Builder authKey(byte[] authKey) {
            if (authKey == null || authKey.length == 0) {
                throw new IllegalArgumentException("the authentication key must not be empty");
            }
            this.authKey = authKey.clone();
            return this;
        }

        /**
         * How many worker processes a member runs tasks in (default {@link Multiprocessing#cpuCount()}).
         *
         * @param workers the number of workers, at least 1
         * @return this builder
         */
        public Builder workers(int workers) {
            if (workers < 1) {
                throw new IllegalArgumentException("a member runs at least 1 worker, not " + workers);
            }
            this.workers = workers;
            return this;
        }

        /** {@return the configuration of these settings} */
        public ClusterConfig build() {
            return new ClusterConfig(this);
        }
    }

    /** {@code host:port} or {@code host}; the port defaults to 5701. */
    static String checkHostPort(String hostPort) {
        if (hostPort == null || hostPort.isBlank()) {
            throw new IllegalArgumentException("a member is host:port, not '" + hostPort + "'");
        }
        String s = hostPort.trim();
        int colon = s.lastIndexOf(':');
        boolean bracketed = s.startsWith("[");
        if (colon < 0 || bracketed && colon < s.indexOf(']')) {
            return s + ":" + DEFAULT_PORT;
        }
        String host = s.substring(0, colon);
        String port = s.substring(colon + 1);
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            p = -1;
        }
        if (host.isEmpty() || p < 1 || p > 65535) {
            throw new IllegalArgumentException("a member is host:port with a port from 1 to 65535, not '"
                    + hostPort + "'");
        }
        return host.toLowerCase(Locale.ROOT) + ":" + p;
    }
}
