package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.time.Duration;

import multiprocessing.managers.QueueProxy;

/** The proxy class of {@link QueueProxy}, written out (see {@link StandardProxy}). */
@SuppressWarnings({"rawtypes", "unchecked"})
class QueueProxyObject extends StandardProxy implements QueueProxy {
    private static final Method M0 = method(QueueProxy.class, "empty");
    private static final Method M1 = method(QueueProxy.class, "full");
    private static final Method M2 = method(QueueProxy.class, "get");
    private static final Method M3 = method(QueueProxy.class, "get", boolean.class);
    private static final Method M4 = method(QueueProxy.class, "get", Duration.class);
    private static final Method M5 = method(QueueProxy.class, "getNowait");
    private static final Method M6 = method(QueueProxy.class, "put", Object.class, boolean.class);
    private static final Method M7 = method(QueueProxy.class, "put", Object.class, Duration.class);
    private static final Method M8 = method(QueueProxy.class, "put", Object.class);
    private static final Method M9 = method(QueueProxy.class, "putNowait", Object.class);
    private static final Method M10 = method(QueueProxy.class, "qsize");

    QueueProxyObject(InvocationHandler handler) {
        this(handler, QueueProxy.class);
    }

    /** For the proxy of a type that extends {@code QueueProxy}. */
    QueueProxyObject(InvocationHandler handler, Class<?> type) {
        super(handler, type);
    }

    @Override
    public boolean empty() {
        return (Boolean) call(M0, null);
    }

    @Override
    public boolean full() {
        return (Boolean) call(M1, null);
    }

    @Override
    public Object get() {
        return call(M2, null);
    }

    @Override
    public Object get(boolean a0) {
        return call(M3, new Object[] {a0});
    }

    @Override
    public Object get(Duration a0) {
        return call(M4, new Object[] {a0});
    }

    @Override
    public Object getNowait() {
        return call(M5, null);
    }

    @Override
    public void put(Object a0, boolean a1) {
        call(M6, new Object[] {a0, a1});
    }

    @Override
    public void put(Object a0, Duration a1) {
        call(M7, new Object[] {a0, a1});
    }

    @Override
    public void put(Object a0) {
        call(M8, new Object[] {a0});
    }

    @Override
    public void putNowait(Object a0) {
        call(M9, new Object[] {a0});
    }

    @Override
    public int qsize() {
        return (Integer) call(M10, null);
    }
}
