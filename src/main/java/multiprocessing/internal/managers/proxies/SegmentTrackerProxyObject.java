package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.util.List;

import multiprocessing.internal.managers.SegmentTrackerProxy;

/** The proxy class of {@link SegmentTrackerProxy}, written out (see {@link StandardProxy}). */
@SuppressWarnings({"rawtypes", "unchecked"})
final class SegmentTrackerProxyObject extends StandardProxy implements SegmentTrackerProxy {
    private static final Method M0 = method(SegmentTrackerProxy.class, "names");
    private static final Method M1 = method(SegmentTrackerProxy.class, "track", String.class);
    private static final Method M2 = method(SegmentTrackerProxy.class, "untrack", String.class);

    SegmentTrackerProxyObject(InvocationHandler handler) {
        super(handler, SegmentTrackerProxy.class);
    }

    @Override
    public List names() {
        return (List) call(M0, null);
    }

    @Override
    public void track(String a0) {
        call(M1, new Object[] {a0});
    }

    @Override
    public void untrack(String a0) {
        call(M2, new Object[] {a0});
    }
}
