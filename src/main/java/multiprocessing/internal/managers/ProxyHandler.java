package multiprocessing.internal.managers;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

import multiprocessing.connection.Address;
import multiprocessing.internal.managers.proxies.StandardProxies;
import multiprocessing.internal.reduction.ProxyImage;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.spawn.ChildMain;
import multiprocessing.internal.util.Cleaning;

/**
 * What a proxy does with each call (a {@link java.lang.reflect.Proxy} of the registered
 * interface, Python's {@code BaseProxy}): sends it to the object in the manager's server.
 *
 * <p>Implementation note. A proxy is a JDK proxy, which the serializer writes as its
 * interfaces and this handler, and this handler is written by its reducer as a token (type,
 * address, id) and, only when the receiver could not know it, the manager's key. Each live
 * handler holds one reference to its object in the server, given back when it is collected:
 * <ul>
 * <li>one received in a reply from its object's own server was counted by that server as it
 * wrote the reply (the client cannot ask while reading, and the object must not go in
 * between); a proxy of another manager's object in a reply goes as in any message:</li>
 * <li>one received any other way (a pipe, a queue, a request to another server) takes over,
 * as it is rebuilt, a reference its sender had the server hold for the message while it was in
 * flight (a transfer: {@link Messages#GIVE}), so that the object outlives a sender that kept
 * no proxy of it (Python's asks for a reference of its own as it is rebuilt, and finds the
 * object gone, cpython#75275). A message never sent gives its transfer back; one never
 * read keeps its object until the manager shuts down;</li>
 * <li>one inherited by a child (in its target) asks before its first call instead: the child
 * rebuilds its target before it knows its own key. Until then it relies on its parent's
 * reference, as a Python child's inherited proxy does for its whole life. So does one whose
 * reference could not be had as it was rebuilt: its first call tries again, and says why;</li>
 * <li>one rebuilt in the server's own JVM (a proxy stored in a shared dict) calls the object
 * directly and holds a reference of the server's own.</li>
 * </ul>
 * Methods of a collection that would otherwise take one call per element work on a snapshot
 * ({@link Snapshots}); default methods of the application's interfaces run here, over the
 * others; every other method, the JDK's default methods included ({@code Map.merge},
 * {@code List.removeIf}), runs in the server, atomically.
 */
public final class ProxyHandler implements InvocationHandler, ProxyImage.Maker {
    private static final Object[] NO_ARGS = {};
    /** Named, not imported: the public package is built on this one, not the reverse. */
    private static final String BASE_PROXY = "multiprocessing.managers.BaseProxy";
    private static final String NAMESPACE_PROXY = "multiprocessing.managers.NamespaceProxy";
    static final String GET_VALUE = "#getValue";

    static {
        Serialization.register(ProxyHandler.class, new TokenReducer());
    }

    private final String typeId;
    private final Address address;
    private final String id;
    /** Set in the server's JVM: calls go straight to it. */
    private final ManagerServer local;
    /** Set elsewhere: calls go over this process's connections to the server. */
    private final ManagerClient client;
    /** Whether this handler holds its reference yet (shared with the cleaning action). */
    private final AtomicBoolean counted;
    /**
     * The transfer whose reference this handler takes over as it counts its own (see {@link
     * Messages#GIVE}): set for one received in a message that is no reply of its server.
     */
    private volatile String transfer;
    /**
     * A namespace proxy's own attributes, those whose names begin with an underscore: as
     * Python's NamespaceProxy keeps them on the proxy, not in the referent. Never written: a
     * proxy sent elsewhere arrives without them, as a pickled Python proxy does. Made at the
     * first such attribute.
     */
    private Map<String, Object> ownAttributes;

    private ProxyHandler(String typeId, Address address, String id, ManagerServer local,
            String holder, ManagerClient client, boolean counted) {
        this.typeId = typeId;
        this.address = address;
        this.id = id;
        this.local = local;
        this.client = client;
        AtomicBoolean holds = new AtomicBoolean(counted);
        this.counted = holds;
        java.lang.ref.Cleaner.Cleanable giveBack = Cleaning.register(this, () -> {
            if (holds.getAndSet(false)) {
                if (local != null) {
                    local.decref(id, holder);
                } else {
                    client.decrefLater(id);
                }
            }
        });
        List<Runnable> dropping = DROPPING.get();
        if (counted && dropping != null) {
            dropping.add(giveBack::clean);
        }
    }

