package multiprocessing.internal.posix;

import java.nio.charset.StandardCharsets;

/**
 * A socket address as the libc layer takes and returns it: a Unix path (abstract when it
 * starts with a NUL byte) or an IPv4 address and port.
 */
public sealed interface SocketAddr {
    /** An AF_UNIX address; {@code path[0] == 0} names an abstract socket. */
    record Unix(byte[] path) implements SocketAddr {
        public static Unix of(String path) {
            return new Unix(path.getBytes(StandardCharsets.UTF_8));
        }

        public boolean isAbstract() {
            return path.length > 0 && path[0] == 0;
        }

        public String pathString() {
            return new String(path, StandardCharsets.UTF_8);
        }
    }

    /** An AF_INET address: four bytes in network order and a port. */
    record Inet(byte[] address, int port) implements SocketAddr {}
}
