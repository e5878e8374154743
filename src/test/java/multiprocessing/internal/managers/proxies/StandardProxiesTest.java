package multiprocessing.internal.managers.proxies;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.internal.managers.Registration;
import multiprocessing.internal.managers.StandardTypes;
import multiprocessing.internal.reduction.ProxyImage;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.managers.BaseProxy;
import multiprocessing.managers.DictProxy;
import multiprocessing.managers.ListProxy;
import multiprocessing.managers.SyncManager;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The proxy classes written out behave as the ones {@link Proxy} generates for the same
 * interfaces: every method hands the handler the same {@link Method} and arguments and returns
 * what it returns, exceptions included; and a manager's proxies in this JVM are of these classes.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(120)
class StandardProxiesTest {
    /** What a handler was called with, and what it answers: a value of the return type. */
    static final class Recorder implements InvocationHandler {
        final List<String> calls = new ArrayList<>();
        Throwable toThrow;

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            calls.add(method + " " + Arrays.deepToString(args));
            if (toThrow != null) {
                throw toThrow;
            }
            return answer(method.getReturnType());
        }
    }

    /** A value of {@code type}: the same one for every call, so that returns compare. */
    static Object answer(Class<?> type) {
        if (type == void.class) {
            return null;
        }
        if (type == boolean.class) {
            return true;
        }
        if (type == int.class) {
            return 7;
        }
        if (type == long.class) {
            return 7L;
        }
        if (type == double.class) {
            return 7.0;
        }
        if (type == String.class) {
            return "seven";
        }
        return null;
    }

    private static Object argument(Class<?> type) {
        return type.isPrimitive() ? answer(type == void.class ? int.class : type)
                : type == String.class ? "s" : type == Object[].class ? new Object[] {1} : null;
    }

    private static Object invoke(Method m, Object target, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Test
    void everyMethodHandsTheHandlerWhatProxysWouldAndReturnsTheSame() throws Throwable {
        // Every standard type's interfaces, as the managers register them: each has a class.
        java.util.Set<List<Class<?>>> types = new java.util.LinkedHashSet<>();
        for (Registration r : StandardTypes.SYNC) {
            types.add(r.interfaces());
        }
        types.add(StandardTypes.SEGMENT_TRACKER.interfaces());
        java.util.Set<Class<?>> classes = new java.util.HashSet<>();
        for (List<Class<?>> interfaces : types) {
            Class<?> type = interfaces.get(0);
            assertEquals(List.of(type, BaseProxy.class), interfaces);
            Recorder generatedCalls = new Recorder();
            Recorder writtenCalls = new Recorder();
            Object generated = Proxy.newProxyInstance(type.getClassLoader(),
                    interfaces.toArray(new Class<?>[0]), generatedCalls);
            StandardProxy ours = StandardProxies.make(interfaces, writtenCalls);
            assertNotNull(ours, type.getName());
            Class<? extends StandardProxy> written = ours.getClass();
            assertSame(type, written.getInterfaces()[0], "the class written for " + type);
            assertTrue(classes.add(written), "one class per type: " + written);
            assertEquals(new ProxyImage(interfaces, writtenCalls), ours.image());
            int compared = 0;
            for (Method m : generated.getClass().getDeclaredMethods()) {
                if (Modifier.isStatic(m.getModifiers()) || !Modifier.isPublic(m.getModifiers())) {
                    continue;
                }
                Method same = written.getMethod(m.getName(), m.getParameterTypes());
                String what = type.getSimpleName() + "." + m.getName()
                        + Arrays.toString(m.getParameterTypes());
                if (same.isDefault() && same.getDeclaringClass().getName()
                        .startsWith("multiprocessing.")) {
                    // Not overridden: the interface's body runs, as the handler has it run.
                    continue;
                }
                assertFalse(same.isDefault(), what + " is overridden");
                Object[] args = Arrays.stream(m.getParameterTypes())
                        .map(StandardProxiesTest::argument).toArray();
                generatedCalls.calls.clear();
                writtenCalls.calls.clear();
                Object fromGenerated = invoke(m, generated, args);
                Object fromWritten = invoke(same, ours, args);
                assertEquals(generatedCalls.calls, writtenCalls.calls, what);
                assertEquals(1, writtenCalls.calls.size(), what);
                assertEquals(fromGenerated, fromWritten, what);
                compared++;
            }
            assertTrue(compared >= 8, type + ": " + compared + " methods compared");
        }
        assertEquals(types.size(), classes.size());
    }

    @Test
    void exceptionsArriveAsFromAGeneratedProxy() {
        for (Throwable thrown : List.<Throwable>of(new IllegalStateException("runtime"),
                new java.io.IOException("checked, undeclared"), new AssertionError("error"))) {
            Recorder r = new Recorder();
            r.toThrow = thrown;
            DictProxy<?, ?> dict = (DictProxy<?, ?>) StandardProxies.make(
                    List.of(DictProxy.class, BaseProxy.class), r);
            Throwable got = assertThrows(Throwable.class, dict::size);
            if (thrown instanceof java.io.IOException) {
                assertInstanceOf(UndeclaredThrowableException.class, got);
                assertSame(thrown, got.getCause());
            } else {
                assertSame(thrown, got);
            }
        }
    }

    @Test
    void everyStandardTypeHasAWrittenClass() {
        Recorder r = new Recorder();
        List<Registration> all = new ArrayList<>(StandardTypes.SYNC);
        all.add(StandardTypes.SEGMENT_TRACKER);
        for (Registration registration : all) {
            assertNotNull(StandardProxies.make(registration.interfaces(), r),
                    registration.typeId());
        }
        assertNull(StandardProxies.make(List.of(DictProxy.class), r), "no BaseProxy");
        assertNull(StandardProxies.make(List.of(Runnable.class, BaseProxy.class), r));
    }

    /** A manager's proxies are of these classes, here and through Fory (inside an object). */
    @Test
    void aManagersProxiesAreOfTheWrittenClassesAndTravelAsProxiesDo() throws Exception {
        SyncManager m = Multiprocessing.getContext("spawn").manager();
        try {
            DictProxy<String, Integer> d = m.dict();
            ListProxy<Object> l = m.list();
            assertFalse(Proxy.isProxyClass(d.getClass()), d.getClass().getName());
            assertInstanceOf(StandardProxy.class, l);
            d.put("a", 1);
            // A record holding a proxy goes through Fory; it arrives as a live proxy.
            record Holder(DictProxy<String, Integer> dict) implements java.io.Serializable {}
            Holder back = (Holder) Serialization.deserialize(
                    Serialization.serialize(new Holder(d)));
            assertEquals(1, back.dict().get("a"));
            assertEquals(d, back.dict());
            // Stored in another proxy, it comes back live too.
            l.add(d);
            @SuppressWarnings("unchecked")
            DictProxy<String, Integer> stored = (DictProxy<String, Integer>) l.get(0);
            stored.put("b", 2);
            assertEquals(2, d.get("b"));
        } finally {
            m.shutdown();
        }
    }
}