    /** While a reply nobody will read is read: how to give back each reference it counted. */
    private static final ThreadLocal<List<Runnable>> DROPPING = new ThreadLocal<>();

    /**
     * Runs {@code read}, which reads a reply whose caller gave up, and gives back at once the
     * references the server counted for the proxies in it: nobody ever read such a reply, so
     * no proxy was made to give them back when collected, and its objects stayed in the
     * server for the life of the process (review 51).
     */
    static void dropping(Runnable read) {
        List<Runnable> giveBacks = new java.util.ArrayList<>();
        DROPPING.set(giveBacks);
        try {
            read.run();
        } finally {
            DROPPING.remove();
            giveBacks.forEach(Runnable::run);
        }
    }

    /** A handler of the server's JVM, holding a reference as {@code holder}. */
    private static ProxyHandler inServer(String typeId, ManagerServer server, String id,
            String holder) {
        return new ProxyHandler(typeId, server.address(), id, server, holder, null, true);
    }

    /**
     * A proxy in the server's JVM of its object {@code entry}, holding a reference of the
     * server's own until {@link #release} (a new object on its way to a client, who gets a
     * reference of its own as the reply is written). Only described ({@link ProxyImage}): it
     * is written, never called, and making it would generate its class in the server.
     */
    static ProxyImage local(ManagerServer server, ObjectTable.Entry entry) {
        server.incref(entry.id(), ObjectTable.LOCAL);
        ProxyHandler h = inServer(entry.registration().typeId(), server, entry.id(),
                ObjectTable.LOCAL);
        return new ProxyImage(entry.registration().interfaces(), h);
    }

    /** Gives back the reference of a proxy made by {@link #local} now, not when collected. */
    static void release(Object proxy) {
        ProxyHandler h = proxy instanceof ProxyImage image
                && image.handler() instanceof ProxyHandler ph ? ph : of(proxy);
        if (h != null && h.local != null && h.counted.getAndSet(false)) {
            h.local.decref(h.id, ObjectTable.LOCAL);
        }
    }

    /** The handler of {@code proxy}, or null if it is not a manager's proxy. */
    static ProxyHandler of(Object proxy) {
        ProxyImage image = proxy instanceof ProxyImage ? null : ProxyImage.of(proxy);
        return image != null && image.handler() instanceof ProxyHandler h ? h : null;
    }

    /** The library's types have proxy classes of their own ({@link StandardProxies}). */
    @Override
    public Object makeProxy(List<Class<?>> interfaces) {
        return StandardProxies.make(interfaces, this);
    }

    /**
     * The object a proxy stands for, when called in its server's JVM (a factory given another
     * shared object, as a condition given its lock); {@code proxy} itself otherwise.
     */
    public static Object referent(Object proxy) {
        ProxyHandler h = of(proxy);
        if (h == null || h.local == null) {
            return proxy;
        }
        return h.local.object(h.id);
    }

    public String typeId() {
        return typeId;
    }

