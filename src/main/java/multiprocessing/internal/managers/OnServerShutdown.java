package multiprocessing.internal.managers;

/** A server-side object with something to do when its server shuts down. */
public interface OnServerShutdown {
    void serverShutdown();
}
