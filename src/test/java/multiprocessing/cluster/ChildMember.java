package multiprocessing.cluster;

import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;

import multiprocessing.Process;
import multiprocessing.SerializableCallable;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;

/**
 * A cluster member in a child process started by the library, which runs the callables it is
 * sent (in its own JVM, where {@link #here} is its Cluster) and sends back what they return or
 * throw.
 */
final class ChildMember implements AutoCloseable {
    /** In a child member's JVM: its cluster. */
    static volatile Cluster here;
    /** Held so that its level stays set. */
    private static final Logger HAZELCAST = Logger.getLogger("com.hazelcast");

    final Process process;
    private final Connection conn;
    final String address;
    final long pid;

    private ChildMember(Process process, Connection conn, String address, long pid) {
        this.process = process;
        this.conn = conn;
        this.address = address;
        this.pid = pid;
    }

    /**
     * Hazelcast says nothing in the tests: its start-up hints are warnings, and it logs a
     * user's mistake (an unlock by a thread that holds no lock) as SEVERE with a stack trace.
     */
    static void quiet() {
        HAZELCAST.setLevel(Level.OFF);
    }

    /** Starts the child; {@link #ready()} waits until it is a member. */
    static Starting start(ClusterConfig config) {
        Pipe pipe = Pipe.open(true);
        Connection theirs = pipe.right();
        Process p = new Process(() -> serve(theirs, config));
        p.start();
        theirs.close();
        return new Starting(p, pipe.left());
    }

    record Starting(Process process, Connection conn) {
        ChildMember ready() throws Exception {
            Object[] hello = (Object[]) conn.recv();
            if (hello[0] instanceof Throwable t) {
                throw new AssertionError("the child member did not start", t);
            }
            return new ChildMember(process, conn, (String) hello[0], (Long) hello[1]);
        }
    }

    private static void serve(Connection conn, ClusterConfig config) throws Exception {
        quiet();
        try {
            here = Cluster.start(config);
        } catch (Throwable t) {
            conn.send(new Object[] {t});
            return;
        }
        conn.send(new Object[] {here.address(), ProcessHandle.current().pid()});
        while (true) {
            Object command;
            try {
                command = conn.recv();
            } catch (java.io.EOFException parentGone) {
                break;
            }
            if (command == null) {
                break;
            }
            try {
                conn.send(new Object[] {true, ((SerializableCallable<?>) command).call()});
            } catch (Throwable t) {
                conn.send(new Object[] {false, t});
            }
        }
        here.close();
        conn.send("closed");
    }

    /** Sends {@code task} to run in the child; {@link #result()} waits for what it returns. */
    void submit(SerializableCallable<?> task) throws Exception {
        conn.send(task);
    }

    Object result() throws Exception {
        Object[] r = (Object[]) conn.recv();
        if (!(Boolean) r[0]) {
            throw new AssertionError("the task failed in the child member", (Throwable) r[1]);
        }
        return r[1];
    }

    Object call(SerializableCallable<?> task) throws Exception {
        submit(task);
        return result();
    }

    /** Leaves the cluster and ends the child. */
    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            try {
                conn.send(null);
                conn.recv();
            } catch (Exception gone) {
                // killed meanwhile
            }
            process.join(Duration.ofSeconds(30));
            if (process.isAlive()) {
                process.kill();
                process.join();
            }
        }
        conn.close();
    }

    void kill() throws InterruptedException {
        process.kill();
        process.join();
    }
}