    public Address address() {
        return address;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        Object[] a = args == null ? NO_ARGS : args;
        String name = method.getName();
        Class<?> declaring = method.getDeclaringClass();
        if (declaring.getName().equals(BASE_PROXY)) {
            return switch (name) {
                case "callMethod" -> call((String) a[0], null, (Object[]) a[1]);
                case "getValue" -> call(GET_VALUE, null, NO_ARGS);
                case "typeId" -> typeId;
                case "managerAddress" -> address;
                default -> throw new UnsupportedOperationException(method.toString());
            };
        }
        boolean collection = Snapshots.isCollection(proxy);
        if (declaring == Object.class) {
            if (name.equals("equals")) {
                // The same object is equal to itself, as Java's collections check first; and a
                // collection that holds itself compares its inner self by identity: its
                // snapshots would be compared for good (attack 44: StackOverflowError).
                if (!collection || sameReferent(a[0])) {
                    return sameReferent(a[0]);
                }
                if (!enterContents()) {
                    return false;
                }
                try {
                    return snapshot().equals(a[0]);
                } finally {
                    IN_CONTENTS.get().remove(address + "#" + id);
                }
            }
            if (collection && !enterContents()) {
                // A collection that holds itself, or one that holds it: its contents are being
                // hashed or printed on this thread already, and would be again, for good
                // (attack 43: StackOverflowError after thousands of calls). As Python prints
                // a nested proxy: by what it is.
                return name.equals("hashCode") ? Objects.hash(address, id) : toString();
            }
            try {
                return switch (name) {
                    case "hashCode" -> collection ? snapshot().hashCode()
                            : Objects.hash(address, id);
                    default -> collection ? snapshot().toString() : remoteToString();
                };
            } finally {
                if (collection) {
                    IN_CONTENTS.get().remove(address + "#" + id);
                }
            }
        }
        if (Snapshots.applies(proxy, method)) {
            return Snapshots.apply(method, snapshot(), a);
        }
        if (method.isDefault() && !declaring.getName().startsWith("java.")) {
            return InvocationHandler.invokeDefault(proxy, method, args);
        }
        if (a.length > 0 && a[0] instanceof String attribute && attribute.startsWith("_")
                && declaring.getName().equals(NAMESPACE_PROXY)) {
            return ownAttribute(name, attribute, a);
        }
        return call(name, typeNames(method), a);
    }

    /**
     * A namespace proxy's {@code get}, {@code set}, {@code delete} or {@code contains} of one
     * of its own attributes (see {@link #ownAttributes}).
     */
    private synchronized Object ownAttribute(String method, String attribute, Object[] a) {
        if (ownAttributes == null) {
            ownAttributes = new HashMap<>();
        }
        if (method.equals("set")) {
            ownAttributes.put(attribute, a[1]);
            return null;
        }
        boolean present = ownAttributes.containsKey(attribute);
        if (method.equals("contains")) {
            return present;
        }
        if (!present) {
            throw new NoSuchElementException("the namespace proxy has no attribute '"
                    + attribute + "' (a name that begins with '_' is the proxy's own, as in "
                    + "Python, not shared)");
        }
        if (method.equals("delete")) {
            ownAttributes.remove(attribute);
            return null;
        }
        return ownAttributes.get(attribute);
    }

    /** The collections whose contents this thread is hashing or printing (see invoke). */
    private static final ThreadLocal<java.util.Set<String>> IN_CONTENTS =
            ThreadLocal.withInitial(java.util.HashSet::new);

    /** Marks this collection's contents as being hashed or printed; false if they are. */
    private boolean enterContents() {
        return IN_CONTENTS.get().add(address + "#" + id);
    }

    /** Python's {@code __str__}: the object's own, or the proxy's repr if that fails. */
    private String remoteToString() {
        try {
            return String.valueOf(call("toString", null, NO_ARGS));
        } catch (Throwable t) {
            return toString() + " (toString() failed: " + t.getMessage() + ")";
        }
    }

    private Object snapshot() throws Throwable {
        return call(GET_VALUE, null, NO_ARGS);
    }

    private boolean sameReferent(Object other) {
        ProxyHandler h = of(other);
        return h != null && h.address.equals(address) && h.id.equals(id);
    }

    private Object call(String method, String[] types, Object[] args) throws Throwable {
        if (local != null) {
            return local.callLocal(id, method, types, args);
        }
        count();
        return client.call(Messages.CALL, typeId, id, method, types, args);
    }

    /** Has the server count this reference, unless it has (Python's incref on unpickling). */
    private void count() throws Throwable {
        if (!counted.get()) {
            synchronized (counted) {
                if (!counted.get()) {
                    String t = transfer;
                    if (t == null) {
                        client.call(Messages.INCREF, id, null, null, NO_ARGS);
                    } else {
                        client.call(Messages.TAKE, id, t, null, NO_ARGS);
                        transfer = null;
                    }
                    counted.set(true);
                }
            }
        }
    }

    /** {@link #count} as the proxy is received; if it fails, the first call asks again. */
    private void countNow() {
        try {
            count();
        } catch (Throwable notNow) {
            // the first call asks again, and reports what went wrong
        }
    }

