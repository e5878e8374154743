package multiprocessing.internal.spawn;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.internal.util.TempDir;
import multiprocessing.internal.util.TempDirSweeper;

/**
 * Serves, by name, the bytes of classes that have no place on a child's class path (jshell
 * snippets, classes a loader defined from bytes) to the children that fail to find them.
 *
 * <p>Implementation note. A child cannot know in advance which such classes its target needs
 * (a jshell lambda's capturing class names the snippets it uses only in its constant pool, and
 * a pool's functions arrive after its workers start), so rather than guessing, the child's
 * loader ({@link ChildLoader}) asks for a class when it meets a name it cannot find, over a
 * Unix socket in a directory only this user can enter. Started only when the program noted a
 * class loader of its own ({@link ClassReach#note}); a program wholly on the class path never
 * has one. The socket goes when this JVM exits normally; a killed JVM leaves its directory and
 * socket file in {@code java.io.tmpdir}, which the next JVM that starts a class server removes
 * ({@link TempDirSweeper}: the directory's name gives its owner's pid, start time and host, as
 * a private socket directory's does). Plain JDK sockets: the child must make no native call of
 * its own before its target runs, and this path is rare.
 */
final class ClassServer {
    private static final String PREFIX = "multiprocessing-classes-";
    /**
     * Where this JVM's server listens once started: planned at first use and given to every
     * child, so that a child started before the program's first own loader was seen (a pool's
     * worker, before the pool's first function) can still ask. Named after this JVM's pid,
     * start time and host, so that a JVM that finds it after this one was killed can tell it is
     * left over; the random part makes the name unguessable, so no one can create it first.
     */
    private static final Path PLANNED = TempDir.base().resolve(TempDir.ownerPart(PREFIX)
            + Long.toUnsignedString(multiprocessing.internal.util.Urandom.nextLong(), 36)).resolve("s");
    private static volatile boolean started;

    private ClassServer() {}

    /** Starts the server, once: called when the program's first own loader is noted. */
    static void startIfNeeded() {
        if (started) {
            return;
        }
        synchronized (ClassServer.class) {
            if (started) {
                return;
            }
            started = true;
            try {
                start();
            } catch (IOException | RuntimeException e) {
                multiprocessing.internal.util.LibraryLog.get().log(System.Logger.Level.DEBUG,
                        "multiprocessing: no class server; children find only what is on their class path", e);
            }
        }
    }

    /** The address a child may ask for classes at (its server may not be started yet). */
    static String address() {
        return PLANNED.toString();
    }

    private static void start() throws IOException {
        Path dir = PLANNED.getParent();
        TempDir.createPrivateDirectory(dir);
        TempDirSweeper.sweepInBackground(dir.getParent(), PREFIX);
        Path path = PLANNED;
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        // Released after the children joined at exit: one that starts late may still ask.
        multiprocessing.internal.util.AtExit.register(
                multiprocessing.internal.util.AtExit.Stage.RELEASE, () -> {
                    try {
                        server.close();
                        Files.deleteIfExists(path);
                        Files.deleteIfExists(dir);
                    } catch (IOException ignored) {
                        // the JVM is going; the directory is empty
                    }
                });
        LibraryThreads.platform().daemon().name("multiprocessing-class-server").start(() -> {
            while (server.isOpen()) {
                try {
                    SocketChannel client = server.accept();
                    Thread.ofVirtual().name("multiprocessing-class-server-client").start(() -> serve(client));
                } catch (IOException e) {
                    return; // closed at exit
                }
            }
        });
    }

    /** One child's requests: a name in, its bytes (or -1 and a reason) out, until it closes. */
    private static void serve(SocketChannel client) {
        try (client;
                DataInputStream in = new DataInputStream(Channels.newInputStream(client));
                DataOutputStream out = new DataOutputStream(Channels.newOutputStream(client))) {
            while (true) {
                String name;
                try {
                    name = in.readUTF();
                } catch (EOFException e) {
                    return;
                }
                byte[] bytes = ClassReach.classBytes(name);
                if (bytes == null) {
                    out.writeInt(-1);
                } else {
                    out.writeInt(bytes.length);
                    out.write(bytes);
                }
                out.flush();
            }
        } catch (IOException e) {
            // the child has gone
        }
    }

    /** The child's end: asks the server at {@code address} for classes, over one connection. */
    static final class Client {
        private final String address;
        private SocketChannel channel;
        private DataInputStream in;
        private DataOutputStream out;

        Client(String address) {
            this.address = address;
        }

        /**
         * The bytes of class {@code name}, or null when the parent has no such class to give
         * (or serves none: it never saw a class loader of the program's own).
         */
        synchronized byte[] fetch(String name) throws IOException {
            if (channel == null) {
                if (!Files.exists(Path.of(address))) {
                    return null;
                }
                channel = SocketChannel.open(UnixDomainSocketAddress.of(address));
                in = new DataInputStream(Channels.newInputStream(channel));
                out = new DataOutputStream(Channels.newOutputStream(channel));
            }
            out.writeUTF(name);
            out.flush();
            int length = in.readInt();
            if (length < 0) {
                return null;
            }
            byte[] bytes = new byte[length];
            in.readFully(bytes);
            return bytes;
        }
    }
}
