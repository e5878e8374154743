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
 * <p>Classes it defines from served bytes are also given as resources
 * ({@code getResourceAsStream}), so that this child's own children find them the same way.
 */
final class ChildLoader extends ClassLoader {
    static {
        registerAsParallelCapable();
    }

    private final ClassServer.Client server;
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();
    private volatile boolean noted;

    private ChildLoader(ClassLoader parent, String server) {
        super("multiprocessing-child", parent);
        this.server = server == null ? null : new ClassServer.Client(server);
    }

    /**
     * Installs a loader for {@code classPath} (after this JVM's own) and for what the parent's
     * class server at {@code server} gives; returns it, or null when there is neither. A plain
     * ClassLoader over a URLClassLoader made only when there are entries: most children have
     * none, and a URLClassLoader costs a fresh JVM more to build.
     */
    static ClassLoader install(List<String> classPath, String server) {
        if (classPath.isEmpty() && server == null) {
            return null;
        }
        ClassLoader parent = ChildLoader.class.getClassLoader();
        if (!classPath.isEmpty()) {
            URL[] urls = new URL[classPath.size()];
            for (int i = 0; i < urls.length; i++) {
                try {
                    urls[i] = Path.of(classPath.get(i)).toUri().toURL();
                } catch (MalformedURLException e) {
                    throw new IllegalArgumentException("class path entry " + classPath.get(i), e);
                }
            }
            parent = new URLClassLoader("multiprocessing-child-path", urls, parent);
        }
        ChildLoader loader = new ChildLoader(parent, server);
        Serialization.useClassLoader(loader);
        Thread.currentThread().setContextClassLoader(loader);
        if (!classPath.isEmpty()) {
            loader.noteOnce(); // its entries reach this child's own children
        }
        return loader;
    }

    /** This child's own children may need what this loader holds: serve it to them too. */
    private void noteOnce() {
        if (!noted) {
            noted = true;
            ClassReach.note(this);
        }
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        if (server == null) {
            throw new ClassNotFoundException(name);
        }
        byte[] bytes;
        try {
            bytes = server.fetch(name);
        } catch (IOException e) {
            throw new ClassNotFoundException(name + " is not on this child's class path, and"
                    + " the parent process cannot be asked for it: " + e, e);
        }
        if (bytes == null) {
            throw new ClassNotFoundException(name);
        }
        served.put(name.replace('.', '/') + ".class", bytes);
        noteOnce();
        return defineClass(name, bytes, 0, bytes.length);
    }

    @Override
    public InputStream getResourceAsStream(String name) {
        byte[] bytes = served.get(name);
        return bytes != null ? new ByteArrayInputStream(bytes) : super.getResourceAsStream(name);
    }
}
