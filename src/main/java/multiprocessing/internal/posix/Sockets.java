package multiprocessing.internal.posix;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static multiprocessing.internal.posix.Errno.arg;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;

import multiprocessing.internal.libc.Libc;
import multiprocessing.internal.libc.cmsghdr;
import multiprocessing.internal.libc.iovec;
import multiprocessing.internal.libc.msghdr;
import multiprocessing.internal.libc.sockaddr_in;
import multiprocessing.internal.libc.sockaddr_un;

/**
 * Stream sockets of the libc layer: socketpair for duplex pipes, AF_UNIX and AF_INET listeners
 * and clients, and sendmsg/recvmsg that carry descriptors (SCM_RIGHTS) beside the bytes.
 */
public final class Sockets {
    private Sockets() {}

    public static final int AF_UNIX = Libc.AF_UNIX();
    public static final int AF_INET = Libc.AF_INET();
    private static final int STREAM = Libc.SOCK_STREAM() | Libc.SOCK_CLOEXEC();
    /** The kernel's cap on descriptors in one SCM_RIGHTS message. */
    public static final int MAX_FDS_PER_MESSAGE = 253;
    private static final long CMSG_HEADER = align(cmsghdr.layout().byteSize());
    private static final int EINPROGRESS = Libc.EINPROGRESS();

    private static final class H {
        static final Errno.Function SOCKETPAIR =
                Errno.function(Libc.socketpair$address(), Libc.socketpair$descriptor());
        static final Errno.Function SOCKET = Errno.function(Libc.socket$address(),
                Libc.socket$descriptor());
        static final Errno.Function BIND = Errno.function(Libc.bind$address(),
                Libc.bind$descriptor());
        static final Errno.Function LISTEN = Errno.function(Libc.listen$address(),
                Libc.listen$descriptor());
        static final Errno.Function ACCEPT4 =
                Errno.function(Libc.accept4$address(), Libc.accept4$descriptor());
        static final Errno.Function CONNECT =
                Errno.function(Libc.connect$address(), Libc.connect$descriptor());
        static final Errno.Function GETSOCKNAME =
                Errno.function(Libc.getsockname$address(), Libc.getsockname$descriptor());
        static final Errno.Function SETSOCKOPT =
                Errno.function(Libc.setsockopt$address(), Libc.setsockopt$descriptor());
        static final Errno.Function SHUTDOWN =
                Errno.function(Libc.shutdown$address(), Libc.shutdown$descriptor());
    }

