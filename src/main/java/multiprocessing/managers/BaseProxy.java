package multiprocessing.managers;

import multiprocessing.connection.Address;

/**
 * What every proxy of a manager's shared object is, whatever interface it was registered with
 * (Python's {@code BaseProxy}). A proxy is live in every process that gets one: captured by a
 * child's target, in a field of an object sent through a pipe or queue, or stored in another
 * shared object; it reaches the server over this process's few connections to it, with the
 * manager's key: the key this process started or connected the manager with, else the
 * process's {@code authKey()}. A manager's own key travels to a child started with the proxy
 * in its target, and through no pipe, queue or socket (Python's rule): a process that gets such
 * a proxy otherwise must {@code connect()} a manager of that address and key first.
 *
 * <p>A method that throws in the server throws here the same exception (type, message and the
 * server's stack trace, with a suppressed {@link multiprocessing.RemoteTraceback} holding the
 * server's traceback text); a checked exception the interface method does not declare arrives
 * as the cause of an {@link java.lang.reflect.UndeclaredThrowableException}. Once the manager
 * has shut down or died, a call throws at once ({@link IllegalStateException} after this
 * process shut it down, {@link multiprocessing.ProcessError} otherwise).
 *
 * <p><b>Interrupts.</b> A thread interrupted during a call tells the server to stop the call
 * (a blocking one: a queue's {@code get}, an {@code acquire}, a condition's {@code await}),
 * and learns how the call ended: the call's result, with the thread's interrupt status set,
 * if the call had completed before the word reached it (a queue's item taken, a lock granted,
 * which are then not lost), else a {@link multiprocessing.ProcessError}. For that the thread
 * waits for the server's answer, which comes at once unless the server is stalled or the
 * connection's server thread runs a long call of its own kind (see {@link BaseManager}); it
 * waits about 2 s at most, then throws {@code ProcessError} and drops the reply when it comes
 * (Python's proxies always drop it). What such a late reply of a {@link SyncManager}'s object
 * hands over is given back as the reply comes: a lock, a permit or a condition's lock by a
 * release in the thread's name, so after a {@code ProcessError} the thread holds none it asked
 * for, and a queue's item by putting it back at the queue's head, where the next get finds it
 * (an item this process cannot deserialize is lost with the reply). The exceptions: {@link
 * multiprocessing.synchronize.OwnerDeadException}, a {@code ProcessError} that comes with the
 * lock held (see {@link AcquirerProxy}), and an {@code RLock} held more than once (see {@link
 * ConditionProxy}). A call given up so may still take effect after: the server runs a call of
 * the kind it does not stop (a dict's) to its end, and one still queued behind another on its
 * connection after it. Timeouts stop a wait without that risk.
 */
public interface BaseProxy {
    /**
     * Calls {@code name} on the shared object (Python's {@code _callmethod}).
     *
     * @param name the method's name, one the type exposes
     * @param args its arguments
     * @return what the method returned (a proxy if the method's result is registered as shared)
     */
    Object callMethod(String name, Object... args);

    /** {@return a copy of the shared object (Python's {@code _getvalue})} */
    Object getValue();

    /** {@return the registered type of the shared object} */
    String typeId();

    /** {@return the address of the manager that holds the object} */
    Address managerAddress();
}
