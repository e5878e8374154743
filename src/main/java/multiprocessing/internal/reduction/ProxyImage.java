package multiprocessing.internal.reduction;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.List;

/**
 * A proxy not made in this JVM, only written: its interfaces and handler, serialized exactly as
 * the {@link Proxy} they would make, which the receiver rebuilds as one.
 *
 * <p>A manager's server sends a proxy of each object it makes for a client, and never calls
 * it. Making the proxy generated its class ({@code $Proxy}, one per set of interfaces): ~17 ms
 * of a fresh server's first {@code dict()} for a {@code DictProxy}, whose interface has all of
 * {@code Map}'s methods (bench/RESULTS.md, twentieth session).
 *
 * @param interfaces the proxy's interfaces, the program's first
 * @param handler its handler (a manager's, which travels as a plain message)
 */
public record ProxyImage(List<Class<?>> interfaces, InvocationHandler handler) {
    public ProxyImage {
        interfaces = List.copyOf(interfaces);
    }

    /** The proxy itself, made in this JVM (for a serializer that writes only real ones). */
    public Object make() {
        ClassLoader loader = interfaces.isEmpty() ? handler.getClass().getClassLoader()
                : interfaces.get(0).getClassLoader();
        // Not toArray(Class<?>[]::new): a method reference's class is spun where it first
        // runs, here in a child making its first proxy (the caches keep only those run).
        return Proxy.newProxyInstance(loader == null ? ProxyImage.class.getClassLoader() : loader,
                interfaces.toArray(new Class<?>[0]), handler);
    }
}
