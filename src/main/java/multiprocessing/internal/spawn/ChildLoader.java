package multiprocessing.internal.spawn;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.internal.reduction.Serialization;

/**
 * The class loader a child creates for its program's classes that its JVM's class path lacks:
 * the parent's extra class-path entries (a forkserver JVM boots with the library's class path
 * only and learns the program's at hand-over), then, for a name none of them has, the bytes
 * the parent serves ({@link ClassServer}): jshell snippets, classes a loader defined from
 * bytes. Received objects resolve their classes through it ({@link
 * Serialization#useClassLoader}), and it is the context class loader of the thread that runs
 * the target.
 *
 * <p>Classes it defines from served bytes are also served as resources, so that this child's
 * own children (and anything that reads a class file) find them the same way.
 */
final class ChildLoader extends URLClassLoader {
    static {
        registerAsParallelCapable();
    }

    private final ClassServer.Client server;
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();

    private ChildLoader(URL[] urls, ClassLoader parent, String server) {
        super("multiprocessing-child", urls, parent);
        this.server = server == null ? null : new ClassServer.Client(server);
    }

    /**
     * Installs a loader for {@code classPath} and the parent's class server, when there is
     * either; returns it, or null when this child needs none (the usual case).
     */
    static ClassLoader install(List<String> classPath, String server) {
        if (classPath.isEmpty() && server == null) {
            return null;
        }
        URL[] urls = new URL[classPath.size()];
        for (int i = 0; i < urls.length; i++) {
            try {
                urls[i] = Path.of(classPath.get(i)).toUri().toURL();
            } catch (MalformedURLException e) {
                throw new IllegalArgumentException("class path entry " + classPath.get(i), e);
            }
        }
        ChildLoader loader = new ChildLoader(urls, ChildLoader.class.getClassLoader(), server);
        Serialization.useClassLoader(loader);
        Thread.currentThread().setContextClassLoader(loader);
        ClassReach.note(loader); // its entries and classes reach this child's own children
        return loader;
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        try {
            return super.findClass(name);
        } catch (ClassNotFoundException notOnClassPath) {
            if (server == null) {
                throw notOnClassPath;
            }
            byte[] bytes;
            try {
                bytes = server.fetch(name);
            } catch (IOException e) {
                throw new ClassNotFoundException(name + " is not on this child's class path, and"
                        + " the parent process cannot be asked for it: " + e, e);
            }
            if (bytes == null) {
                throw notOnClassPath;
            }
            served.put(name.replace('.', '/') + ".class", bytes);
            return defineClass(name, bytes, 0, bytes.length);
        }
    }

    @Override
    public InputStream getResourceAsStream(String name) {
        byte[] bytes = served.get(name);
        return bytes != null ? new ByteArrayInputStream(bytes) : super.getResourceAsStream(name);
    }

    @Override
    public URL findResource(String name) {
        URL url = super.findResource(name);
        if (url == null && served.containsKey(name)) {
            try {
                return URL.of(java.net.URI.create("multiprocessing-served:/" + name),
                        new java.net.URLStreamHandler() {
                            @Override
                            protected java.net.URLConnection openConnection(URL u) {
                                return new java.net.URLConnection(u) {
                                    @Override
                                    public void connect() {}

                                    @Override
                                    public InputStream getInputStream() {
                                        return new ByteArrayInputStream(served.get(name));
                                    }
                                };
                            }
                        });
            } catch (MalformedURLException e) {
                return null;
            }
        }
        return url;
    }
}