    private static String[] typeNames(Method m) {
        Class<?>[] types = m.getParameterTypes();
        String[] names = new String[types.length];
        for (int i = 0; i < types.length; i++) {
            names[i] = types[i].getName();
        }
        return names;
    }

    @Override
    public String toString() {
        return "<" + typeId + " proxy of object " + id + " at " + address + ">";
    }

    /** A proxy as a token: type, address, id, and a key a child may not know. */
    private static final class TokenReducer implements Reducer<ProxyHandler> {
        @Override
        public void reduce(ProxyHandler h, Out out) {
            out.writeString(h.typeId);
            Address a = h.address;
            boolean inet = a.family() == multiprocessing.connection.Family.AF_INET;
            out.writeBoolean(inet);
            out.writeString(inet ? a.host() : a.path());
            out.writeInt(inet ? a.port() : 0);
            out.writeString(h.id);
            // Python's rule: the key goes only to a child being started, never down a pipe, a
            // queue or a socket, where another program could read it; and to such a child
            // always, as its own key, which it would use otherwise, need not be this process's
            // (one set with authKey(..) before the start failed every call; attack 60).
            out.writeObject(out.spawning() ? Keys.forAddress(a) : null);
            String transfer = null;
            // In a reply of its own server, the server counts the receiver's reference as it
            // writes (ManagerServer.countForReceiver); a child's target is held by its
            // parent's Process until the child counts its own. Any other message (a pipe, a queue, a request) may outlive its sender's proxy: a reference
            // is held for it under a transfer its receiver takes over (Python's proxies lose
            // the object then, cpython#75275).
            if (!ManagerServer.countForReceiver(a, h.id) && !out.spawning()) {
                transfer = Long.toHexString(multiprocessing.internal.util.Urandom.nextLong());
                String t = transfer;
                if (h.local != null) {
                    h.local.give(h.id, t);
                    out.ifUnsent(() -> h.local.drop(h.id, t));
                } else {
                    h.client.give(h.id, t, h);
                    out.ifUnsent(() -> h.client.dropLater(h.id, t));
                }
            }
            out.writeString(transfer == null ? "" : transfer); // "": none
        }

        @Override
        public ProxyHandler rebuild(In in) {
            String typeId = in.readString();
            boolean inet = in.readBoolean();
            String where = in.readString();
            int port = in.readInt();
            String id = in.readString();
            byte[] key = (byte[]) in.readObject();
            String written = in.readString();
            String transfer = written.isEmpty() ? null : written;
            Address address = inet ? Address.inet(where, port) : Address.unix(where);
            // Only the process a child was started with carries a key (see reduce): one in
            // any other message was put there by hand, by whoever wrote it, and would have
            // this process authenticate to that address with a key of their choosing.
            if (key != null && inheriting()) {
                Keys.remember(address, key);
            }
            ManagerServer server = ManagerServer.running(address);
            if (server != null) {
                // In a reply to a client of this JVM the reference was counted for it.
                if (ManagerClient.counted(address)) {
                    return inServer(typeId, server, id, ClientId.ID);
                }
                if (transfer != null) {
                    server.take(id, transfer, ObjectTable.LOCAL);
                } else {
                    server.incref(id, ObjectTable.LOCAL);
                }
                return inServer(typeId, server, id, ObjectTable.LOCAL);
            }
            ManagerClient client = ManagerClient.of(address);
            boolean counted = ManagerClient.counted(address);
            if (!counted && DROPPING.get() != null) {
                // Another manager's proxy in a reply nobody reads: what its sender gave for it
                // goes back, with no call on this thread (review 53: it counted it with a round
                // trip to that manager, from this manager's bookkeeping thread).
                if (transfer != null) {
                    client.dropLater(id, transfer);
                }
                return new ProxyHandler(typeId, address, id, null, null, client, false);
            }
            ProxyHandler h = new ProxyHandler(typeId, address, id, null, null, client, counted);
            h.transfer = counted ? null : transfer;
            if (!counted && !inheriting()) {
                // Once the message is read: the count is a call, a message of its own.
                in.afterRead(h::countNow);
            }
            return h;
        }

        /** Whether this is a child reading what it was started with (Python's _inheriting). */
        private static boolean inheriting() {
            return ChildMain.receiving();
        }
    }

}
