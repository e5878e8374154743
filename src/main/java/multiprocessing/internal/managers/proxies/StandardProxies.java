package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.util.List;

import multiprocessing.internal.managers.SegmentTrackerProxy;
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

/** The proxies of the library's own types, with classes written out ({@link StandardProxy}). */
public final class StandardProxies {
    private StandardProxies() {}

    /**
     * The proxy of {@code interfaces} with {@code handler}, when they are one of the library's
     * types and {@link BaseProxy} (as a manager registers them), else null.
     */
    public static StandardProxy make(List<Class<?>> interfaces, InvocationHandler handler) {
        if (interfaces.size() != 2 || interfaces.get(1) != BaseProxy.class) {
            return null;
        }
        Class<?> type = interfaces.get(0);
        // An if chain, not a switch on types: such a switch spins a class at its first use.
        if (type == DictProxy.class) {
            return new DictProxyObject(handler);
        }
        if (type == ListProxy.class) {
            return new ListProxyObject(handler);
        }
        if (type == NamespaceProxy.class) {
            return new NamespaceProxyObject(handler);
        }
        if (type == QueueProxy.class) {
            return new QueueProxyObject(handler);
        }
        if (type == JoinableQueueProxy.class) {
            return new JoinableQueueProxyObject(handler);
        }
        if (type == AcquirerProxy.class) {
            return new AcquirerProxyObject(handler);
        }
        if (type == ConditionProxy.class) {
            return new ConditionProxyObject(handler);
        }
        if (type == EventProxy.class) {
            return new EventProxyObject(handler);
        }
        if (type == BarrierProxy.class) {
            return new BarrierProxyObject(handler);
        }
        if (type == ValueProxy.class) {
            return new ValueProxyObject(handler);
        }
        if (type == ArrayProxy.class) {
            return new ArrayProxyObject(handler);
        }
        if (type == SegmentTrackerProxy.class) {
            return new SegmentTrackerProxyObject(handler);
        }
        return null;
    }
}
