package multiprocessing.internal.managers;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A server's shared objects and who holds references to them (Python's {@code id_to_obj} and
 * {@code id_to_refcount}), counted per holder: a client process, or {@link #LOCAL} for proxies
 * living in the server's own JVM (a proxy stored in a shared dict). An object goes when its
 * last reference does; a client process that disconnects gives back all of its references at
 * once, whatever it was doing when it died.
 */
final class ObjectTable {
    static final String LOCAL = "local";

    /**
     * A shared object. {@code concurrent} objects are called from many threads at once; the
     * others one call at a time, under {@code lock}, as a Python server's GIL would have it (a
     * lock, not the object's monitor: a virtual thread waiting for a monitor holds its carrier
     * on the JDKs before 24).
     */
    record Entry(String id, Object object, Registration registration, Set<String> exposed,
            boolean concurrent, ReentrantLock lock) {}

    private final AtomicLong ids = new AtomicLong();
    /**
     * Begins every id of this table: a server started again at an address gets another, so a
     * proxy of the server before (whose client reconnects by itself) is refused by the new one
     * rather than reach the object that happens to have its number there (attack 34).
     */
    private final String tag = Integer.toHexString(
            java.util.concurrent.ThreadLocalRandom.current().nextInt() | 1 << 31) + ".";
    private final Map<String, Entry> objects = new HashMap<>();
    /** id -> holder -> count. */
    private final Map<String, Map<String, Integer>> refs = new HashMap<>();
    /**
     * The lock of each object called one call at a time, by the object itself, not its entry:
     * one object shared twice (a registered callable that returns one instance, as Python's
     * remote-manager example does; a method whose result is shared under a type id) has two
     * entries, whose calls must still run one at a time (review 51: they ran at once, on a
     * HashMap). Python keys its table by the object's identity for the same reason.
     */
    private final Map<Object, SharedLock> locks = new java.util.IdentityHashMap<>();

    /** A lock and how many entries use it. */
    private static final class SharedLock {
        final ReentrantLock lock = new ReentrantLock();
        int entries;
    }

    synchronized Entry add(Object object, Registration registration) {
        String id = tag + Long.toHexString(ids.incrementAndGet());
        boolean concurrent = object instanceof Concurrent
                || object.getClass().getPackageName().startsWith("java.util.concurrent");
        ReentrantLock lock = null;
        if (!concurrent) {
            SharedLock shared = locks.computeIfAbsent(object, o -> new SharedLock());
            shared.entries++;
            lock = shared.lock;
        }
        Entry e = new Entry(id, object, registration, exposed(object, registration), concurrent,
                lock);
        objects.put(id, e);
        refs.put(id, new HashMap<>());
        return e;
    }

    synchronized Entry get(String id) {
        Entry e = objects.get(id);
        if (e == null) {
            throw new IllegalStateException("the manager has no object with id " + id
                    + (id.startsWith(tag) ? " (every reference to it was released)"
                    : " (it was made by an earlier server at this address, which has ended:"
                            + " its objects went with it)"));
        }
        return e;
    }

    /** The object {@code id}, or null if there is none (any more). */
    synchronized Entry find(String id) {
        return objects.get(id);
    }

    synchronized void incref(String id, String holder) {
        get(id);
        refs.get(id).merge(holder, 1, Integer::sum);
    }

    /** Begins the holder of a reference held for a message in flight (see {@link #give}). */
    private static final String TRANSFER = "transfer:";
    /** The most transfers remembered as settled before their give arrived. */
    private static final int MAX_SETTLED_EARLY = 1 << 16;
    /**
     * Transfers taken or dropped before their give arrived (a receiver can read a message
     * before its sender's give reaches the server): that give is then not counted. Bounded: a
     * give that never comes (its sender killed meanwhile) leaves its entry until pushed out.
     */
    private final Set<String> settledEarly = java.util.Collections.newSetFromMap(
            new java.util.LinkedHashMap<>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > MAX_SETTLED_EARLY;
                }
            });

    /**
     * One reference to {@code id} for a message in flight, under {@code transfer}, until its
     * receiver takes it over ({@link #take}) or its sender says it was never sent
     * ({@link #drop}). No client holds it: the message may be read after its sender ended.
     */
    synchronized void give(String id, String transfer) {
        if (settledEarly.remove(transfer)) {
            return;
        }
        incref(id, TRANSFER + transfer);
    }

    /** The receiver of {@code transfer}'s message, {@code holder}, takes its reference over. */
    synchronized void take(String id, String transfer, String holder) {
        incref(id, holder);
        settle(id, transfer);
    }

    /** {@code transfer}'s message was never sent: its reference goes. */
    synchronized void drop(String id, String transfer) {
        settle(id, transfer);
    }

    private void settle(String id, String transfer) {
        Map<String, Integer> r = refs.get(id);
        if (r != null && r.containsKey(TRANSFER + transfer)) {
            decref(id, TRANSFER + transfer);
        } else {
            settledEarly.add(transfer);
        }
    }

    synchronized void decref(String id, String holder) {
        Map<String, Integer> r = refs.get(id);
        if (r == null) {
            return;
        }
        r.computeIfPresent(holder, (k, n) -> n > 1 ? n - 1 : null);
        if (r.isEmpty()) {
            refs.remove(id);
            remove(id);
        }
    }

    /** Drops every reference {@code holder} has (a client process gone). */
    synchronized void releaseAll(String holder) {
        for (String id : refs.keySet().toArray(String[]::new)) {
            Map<String, Integer> r = refs.get(id);
            if (r.remove(holder) != null && r.isEmpty()) {
                refs.remove(id);
                remove(id);
            }
        }
    }

    private void remove(String id) {
        Entry e = objects.remove(id);
        if (e != null && e.lock() != null) {
            SharedLock shared = locks.get(e.object());
            if (shared != null && --shared.entries == 0) {
                locks.remove(e.object());
            }
        }
    }

    synchronized int size() {
        return objects.size();
    }

    /** Python's default: every public method, unless the registration names them. */
    private static Set<String> exposed(Object object, Registration registration) {
        Set<String> names = new TreeSet<>();
        if (registration.exposed() != null) {
            names.addAll(registration.exposed());
        } else {
            for (Method m : object.getClass().getMethods()) {
                if (Modifier.isPublic(m.getModifiers()) && !Modifier.isStatic(m.getModifiers())
                        && !OBJECT_ONLY.contains(m.getName())) {
                    names.add(m.getName());
                }
            }
        }
        names.add("toString");
        return names;
    }

    private static final Set<String> OBJECT_ONLY =
            Set.of("wait", "notify", "notifyAll", "getClass");
}
