package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;

import multiprocessing.managers.JoinableQueueProxy;

/** The proxy class of {@link JoinableQueueProxy}, written out (see {@link StandardProxy}). */
@SuppressWarnings({"rawtypes", "unchecked"})
final class JoinableQueueProxyObject extends QueueProxyObject implements JoinableQueueProxy {
    private static final Method M0 = method(JoinableQueueProxy.class, "join");
    private static final Method M1 = method(JoinableQueueProxy.class, "taskDone");

    JoinableQueueProxyObject(InvocationHandler handler) {
        super(handler, JoinableQueueProxy.class);
    }

    @Override
    public void join() {
        call(M0, null);
    }

    @Override
    public void taskDone() {
        call(M1, null);
    }
}
