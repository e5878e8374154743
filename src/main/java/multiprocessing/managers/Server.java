package multiprocessing.managers;

import multiprocessing.connection.Address;
import multiprocessing.internal.managers.ManagerServer;

/**
 * A manager's server in the current process (Python's {@code Server}, from
 * {@link BaseManager#getServer()}): bound to its address already, serving once
 * {@link #serveForever()} is called.
 */
public final class Server {
    private final ManagerServer server;

    Server(ManagerServer server) {
        this.server = server;
    }

    /**
     * Serves clients in the calling thread until the manager is shut down, by
     * {@link BaseManager#shutdown()} or {@link #shutdown()} here (a client's {@code shutdown()}
     * only lets go of the server, which goes on serving the others).
     */
    public void serveForever() {
        server.serveForever();
    }

    /** Stops serving: {@link #serveForever()} returns and the clients' connections end. */
    public void shutdown() {
        server.shutdown();
    }

    /** {@return the address it listens on} */
    public Address address() {
        return server.address();
    }

    @Override
    public String toString() {
        return "<Server " + address() + ">";
    }
}
