package multiprocessing.internal.reduction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.util.List;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

/**
 * A described proxy ({@link ProxyImage}) is written as the proxy it describes. A manager's (its
 * handler a plain message) is written by PlainValue, which the manager tests read back as live
 * proxies; any other goes to Fory, which writes only proxies that exist: made on the way.
 */
class ProxyImageTest {

    static final class Answer implements InvocationHandler, Serializable {
        private static final long serialVersionUID = 1L;
        final String text;

        Answer(String text) {
            this.text = text;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) {
            return method.getName().equals("get") ? text : null;
        }
    }

    /**
     * One whose handler is not a manager's goes to Fory as the proxy it describes, which the
     * deserialization policy refuses as it refuses that very proxy (a proxy of any handler is
     * a gadget): the same clear error, naming the proxy's class, not a record of its parts.
     */
    @Test
    void aProxyImageWhoseHandlerIsNoMessageIsWrittenAsItsProxyWouldBe() {
        Answer handler = new Answer("described");
        ProxyImage image = new ProxyImage(List.of(Supplier.class), handler);
        IllegalArgumentException described = assertThrows(IllegalArgumentException.class,
                () -> Serialization.serialize(image));
        IllegalArgumentException made = assertThrows(IllegalArgumentException.class,
                () -> Serialization.serialize(image.make()));
        assertTrue(described.getMessage().contains("$Proxy"), described.getMessage());
        assertEquals(made.getMessage().replaceAll("\\$Proxy\\d+", "\\$Proxy"),
                described.getMessage().replaceAll("\\$Proxy\\d+", "\\$Proxy"));
    }

    @Test
    void makingItGivesTheProxyItDescribes() {
        Object made = new ProxyImage(List.of(Supplier.class), new Answer("made")).make();
        assertEquals("made", ((Supplier<?>) made).get());
    }
}
