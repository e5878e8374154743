package multiprocessing.internal.managers;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import multiprocessing.SerializableCallable;
import multiprocessing.SerializableFunction;
import multiprocessing.managers.AcquirerProxy;
import multiprocessing.managers.ArrayProxy;
import multiprocessing.managers.BarrierProxy;
import multiprocessing.managers.BaseProxy;
import multiprocessing.managers.ConditionProxy;
import multiprocessing.managers.DictProxy;
import multiprocessing.managers.EventProxy;
import multiprocessing.managers.JoinableQueueProxy;
import multiprocessing.managers.ListProxy;
import multiprocessing.managers.NamespaceProxy;
import multiprocessing.managers.QueueProxy;
import multiprocessing.managers.ValueProxy;

/**
 * The types the library's managers register (SyncManager's, Python's {@code SyncManager}
 * registry, and SharedMemoryManager's tracker), made once per JVM. A standard registration
 * crosses to a server process as its type id alone and is found here again
 * ({@link Registration}'s reducer): a server process of a manager with only these types reads
 * its payload without Fory and without spinning a class per callable (bench/RESULTS.md,
 * eighteenth session). Their callables are instances of named classes for the same reason.
 */
public final class StandardTypes {
    private StandardTypes() {}

    /** SyncManager's types, in the order it registers them. */
    public static final List<Registration> SYNC = List.of(
            withArgs("dict", DictProxy.class),
            withArgs("list", ListProxy.class),
            noArgs("Namespace", NamespaceProxy.class),
            withArgs("Queue", QueueProxy.class),
            withArgs("JoinableQueue", JoinableQueueProxy.class),
            noArgs("Lock", AcquirerProxy.class),
            noArgs("RLock", AcquirerProxy.class),
            withArgs("Semaphore", AcquirerProxy.class),
            withArgs("BoundedSemaphore", AcquirerProxy.class),
            withArgs("Condition", ConditionProxy.class),
            noArgs("Event", EventProxy.class),
            withArgs("Barrier", BarrierProxy.class),
            withArgs("Value", ValueProxy.class),
            withArgs("Array", ArrayProxy.class));

    /** SharedMemoryManager's one type: the server's record of the segments to unlink. */
    public static final Registration SEGMENT_TRACKER = noArgs("SharedMemoryTracker",
            SegmentTrackerProxy.class);

    private static final Map<String, Registration> BY_ID = java.util.stream.Stream.concat(
            SYNC.stream(), java.util.stream.Stream.of(SEGMENT_TRACKER))
            .collect(Collectors.toUnmodifiableMap(Registration::typeId, Function.identity()));

    /** Whether {@code r} is one of these (the very object, not an equal one). */
    static boolean isStandard(Registration r) {
        return BY_ID.get(r.typeId()) == r;
    }

    /**
     * The standard registration of {@code typeId}.
     *
     * @throws IllegalArgumentException if there is none
     */
    static Registration named(String typeId) {
        Registration r = BY_ID.get(typeId);
        if (r == null) {
            throw new IllegalArgumentException("no standard manager type is named '" + typeId
                    + "'");
        }
        return r;
    }

    private static Registration noArgs(String typeId, Class<?> proxy) {
        return new Registration(typeId, new NoArgs(typeId), List.of(proxy, BaseProxy.class),
                null, null, true);
    }

    private static Registration withArgs(String typeId, Class<?> proxy) {
        return new Registration(typeId, new WithArgs(typeId), List.of(proxy, BaseProxy.class),
                null, null, true);
    }

    /** Makes the object of a type created without arguments. */
    private record NoArgs(String typeId) implements SerializableCallable<Object> {
        @Override
        public Object call() {
            return switch (typeId) {
                case "Namespace" -> new ServerNamespace();
                case "Lock" -> new ServerLock();
                case "RLock" -> new ServerRLock();
                case "Event" -> new ServerEvent();
                case "SharedMemoryTracker" -> SegmentTracker.forServer();
                default -> throw new IllegalStateException("no such type: " + typeId);
            };
        }
    }

    /** Makes the object of a type from {@code create}'s arguments. */
    private record WithArgs(String typeId) implements SerializableFunction<Object[], Object> {
        @Override
        public Object apply(Object[] args) {
            return switch (typeId) {
                case "dict" -> args.length == 0 ? new LinkedHashMap<>()
                        : new LinkedHashMap<>((Map<?, ?>) args[0]);
                case "list" -> args.length == 0 ? new ServerList<>()
                        : new ServerList<>((Collection<?>) args[0]);
                case "Queue", "JoinableQueue" ->
                        new ServerQueue(args.length == 0 ? 0 : (Integer) args[0]);
                case "Semaphore" -> new ServerSemaphore(args.length == 0 ? 1 : (Integer) args[0],
                        false);
                case "BoundedSemaphore" -> new ServerSemaphore(args.length == 0 ? 1
                        : (Integer) args[0], true);
                case "Condition" -> new ServerCondition(args.length == 0 ? null : args[0]);
                case "Barrier" -> new ServerBarrier((Integer) args[0]);
                case "Value" -> new ServerValue((String) args[0], args[1]);
                case "Array" -> new ServerArray((String) args[0], args[1]);
                default -> throw new IllegalStateException("no such type: " + typeId);
            };
        }
    }
}
