package multiprocessing.internal.reduction;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import org.apache.fory.resolver.TypeChecker;
import org.apache.fory.resolver.TypeResolver;

/**
 * Which classes a message may name: Fory asks before it loads or writes a class that is not
 * registered. Bytes from a connection, a queue or a large message's shared memory may come
 * from a peer the program does not control (a client of a Listener, a process that shares
 * the auth key but misbehaves), so a message must not be able to make this JVM build the
 * known deserialization gadgets: classes that run commands, load code, look names up or
 * invoke methods by name when they are rebuilt.
 *
 * <p>Everything else is allowed: the application's classes, records, JDK value types,
 * collections, exceptions and serialized lambdas ({@code java.lang.invoke.SerializedLambda}),
 * except {@code java.net.URL}, whose hashCode looks its host up in DNS (send a {@code URI}).
 * The user moves the line with two system properties, comma-separated lists read when the
 * serializer is built and passed on to every child: {@value #ALLOW_PROPERTY} and
 * {@value #DENY_PROPERTY}. An entry ending in a dot names a package and its sub-packages
 * ({@code com.acme.}), any other a class and its nested classes. The longest matching entry
 * decides;
 * between an allow and a deny of the same length, deny. Besides the names, a class that is a
 * {@link ClassLoader} or an {@link InvocationHandler} (what a proxy gadget hangs on) is refused
 * unless an allow prefix names it. Fory's own list of forbidden classes applies on top.
 */
final class ClassPolicy implements TypeChecker {
    static final String ALLOW_PROPERTY = "multiprocessing.serialization.allow";
    static final String DENY_PROPERTY = "multiprocessing.serialization.deny";

    /** The usual gadget families (ysoserial and marshalsec) and the JDK's dangerous corners. */
    private static final List<String> DENIED = List.of(
            "java.lang.ProcessBuilder", "java.lang.ProcessImpl", "java.lang.ProcessHandleImpl",
            "java.lang.Runtime", "java.lang.System", "java.lang.Thread", "java.lang.ClassLoader",
            "java.lang.Module", "java.lang.reflect.", "java.lang.invoke.",
            "java.lang.instrument.", "java.lang.management.", "java.beans.", "java.rmi.",
            "java.net.URLClassLoader", "java.security.SignedObject", "java.util.ServiceLoader",
            // Its equals and hashCode resolve the host: a URL key of a received HashMap makes
            // this process look up any name the sender chose (ysoserial's URLDNS). A URI travels.
            "java.net.URL",
            "javax.script.", "javax.naming.", "javax.management.", "javax.rmi.", "javax.sql.",
            "javax.xml.", "javax.imageio.", "javax.swing.", "javax.activation.",
            "sun.", "com.sun.", "jdk.", "org.apache.commons.collections.functors.",
            "org.apache.commons.collections4.functors.", "org.apache.commons.beanutils.",
            "org.apache.xalan.", "org.apache.xpath.", "org.codehaus.groovy.runtime.",
            "groovy.lang.", "org.springframework.beans.factory.", "org.springframework.aop.",
            "org.springframework.jndi.", "org.springframework.transaction.jta.",
            "com.mchange.v2.c3p0.", "org.hibernate.engine.", "org.hibernate.tuple.",
            "org.hibernate.property.", "bsh.", "clojure.", "org.python.", "org.mozilla.javascript.",
            "net.sf.json.", "com.alibaba.fastjson.", "org.apache.tomcat.dbcp.",
            "org.apache.commons.dbcp.", "org.apache.ibatis.", "org.apache.myfaces.",
            "org.jboss.interceptor.", "org.jboss.weld.", "org.apache.commons.fileupload.",
            "org.apache.wicket.util.upload.", "ch.qos.logback.core.db.",
            "org.apache.logging.log4j.core.net.", "org.apache.log4j.receivers.",
            "com.zaxxer.hikari.", "org.apache.openjpa.", "org.apache.shiro.jndi.",
            "org.eclipse.jetty.plus.jndi.", "oracle.jdbc.", "com.rometools.rome.feed.impl.",
            "org.apache.batik.", "org.apache.click.", "ognl.", "javassist.", "net.bytebuddy.");

    /** What the denied prefixes above would catch but a message legitimately carries. */
    private static final List<String> ALLOWED = List.of(
            // A serialized lambda travels as this, then is rebuilt by its capturing class.
            "java.lang.invoke.SerializedLambda",
            // What java.nio.file.Path values are on this JDK (Fory writes a path's fields, its
            // file system included), and TimeZone ones.
            "sun.nio.fs.", "sun.util.calendar.ZoneInfo",
            // Exceptions that live in denied packages and reach a caller wrapping a real failure.
            "java.lang.reflect.InvocationTargetException",
            "java.lang.reflect.UndeclaredThrowableException",
            "java.lang.reflect.MalformedParameterizedTypeException",
            "java.lang.reflect.MalformedParametersException",
            "java.lang.reflect.GenericSignatureFormatError",
            "java.lang.invoke.WrongMethodTypeException",
            "java.lang.invoke.LambdaConversionException",
            "java.lang.invoke.StringConcatException");

