package multiprocessing.internal.managers;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds the method a client calls on a server-side object. Python calls by name; Java has
 * overloads, so a proxy also sends the parameter types of the interface method it was called
 * through: {@code list.remove(int)} and {@code list.remove(Object)} stay apart. The object need
 * not declare that very signature (a proxy interface may take a serializable subtype of the
 * JDK's functional interface): a method whose parameters accept those types is taken next,
 * then, for {@code callMethod} (no types), one whose parameters accept the arguments.
 */
final class Methods {
    private Methods() {}

    /**
     * The methods found by declared parameter types, per class (a class, not its name: two
     * loaders' classes of one name are two classes). A method chosen by the arguments of one
     * call is never kept: another call with the same declared types may need another overload
     * (review 51: an {@code add(T)} erased to {@code add(Object)}, called first with an Integer,
     * took {@code add(Integer)} for every later String).
     */
    private static final ClassValue<Map<String, Method>> CACHE = new ClassValue<>() {
        @Override
        protected Map<String, Method> computeValue(Class<?> type) {
            return new ConcurrentHashMap<>();
        }
    };

    static Object invoke(Object target, String name, String[] paramTypes, Object[] args)
            throws Throwable {
        Method m = find(target.getClass(), name, paramTypes, args);
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    static Method find(Class<?> type, String name, String[] paramTypes, Object[] args) {
        String key = paramTypes == null ? null : name + "(" + String.join(",", paramTypes);
        if (key != null) {
            Method cached = CACHE.get(type).get(key);
            if (cached != null) {
                return cached;
            }
        }
        List<Method> candidates = new ArrayList<>();
        for (Method m : type.getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == args.length
                    && !Modifier.isStatic(m.getModifiers())) {
                candidates.add(m);
            }
        }
        Method found = null;
        boolean byTypes = false;
        if (paramTypes != null) {
            Class<?>[] types = classes(type, paramTypes);
            if (types != null) {
                found = best(candidates, m -> sameTypes(m.getParameterTypes(), types));
                if (found == null) {
                    found = best(candidates, m -> assignable(m.getParameterTypes(), types));
                }
                byTypes = found != null;
            }
        }
        if (found == null) {
            found = best(candidates, m -> accepts(m.getParameterTypes(), args));
        }
        if (found == null) {
            throw new IllegalArgumentException("'" + type.getName() + "' has no method " + name
                    + " that takes " + describe(args));
        }
        found = accessible(type, found);
        if (byTypes) {
            CACHE.get(type).put(key, found);
        }
        return found;
    }

    /** The first match, preferring a method whose parameters are the more specific. */
    private static Method best(List<Method> candidates,
            java.util.function.Predicate<Method> matches) {
        Method best = null;
        for (Method m : candidates) {
            if (matches.test(m) && (best == null
                    || assignable(best.getParameterTypes(), m.getParameterTypes()))) {
                best = m;
            }
        }
        return best;
    }

    /**
     * {@code m}, or where it cannot be called from here (a public method of a class that is not
     * public, in a package not open to this module: {@code Collections.synchronizedMap}'s,
     * {@code List.of}'s), the same method as a public supertype of {@code type} declares it,
     * which a call dispatches to the object's own (attack 43: every call on such an object
     * threw IllegalAccessException).
     */
    private static Method accessible(Class<?> type, Method m) {
        if (m.trySetAccessible()) {
            return m;
        }
        java.util.ArrayDeque<Class<?>> todo = new java.util.ArrayDeque<>();
        java.util.Set<Class<?>> seen = new java.util.HashSet<>();
        todo.add(type);
        while (!todo.isEmpty()) {
            Class<?> c = todo.poll();
            if (!seen.add(c)) {
                continue;
            }
            if (Modifier.isPublic(c.getModifiers())
                    && c.getModule().isExported(c.getPackageName())) {
                try {
                    return c.getMethod(m.getName(), m.getParameterTypes());
                } catch (NoSuchMethodException notHere) {
                    // a supertype may still declare it
                }
            }
            if (c.getSuperclass() != null) {
                todo.add(c.getSuperclass());
            }
            todo.addAll(java.util.Arrays.asList(c.getInterfaces()));
        }
        return m; // its call says why it cannot be made
    }

    private static Class<?>[] classes(Class<?> type, String[] names) {
        Class<?>[] out = new Class<?>[names.length];
        for (int i = 0; i < names.length; i++) {
            out[i] = switch (names[i]) {
                case "int" -> int.class;
                case "long" -> long.class;
                case "boolean" -> boolean.class;
                case "double" -> double.class;
                case "float" -> float.class;
                case "short" -> short.class;
                case "byte" -> byte.class;
                case "char" -> char.class;
                default -> load(type, names[i]);
            };
            if (out[i] == null) {
                return null;
            }
        }
        return out;
    }

    private static Class<?> load(Class<?> type, String name) {
        for (ClassLoader l : new ClassLoader[] {type.getClassLoader(),
                Thread.currentThread().getContextClassLoader(), Methods.class.getClassLoader()}) {
            try {
                return Class.forName(name, false, l);
            } catch (ClassNotFoundException | LinkageError ignored) {
                // try the next loader
            }
        }
        return null;
    }

    private static boolean sameTypes(Class<?>[] a, Class<?>[] b) {
        return java.util.Arrays.equals(a, b);
    }

    /** Whether a method of parameters {@code params} can be called as one of {@code types}. */
    private static boolean assignable(Class<?>[] params, Class<?>[] types) {
        for (int i = 0; i < params.length; i++) {
            Class<?> p = params[i];
            Class<?> t = types[i];
            boolean ok = t.isPrimitive() ? p == t || p == wrap(t)
                    : p.isPrimitive() ? wrap(p) == t : p.isAssignableFrom(t);
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static boolean accepts(Class<?>[] params, Object[] args) {
        for (int i = 0; i < params.length; i++) {
            if (args[i] == null ? params[i].isPrimitive()
                    : !wrap(params[i]).isInstance(args[i])) {
                return false;
            }
        }
        return true;
    }

    static Class<?> wrap(Class<?> c) {
        if (!c.isPrimitive()) {
            return c;
        }
        return switch (c.getName()) {
            case "int" -> Integer.class;
            case "long" -> Long.class;
            case "boolean" -> Boolean.class;
            case "double" -> Double.class;
            case "float" -> Float.class;
            case "short" -> Short.class;
            case "byte" -> Byte.class;
            case "char" -> Character.class;
            default -> Void.class;
        };
    }

    private static String describe(Object[] args) {
        List<String> types = new ArrayList<>();
        for (Object a : args) {
            types.add(a == null ? "null" : a.getClass().getName());
        }
        return "(" + String.join(", ", types) + ")";
    }
}