    /** getsockopt is not in the jextract bindings (no jextract here to regenerate them). */
    private static final class PeerCred {
        static final Errno.Function GETSOCKOPT = Errno.function("getsockopt",
                java.lang.foreign.FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        java.lang.foreign.ValueLayout.ADDRESS,
                        java.lang.foreign.ValueLayout.ADDRESS));
        /** asm-generic/socket.h, the value on x86_64 and aarch64 Linux. */
        static final int SO_PEERCRED = 17;
        /** struct ucred: pid_t pid, uid_t uid, gid_t gid. */
        static final java.lang.foreign.StructLayout UCRED = java.lang.foreign.MemoryLayout
                .structLayout(JAVA_INT.withName("pid"), JAVA_INT.withName("uid"),
                        JAVA_INT.withName("gid"));
        static final long UID_OFFSET = UCRED.byteOffset(
                java.lang.foreign.MemoryLayout.PathElement.groupElement("uid"));
    }

    /**
     * The user id of the process at the other end of a connected AF_UNIX socket, as the kernel
     * recorded it when the connection was made (SO_PEERCRED): the peer cannot lie about it.
     */
    public static int peerUid(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cred = arena.allocate(PeerCred.UCRED);
            MemorySegment len = arena.allocateFrom(JAVA_INT, (int) cred.byteSize());
            MemorySegment st = Errno.state();
            int r = (int) Errno.call(PeerCred.GETSOCKOPT, st, arg(fd), arg(Libc.SOL_SOCKET()),
                    arg(PeerCred.SO_PEERCRED), cred, len);
            if (r < 0) {
                throw Errno.error("getsockopt(SO_PEERCRED)", st);
            }
            return cred.get(JAVA_INT, PeerCred.UID_OFFSET);
        }
    }

    /** A message header, its one iovec and room for the largest SCM_RIGHTS, per thread. */
    private record MsgScratch(MemorySegment msg, MemorySegment iov, MemorySegment control) {
        static MsgScratch allocate() {
            Arena arena = Arena.ofAuto();
            return new MsgScratch(arena.allocate(msghdr.layout()), arena.allocate(iovec.layout()),
                    arena.allocate(CMSG_HEADER + align((long) MAX_FDS_PER_MESSAGE * Integer.BYTES), 8));
        }

        MemorySegment prepare(MemorySegment buf, long length) {
            msg.fill((byte) 0);
            Errno.setPointer(iov, iovec.iov_base$offset(), buf);
            iovec.iov_len(iov, length);
            Errno.setPointer(msg, msghdr.msg_iov$offset(), iov);
            msghdr.msg_iovlen(msg, 1);
            return msg;
        }
    }

    private static final ThreadLocal<MsgScratch> SCRATCH = ThreadLocal.withInitial(MsgScratch::allocate);

    private static final class Msg {
        static final Errno.Function SENDMSG =
                Errno.function(Libc.sendmsg$address(), Libc.sendmsg$descriptor());
        static final Errno.Function RECVMSG =
                Errno.function(Libc.recvmsg$address(), Libc.recvmsg$descriptor());
    }

    /** A connected pair of AF_UNIX stream sockets (close-on-exec). */
    public static int[] socketpair() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            MemorySegment st = Errno.state();
            int r = (int) Errno.call(H.SOCKETPAIR, st, arg(AF_UNIX), arg(STREAM), arg(0), fds);
            if (r < 0) {
                throw Errno.error("socketpair", st);
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    /** A new stream socket of {@code family} (close-on-exec). */
    public static int socket(int family) throws ErrnoException {
        return socket(family, false);
    }

    /**
     * A new stream socket of {@code family} (close-on-exec), non-blocking if asked: a listener
     * polls before accepting, and a client that went away in between must not block accept.
     */
    public static int socket(int family, boolean nonBlocking) throws ErrnoException {
        MemorySegment st = Errno.state();
        int type = nonBlocking ? STREAM | Libc.SOCK_NONBLOCK() : STREAM;
        int r = (int) Errno.call(H.SOCKET, st, arg(family), arg(type), arg(0));
        if (r < 0) {
            throw Errno.error("socket", st);
        }
        return r;
    }

    /** Binds and listens; for AF_INET, SO_REUSEADDR first, as Python's Listener does. */
    public static void bindAndListen(int fd, SocketAddr address, int backlog) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = Errno.state();
            int r;
            if (address instanceof SocketAddr.Inet) {
                MemorySegment one = arena.allocateFrom(JAVA_INT, 1);
                r = (int) Errno.call(H.SETSOCKOPT, st, arg(fd), arg(Libc.SOL_SOCKET()),
                        arg(Libc.SO_REUSEADDR()), one, arg(JAVA_INT.byteSize()));
                if (r < 0) {
                    throw Errno.error("setsockopt", st);
                }
            }
            MemorySegment sa = encode(arena, address);
            r = (int) Errno.call(H.BIND, st, arg(fd), sa, arg(sa.byteSize()));
            if (r < 0) {
                throw Errno.error("bind", st);
            }
            r = (int) Errno.call(H.LISTEN, st, arg(fd), arg(backlog));
            if (r < 0) {
                throw Errno.error("listen", st);
            }
        }
    }

    /**
     * Accepts a connection (close-on-exec); {@code peer} receives the peer's address. Returns -1
     * when the listening socket is non-blocking and nobody is waiting.
     */
    public static int accept(int fd, java.util.function.Consumer<SocketAddr> peer, int family)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocate(Math.max(sockaddr_un.layout().byteSize(),
                    sockaddr_in.layout().byteSize()));
            MemorySegment len = arena.allocateFrom(JAVA_INT, (int) sa.byteSize());
            MemorySegment st = Errno.state();
            while (true) {
                int r = (int) Errno.call(H.ACCEPT4, st, arg(fd), sa, len, arg(Libc.SOCK_CLOEXEC()));
                if (r >= 0) {
                    peer.accept(decode(sa, len.get(JAVA_INT, 0), family));
                    return r;
                }
                int e = Errno.errno(st);
                if (e == Posix.EAGAIN) {
                    return -1;
                }
                if (e != Posix.EINTR) {
                    throw Errno.error("accept4", st);
                }
            }
        }
    }

    /** Connects a blocking socket. */
    public static void connect(int fd, SocketAddr address) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = encode(arena, address);
            MemorySegment st = Errno.state();
            int r = (int) Errno.call(H.CONNECT, st, arg(fd), sa, arg(sa.byteSize()));
            if (r < 0) {
                int e = Errno.errno(st);
                // Interrupted: the connection goes on in the background; wait until it is made.
                if (e == Posix.EINTR || e == EINPROGRESS) {
                    Posix.pollOne(fd, Posix.POLLOUT, -1);
                    return;
                }
                throw Errno.error("connect", st);
            }
        }
    }

    /** asm-generic/socket.h, the values on x86_64 and aarch64 Linux (SO_SNDTIMEO: a timeval). */
    private static final int SO_SNDTIMEO = 21;
    private static final int SO_ERROR = 4;
    /** asm-generic/errno.h, the values on x86_64 and aarch64 Linux: not in the bindings. */
    private static final int EALREADY = 114;
    private static final int EISCONN = 106;
    private static final java.lang.foreign.StructLayout TIMEVAL = java.lang.foreign.MemoryLayout
            .structLayout(JAVA_LONG.withName("tv_sec"), JAVA_LONG.withName("tv_usec"));
    private static final long TV_SEC = TIMEVAL.byteOffset(
            java.lang.foreign.MemoryLayout.PathElement.groupElement("tv_sec"));
    private static final long TV_USEC = TIMEVAL.byteOffset(
            java.lang.foreign.MemoryLayout.PathElement.groupElement("tv_usec"));

    /**
     * Connects a blocking socket within {@code timeoutNanos}; false if the time ran out first.
     * {@code connect(2)} has no limit of its own on a Unix socket whose listener's queue is
     * full (it waits for room), but it waits at most the socket's send timeout (SO_SNDTIMEO),
     * which this sets for each attempt and then clears. With that timeout set, the kernel does
     * not restart a {@code connect(2)} that a signal interrupts: it is made again for the time
     * left (a Unix socket's attempt is over; a TCP one goes on, and the new call says so),
     * rather than taken for a connection under way (a signal made a Unix socket that never
     * connected look connected, attack 33).
     */
    public static boolean connect(int fd, SocketAddr address, long timeoutNanos)
            throws ErrnoException {
        long deadline = System.nanoTime() + timeoutNanos;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = encode(arena, address);
            try {
                while (true) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    sendTimeout(arena, fd, Math.max(1000, left));
                    MemorySegment st = Errno.state();
                    int r = (int) Errno.call(H.CONNECT, st, arg(fd), sa, arg(sa.byteSize()));
                    if (r == 0) {
                        return true;
                    }
                    int e = Errno.errno(st);
                    if (e == EISCONN) {
                        return true; // a TCP connection interrupted before was made meanwhile
                    }
                    if (e == Posix.EAGAIN) {
                        return false; // a Unix socket's listener still had no room
                    }
                    if (e == EINPROGRESS || e == EALREADY) {
                        return tcpConnected(arena, fd, deadline);
                    }
                    if (e != Posix.EINTR) {
                        throw Errno.error("connect", st);
                    }
                }
            } finally {
                sendTimeout(arena, fd, 0);
            }
        }
    }

    /**
     * Waits until {@code deadline} for a TCP connection under way; false if it is not made by
     * then. Writable is not enough: a failed attempt is writable too, and says why in SO_ERROR.
     */
    private static boolean tcpConnected(Arena arena, int fd, long deadline)
            throws ErrnoException {
        long left = deadline - System.nanoTime();
        if (left <= 0 || Posix.pollOne(fd, Posix.POLLOUT,
                (int) Math.min(Integer.MAX_VALUE, Math.max(1, left / 1_000_000))) == 0) {
            return false;
        }
        MemorySegment error = arena.allocate(JAVA_INT);
        MemorySegment len = arena.allocateFrom(JAVA_INT, (int) JAVA_INT.byteSize());
        MemorySegment st = Errno.state();
        int r = (int) Errno.call(PeerCred.GETSOCKOPT, st, arg(fd), arg(Libc.SOL_SOCKET()),
                arg(SO_ERROR), error, len);
        if (r < 0) {
            throw Errno.error("getsockopt(SO_ERROR)", st);
        }
        int e = error.get(JAVA_INT, 0);
        if (e != 0) {
            throw new ErrnoException("connect", e);
        }
        return true;
    }

    /** Sets SO_SNDTIMEO; 0 clears it. */
    private static void sendTimeout(Arena arena, int fd, long nanos) throws ErrnoException {
        MemorySegment tv = arena.allocate(TIMEVAL);
        tv.set(JAVA_LONG, TV_SEC, nanos / 1_000_000_000L);
        tv.set(JAVA_LONG, TV_USEC, nanos % 1_000_000_000L / 1000);
        MemorySegment st = Errno.state();
        int r = (int) Errno.call(H.SETSOCKOPT, st, arg(fd), arg(Libc.SOL_SOCKET()),
                arg(SO_SNDTIMEO), tv, arg(TIMEVAL.byteSize()));
        if (r < 0) {
            throw Errno.error("setsockopt(SO_SNDTIMEO)", st);
        }
    }

    /** The address a socket is bound to (the real port after binding port 0). */
    public static SocketAddr localAddress(int fd, int family) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocate(Math.max(sockaddr_un.layout().byteSize(),
                    sockaddr_in.layout().byteSize()));
            MemorySegment len = arena.allocateFrom(JAVA_INT, (int) sa.byteSize());
            MemorySegment st = Errno.state();
            int r = (int) Errno.call(H.GETSOCKNAME, st, arg(fd), sa, len);
            if (r < 0) {
                throw Errno.error("getsockname", st);
            }
            return decode(sa, len.get(JAVA_INT, 0), family);
        }
    }

    /** Whether {@code fd} is an Internet (TCP) socket; false for a Unix one, or if unknown. */
    public static boolean inet(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocate(Math.max(sockaddr_un.layout().byteSize(),
                    sockaddr_in.layout().byteSize()));
            MemorySegment len = arena.allocateFrom(JAVA_INT, (int) sa.byteSize());
            int r = (int) Errno.call(H.GETSOCKNAME, Errno.state(), arg(fd), sa, len);
            return r >= 0 && (sockaddr_in.sin_family(sa) & 0xffff) == AF_INET;
        }
    }

    /** Shuts both directions down: wakes a thread blocked in accept or read on the socket. */
    public static void shutdown(int fd) {
        Errno.call(H.SHUTDOWN, Errno.state(), arg(fd), arg(Libc.SHUT_RDWR()));
    }

    /**
     * Shuts one direction down ({@code writing}: the peer reads end of file once it has read
     * what was sent; else this end reads end of file, and on a Unix socket the peer's sends
     * fail with EPIPE). Errors are ignored: a socket already shut down or gone needs nothing.
     */
    public static void shutdown(int fd, boolean writing) {
        Errno.call(H.SHUTDOWN, Errno.state(), arg(fd),
                arg(writing ? Libc.SHUT_WR() : Libc.SHUT_RD()));
    }

    /**
     * Sends up to {@code length} bytes of {@code buf} and, with the first byte, {@code fds} as
     * SCM_RIGHTS. Never raises SIGPIPE (EPIPE instead). Returns the bytes sent, -1 on EAGAIN.
     */
    public static long sendmsg(int fd, MemorySegment buf, long length, int[] fds)
            throws ErrnoException {
        return sendmsg(fd, buf, length, fds, false);
    }

    /** MSG_DONTWAIT (bits/socket.h), the same on every Linux architecture. */
    private static final int MSG_DONTWAIT = 0x40;

    /**
     * As {@link #sendmsg(int, MemorySegment, long, int[])}; with {@code noWait}, this call never
     * blocks whatever the socket's mode (MSG_DONTWAIT): -1 when there is no room now.
     */
    public static long sendmsg(int fd, MemorySegment buf, long length, int[] fds, boolean noWait)
            throws ErrnoException {
        if (fds.length > MAX_FDS_PER_MESSAGE) {
            throw new IllegalArgumentException(
                    "at most " + MAX_FDS_PER_MESSAGE + " descriptors fit in one message");
        }
        MsgScratch scratch = SCRATCH.get();
        MemorySegment msg = scratch.prepare(buf, length);
        if (fds.length > 0) {
            MemorySegment control = scratch.control();
            long dataLength = (long) fds.length * Integer.BYTES;
            control.fill((byte) 0);
            cmsghdr.cmsg_len(control, CMSG_HEADER + dataLength);
            cmsghdr.cmsg_level(control, Libc.SOL_SOCKET());
            cmsghdr.cmsg_type(control, Libc.SCM_RIGHTS());
            MemorySegment.copy(fds, 0, control, JAVA_INT, CMSG_HEADER, fds.length);
            Errno.setPointer(msg, msghdr.msg_control$offset(), control);
            msghdr.msg_controllen(msg, CMSG_HEADER + align(dataLength));
        }
        MemorySegment st = Errno.state();
        while (true) {
            long r = Errno.callHolding(Msg.SENDMSG, st, buf, arg(fd), msg,
                    arg(Libc.MSG_NOSIGNAL() | (noWait ? MSG_DONTWAIT : 0)));
            if (r >= 0) {
                return r;
            }
            int e = Errno.errno(st);
            if (e == Posix.EAGAIN) {
                return -1;
            }
            if (e != Posix.EINTR) {
                throw Errno.error("sendmsg", st);
            }
        }
    }

    /**
     * Receives up to {@code length} bytes; descriptors that arrive with them (close-on-exec)
     * go to {@code fdSink}. Returns the bytes read, 0 at end of stream, -1 on EAGAIN.
     */
    public static long recvmsg(int fd, MemorySegment buf, long length, IntConsumer fdSink)
            throws ErrnoException {
        return recvmsg(fd, buf, length, fdSink, false);
    }

    /**
     * As {@link #recvmsg(int, MemorySegment, long, IntConsumer)}; with {@code noWait}, this call
     * never blocks whatever the socket's mode (MSG_DONTWAIT): -1 when nothing has arrived.
     */
    public static long recvmsg(int fd, MemorySegment buf, long length, IntConsumer fdSink,
            boolean noWait) throws ErrnoException {
        MsgScratch scratch = SCRATCH.get();
        MemorySegment msg = scratch.prepare(buf, length);
        MemorySegment control = scratch.control();
        Errno.setPointer(msg, msghdr.msg_control$offset(), control);
        msghdr.msg_controllen(msg, control.byteSize());
        MemorySegment st = Errno.state();
        long r;
        while (true) {
            r = Errno.callHolding(Msg.RECVMSG, st, buf, arg(fd), msg,
                    arg(Libc.MSG_CMSG_CLOEXEC() | (noWait ? MSG_DONTWAIT : 0)));
            if (r >= 0) {
                break;
            }
            int e = Errno.errno(st);
            if (e == Posix.EAGAIN) {
                return -1;
            }
            if (e != Posix.EINTR) {
                throw Errno.error("recvmsg", st);
            }
        }
        long controlLength = msghdr.msg_controllen(msg);
        long offset = 0;
        while (offset + CMSG_HEADER <= controlLength) {
            MemorySegment header = control.asSlice(offset);
            long cmsgLength = cmsghdr.cmsg_len(header);
            if (cmsgLength < CMSG_HEADER) {
                break;
            }
            if (cmsghdr.cmsg_level(header) == Libc.SOL_SOCKET()
                    && cmsghdr.cmsg_type(header) == Libc.SCM_RIGHTS()) {
                long count = (cmsgLength - CMSG_HEADER) / Integer.BYTES;
                for (long i = 0; i < count; i++) {
                    fdSink.accept(header.get(JAVA_INT, CMSG_HEADER + i * Integer.BYTES));
                }
            }
            offset += align(cmsgLength);
        }
        return r;
    }

    /** CMSG_ALIGN: control messages are padded to the size of a long. */
    private static long align(long n) {
        long a = JAVA_LONG.byteSize();
        return (n + a - 1) & -a;
    }

    private static MemorySegment encode(Arena arena, SocketAddr address) {
        // Not a switch on types: such a switch spins a class at its first use in every JVM,
        // which no AOT cache keeps (1-2 ms of a child's start).
        if (address instanceof SocketAddr.Unix u) {
            MemorySegment sa = arena.allocate(sockaddr_un.layout());
            long room = sockaddr_un.sun_path(sa).byteSize();
            byte[] path = u.path();
            // An abstract name is exactly its bytes; a path needs its terminating NUL.
            if (path.length > room - (u.isAbstract() ? 0 : 1) || path.length == 0) {
                throw new IllegalArgumentException("a Unix socket address must have 1 to "
                        + (room - 1) + " bytes, not " + path.length);
            }
            sockaddr_un.sun_family(sa, (short) AF_UNIX);
            MemorySegment.copy(path, 0, sa, JAVA_BYTE, sockaddr_un.sun_path$offset(),
                    path.length);
            long used = sockaddr_un.sun_path$offset() + path.length + (u.isAbstract() ? 0 : 1);
            return sa.asSlice(0, used);
        }
        SocketAddr.Inet in = (SocketAddr.Inet) address;
        MemorySegment sa = arena.allocate(sockaddr_in.layout());
        sockaddr_in.sin_family(sa, (short) AF_INET);
        // Network byte order: big-endian port and address, written byte by byte.
        sa.set(JAVA_BYTE, sockaddr_in.sin_port$offset(), (byte) (in.port() >> 8));
        sa.set(JAVA_BYTE, sockaddr_in.sin_port$offset() + 1, (byte) in.port());
        MemorySegment.copy(in.address(), 0, sa, JAVA_BYTE, sockaddr_in.sin_addr$offset(), 4);
        return sa;
    }

    private static SocketAddr decode(MemorySegment sa, int length, int family) {
        if (family == AF_UNIX) {
            long pathOffset = sockaddr_un.sun_path$offset();
            int n = (int) Math.max(0, length - pathOffset);
            byte[] path = sa.asSlice(pathOffset, n).toArray(JAVA_BYTE);
            if (path.length > 0 && path[0] != 0) {
                int end = 0;
                while (end < path.length && path[end] != 0) {
                    end++;
                }
                path = java.util.Arrays.copyOf(path, end);
            }
            return new SocketAddr.Unix(path);
        }
        int port = ((sa.get(JAVA_BYTE, sockaddr_in.sin_port$offset()) & 0xff) << 8)
                | (sa.get(JAVA_BYTE, sockaddr_in.sin_port$offset() + 1) & 0xff);
        byte[] address = sa.asSlice(sockaddr_in.sin_addr$offset(), 4).toArray(JAVA_BYTE);
        return new SocketAddr.Inet(address, port);
    }

}