    private final List<String> allowed;
    private final List<String> denied;
    /** The library's own proxy handlers (named, not linked: managers sit above this layer). */
    private static final java.util.Set<String> TRUSTED_HANDLERS =
            java.util.Set.of("multiprocessing.internal.managers.ProxyHandler");

    private final ClassLoader loader;

    private ClassPolicy(List<String> allowed, List<String> denied, ClassLoader loader) {
        this.allowed = allowed;
        this.denied = denied;
        this.loader = loader;
    }

    /** The default policy with what the system properties add. */
    static ClassPolicy fromSystemProperties(ClassLoader loader) {
        List<String> allow = new ArrayList<>(ALLOWED);
        allow.addAll(prefixes(System.getProperty(ALLOW_PROPERTY)));
        List<String> deny = new ArrayList<>(DENIED);
        deny.addAll(prefixes(System.getProperty(DENY_PROPERTY)));
        return new ClassPolicy(List.copyOf(allow), List.copyOf(deny), loader);
    }

    private static List<String> prefixes(String property) {
        List<String> list = new ArrayList<>();
        if (property != null) {
            for (String p : property.split(",")) {
                if (!p.isBlank()) {
                    list.add(p.strip());
                }
            }
        }
        return list;
    }

    @Override
    public boolean checkType(TypeResolver resolver, String className) {
        return allows(className);
    }

    /** Whether a message may name {@code className}. */
    boolean allows(String className) {
        String name = elementName(className);
        if (isProxyClass(name)) {
            // A dynamic proxy is as dangerous as its handler, and its handler is a class of its
            // own that this policy checks: every InvocationHandler but the library's is refused.
            return true;
        }
        int allow = longestMatch(allowed, name);
        int deny = longestMatch(denied, name);
        if (deny >= 0 && deny >= allow) {
            return false;
        }
        return allow >= 0 || !isDangerousType(name);
    }

    /** An array is as dangerous as what it holds: "[Ljava.lang.Runtime;" is Runtime. */
    private static String elementName(String className) {
        int dims = 0;
        while (dims < className.length() && className.charAt(dims) == '[') {
            dims++;
        }
        if (dims > 0 && className.length() > dims + 1 && className.charAt(dims) == 'L'
                && className.endsWith(";")) {
            return className.substring(dims + 1, className.length() - 1);
        }
        return className;
    }

    private static int longestMatch(List<String> prefixes, String name) {
        int best = -1;
        for (String p : prefixes) {
            if (matches(p, name) && p.length() > best) {
                best = p.length();
            }
        }
        return best;
    }

    /**
     * "a.b." is a package and its sub-packages; "a.b.C" the class and its nested classes only
     * (java.lang.Runtime must not catch java.lang.RuntimeException).
     */
    private static boolean matches(String prefix, String name) {
        if (prefix.endsWith(".")) {
            return name.startsWith(prefix);
        }
        return name.startsWith(prefix) && (name.length() == prefix.length()
                || name.charAt(prefix.length()) == '$');
    }

    /**
     * Whether {@code name} is a class java.lang.reflect.Proxy made (a manager's proxies are):
     * a loadable class must be one; a name this process cannot load is another JVM's proxy
     * class (in jdk.proxyN, or in a non-public interface's package), which Fory rebuilds from
     * its interfaces and handler rather than by that name, so nothing of such a class can run.
     */
    private boolean isProxyClass(String name) {
        int at = name.lastIndexOf(".$Proxy");
        if (at < 0 || at + 7 == name.length()
                || !name.substring(at + 7).chars().allMatch(Character::isDigit)) {
            return false;
        }
        try {
            return Proxy.isProxyClass(Class.forName(name, false, loader));
        } catch (ClassNotFoundException | LinkageError e) {
            return true;
        }
    }

    private boolean isDangerousType(String name) {
        Class<?> type;
        try {
            // Loaded, not initialised: no code of the class runs to answer.
            type = Class.forName(name, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            return false; // Fory fails on it anyway, saying which class is missing
        }
        return ClassLoader.class.isAssignableFrom(type)
                || (InvocationHandler.class.isAssignableFrom(type)
                        && !TRUSTED_HANDLERS.contains(name));
    }
}
