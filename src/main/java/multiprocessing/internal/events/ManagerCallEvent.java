package multiprocessing.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Registered;

/**
 * {@code multiprocessing.ManagerCall}: one request of this process to a manager's server (a
 * proxy's method call, the creation of a shared object, a reference taken or given back, a
 * shutdown), from the caller's send to its reply, with the caller's stack. Recorded in the
 * calling process, for every call (no threshold: a call costs a round trip to another process,
 * so even a short one is worth seeing counted).
 *
 * <p>Use, once {@link Recorder#inUse} has said yes (before, no event class is loaded):
 * {@code ManagerCallEvent e = ManagerCallEvent.calling();} before the call,
 * {@code e.finish(...)} after it, also when it throws.
 */
@Name("multiprocessing.ManagerCall")
@Label("Manager Call")
@Category("multiprocessing")
@Description("A call from this process to a manager's server process, until its reply")
@Registered(false)
public final class ManagerCallEvent extends jdk.jfr.Event {
    @Label("Manager")
    @Description("The address the manager's server listens at")
    String manager;

    @Label("Operation")
    @Description("call (a proxy's method), create (a new shared object), incref or decref"
            + " (references held by this process), shutdown, ping, count")
    String operation;

    @Label("Type")
    @Description("The shared object's registered type id (dict, list, Queue, ...), when known")
    String type;

    @Label("Method")
    String method;

    @Label("Object Id")
    @Description("The shared object's id in the server")
    String objectId;

    @Label("Exception")
    @Description("The class of what the call threw, in the server or on the way; null when it"
            + " returned")
    String exception;

    private ManagerCallEvent() {}

    /** Begins a call. */
    public static ManagerCallEvent calling() {
        ManagerCallEvent e = new ManagerCallEvent();
        e.begin();
        return e;
    }

    /**
     * Ends the call and commits it if it is recorded.
     *
     * @param manager  the server's address
     * @param op       the operation's name in the manager protocol
     * @param type     the object's type id, or null
     * @param method   the method called (for create: the type id), or null
     * @param objectId the object's id, or null
     * @param thrown   what the call threw, or null
     */
    public void finish(Object manager, String op, String type, String method, String objectId,
            Throwable thrown) {
        end();
        if (shouldCommit()) {
            this.manager = String.valueOf(manager);
            this.operation = op;
            this.type = type;
            this.method = method;
            this.objectId = objectId;
            this.exception = thrown == null ? null : thrown.getClass().getName();
            commit();
        }
    }
}
