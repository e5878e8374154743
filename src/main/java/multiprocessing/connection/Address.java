package multiprocessing.connection;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

import multiprocessing.internal.posix.SocketAddr;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * The address of a {@link Listener}: an IPv4 host and port (Python's {@code (host, port)}
 * tuple) or a Unix socket path (Python's path string). A Unix path that starts with
 * {@code "\0"} names a socket in Linux's abstract namespace, which has no file and vanishes
 * with its last descriptor.
 *
 * <p>Instances are immutable. Two addresses are equal when they have the same family and the
 * same host string and port, or the same path; as with Python's tuples, {@code localhost} and
 * {@code 127.0.0.1} are different addresses even though they reach the same socket.
 */
public final class Address {
    static {
        Serialization.register(Address.class, new Reducer<Address>() {
            @Override
            public void reduce(Address a, Out out) {
                out.writeInt(a.family.ordinal());
                out.writeObject(a.host);
                out.writeInt(a.port);
                out.writeObject(a.ipv4);
                out.writeObject(a.path);
            }

            @Override
            public Address rebuild(In in) {
                int ordinal = in.readInt();
                if (ordinal < 0 || ordinal >= Family.values().length) {
                    throw new IllegalArgumentException("unknown address family " + ordinal);
                }
                Family family = Family.values()[ordinal];
                Object host = in.readObject();
                int port = in.readInt();
                Object ipv4 = in.readObject();
                return received(family, host, port, ipv4, in.readObject());
            }
        });
    }

    /**
     * An address as another process wrote it, checked as the factories check theirs, so that a
     * corrupt or crafted message fails here, clearly, not at a connect that would use it. An
     * inet address keeps the IPv4 address its sender resolved (a receiver resolving the name
     * again might reach another host).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    static Address received(Family family, Object host, int port, Object ipv4, Object path) {
        if (family == Family.AF_UNIX) {
            if (!(path instanceof String p) || host != null || ipv4 != null || port != 0) {
                throw new IllegalArgumentException("a received AF_UNIX address is malformed: "
                        + "path " + describe(path) + ", host " + describe(host) + ", port " + port);
            }
            return unix(p);
        }
        if (!(host instanceof String h) || !(ipv4 instanceof byte[] a) || a.length != 4
                || path != null || port < 0 || port > 0xffff) {
            throw new IllegalArgumentException("a received AF_INET address is malformed: host "
                    + describe(host) + ", port " + port + ", IPv4 " + describe(ipv4) + ", path "
                    + describe(path));
        }
        return new Address(Family.AF_INET, h, port, a.clone(), null);
    }

    private static String describe(Object o) {
        if (o == null) {
            return "none";
        }
        if (o instanceof byte[] b) {
            return b.length + " bytes";
        }
        if (o instanceof String str) {
            return str.length() > 120 ? "'" + render(str.substring(0, 120)) + "...' ("
                    + str.length() + " chars)" : "'" + render(str) + "'";
        }
        return "a " + o.getClass().getName();
    }

    /** sun_path holds 108 bytes; a path needs one of them for its terminating NUL. */
    private static final int SUN_PATH_SIZE = 108;

    private final Family family;
    private final String host;
    private final int port;
    private final byte[] ipv4;
    private final String path;

    private Address(Family family, String host, int port, byte[] ipv4, String path) {
        this.family = family;
        this.host = host;
        this.port = port;
        this.ipv4 = ipv4;
        this.path = path;
    }

    /**
     * An AF_INET address. The host is resolved now, to its first IPv4 address; the empty
     * string means every interface ({@code 0.0.0.0}), as in Python.
     *
     * @param host a host name or dotted IPv4 address
     * @param port 0 to 65535; 0 lets a listener pick any free port
     * @return the address
     * @throws IllegalArgumentException if the port is out of range or the host has no IPv4
     *         address (IPv6 is not supported)
     */
    public static Address inet(String host, int port) {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 0xffff) {
            throw new IllegalArgumentException("port " + port + " is out of range 0..65535");
        }
        return new Address(Family.AF_INET, host, port, resolve(host), null);
    }

    /**
     * An AF_UNIX address: a file system path, or with a leading {@code "\0"} an abstract name.
     *
     * @param path the socket's path, or {@code "\0"} and an abstract name
     * @return the address
     * @throws IllegalArgumentException if the path is empty or longer than a socket address
     *         holds (107 bytes of UTF-8 for a path, 108 for an abstract name)
     */
    public static Address unix(String path) {
        Objects.requireNonNull(path, "path");
        int bytes = path.getBytes(StandardCharsets.UTF_8).length;
        boolean isAbstract = path.startsWith("\0");
        int room = isAbstract ? SUN_PATH_SIZE : SUN_PATH_SIZE - 1;
        if (bytes == 0 || (isAbstract && bytes == 1) || bytes > room) {
            throw new IllegalArgumentException("a Unix socket " + (isAbstract ? "abstract name"
                    : "path") + " must have 1 to " + room + " bytes of UTF-8, not " + bytes
                    + ": " + render(path));
        }
        if (!isAbstract && path.indexOf('\0') >= 0) {
            // The kernel would use the path up to it: another file than the one named.
            throw new IllegalArgumentException("a Unix socket path must not hold a NUL"
                    + " character: " + render(path));
        }
        return new Address(Family.AF_UNIX, null, 0, null, path);
    }

    private static byte[] resolve(String host) {
        if (host.isEmpty()) {
            return new byte[4];
        }
        InetAddress[] all;
        try {
            all = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve host '" + host + "': "
                    + e.getMessage(), e);
        }
        for (InetAddress a : all) {
            if (a instanceof Inet4Address) {
                return a.getAddress();
            }
        }
        throw new IllegalArgumentException("host '" + host + "' has no IPv4 address (only "
                + Arrays.toString(all) + "); AF_INET addresses are IPv4 only");
    }

    /** {@return the family this address belongs to} */
    public Family family() {
        return family;
    }

    /**
     * The host as given (AF_INET only).
     *
     * @return the host
     * @throws IllegalStateException for an AF_UNIX address
     */
    public String host() {
        requireFamily(Family.AF_INET);
        return host;
    }

    /**
     * The port (AF_INET only); 0 in an address given to a listener means "any".
     *
     * @return the port
     * @throws IllegalStateException for an AF_UNIX address
     */
    public int port() {
        requireFamily(Family.AF_INET);
        return port;
    }

    /**
     * The path, with its leading {@code "\0"} if abstract (AF_UNIX only).
     *
     * @return the path
     * @throws IllegalStateException for an AF_INET address
     */
    public String path() {
        requireFamily(Family.AF_UNIX);
        return path;
    }

    /**
     * {@return whether this is an AF_UNIX address in the abstract namespace (no file behind it)}
     */
    public boolean isAbstract() {
        return family == Family.AF_UNIX && path.startsWith("\0");
    }

    private void requireFamily(Family expected) {
        if (family != expected) {
            throw new IllegalStateException(this + " is an " + family + " address, not "
                    + expected);
        }
    }

    SocketAddr toSocketAddr() {
        return family == Family.AF_INET ? new SocketAddr.Inet(ipv4.clone(), port)
                : SocketAddr.Unix.of(path);
    }

    /**
     * The address the libc layer returned (getsockname, accept), or null for an unnamed Unix
     * socket: a client's end of an AF_UNIX connection has no name, as Python's empty string.
     */
    static Address of(SocketAddr socketAddr) {
        // Not a switch on types: such a switch spins a class at its first use in every JVM,
        // which no AOT cache keeps (1-2 ms of a child's start).
        if (socketAddr instanceof SocketAddr.Inet in) {
            byte[] a = in.address();
            return inet((a[0] & 0xff) + "." + (a[1] & 0xff) + "." + (a[2] & 0xff) + "."
                    + (a[3] & 0xff), in.port());
        }
        SocketAddr.Unix u = (SocketAddr.Unix) socketAddr;
        // Not unix(..)'s checks: a peer's name is what the kernel gave, and a client may have
        // bound one those checks refuse (108 bytes with no NUL, or an abstract name whose bytes
        // are not UTF-8 and grow as they are decoded); an accept must not fail on it.
        return u.path().length == 0 ? null
                : new Address(Family.AF_UNIX, null, 0, null, u.pathString());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Address a && family == a.family && port == a.port
                && Objects.equals(host, a.host) && Objects.equals(path, a.path);
    }

    @Override
    public int hashCode() {
        return Objects.hash(family, host, port, path);
    }

    /** Python's form: {@code ('127.0.0.1', 5000)}, a path, or {@code \0name} if abstract. */
    @Override
    public String toString() {
        return family == Family.AF_INET ? "('" + host + "', " + port + ")" : render(path);
    }

    private static String render(String path) {
        return path.startsWith("\0") ? "\\0" + path.substring(1) : path;
    }
}
