package multiprocessing.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Connections.await, Python's multiprocessing.connection.wait. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AwaitTest {

    /**
     * A wait on a listener another thread closes returns it as ready at once, timed or not, on
     * a platform and a virtual thread: the wait counts itself in as an accept does. It used to
     * wait for its timeout (or for good), and a listener opened meanwhile on the old number,
     * with a client waiting, made the closed one look ready.
     */
    @Test
    void aWaitOnAListenerClosedByAnotherThreadReturnsItAtOnce() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            for (Duration timeout : new Duration[] {Duration.ofSeconds(30), null}) {
                Listener listener = new Listener(null);
                java.util.concurrent.CompletableFuture<Object> outcome =
                        new java.util.concurrent.CompletableFuture<>();
                Runnable waiter = () -> {
                    try {
                        outcome.complete(Connections.await(List.of(listener), timeout));
                    } catch (Throwable e) {
                        outcome.complete(e);
                    }
                };
                Thread t = virtual ? Thread.ofVirtual().start(waiter)
                        : Thread.ofPlatform().start(waiter);
                Thread.sleep(300); // waiting by now
                assertTrue(!outcome.isDone(), "no client yet: " + outcome.getNow(null));
                long closedAt = System.nanoTime();
                listener.close();
                Object result = outcome.get(10, java.util.concurrent.TimeUnit.SECONDS);
                long tookMillis = (System.nanoTime() - closedAt) / 1_000_000;
                assertEquals(List.of(listener), result, (virtual ? "virtual" : "platform")
                        + ", timeout " + timeout);
                assertTrue(tookMillis < 2_000, "returned " + tookMillis + " ms after close");
                t.join(5_000);
                assertThrows(IllegalStateException.class, listener::accept);
                assertThrows(IllegalStateException.class,
                        () -> Connections.await(List.of(listener), Duration.ZERO));
            }
        }
    }

    @Test
    void readyObjectsInInputOrder() throws Exception {
        try (Pipe a = Pipe.open(false); Pipe b = Pipe.open(); Listener listener =
                new Listener(null)) {
            List<Object> all = List.of(a.left(), b.left(), listener);
            long start = System.nanoTime();
            assertEquals(List.of(), Connections.await(all, Duration.ofMillis(50)));
            assertTrue(System.nanoTime() - start >= 50_000_000L, "waited for the timeout");
            assertEquals(List.of(), Connections.await(all, Duration.ZERO));
            assertEquals(List.of(), Connections.await(all, Duration.ofSeconds(-1)));
            // Nothing to wait for: a timeout is waited out, no timeout is refused (it waited
            // for good; attack 54).
            assertEquals(List.of(), Connections.await(List.of(), Duration.ofMillis(10)));
            IllegalArgumentException never = assertThrows(IllegalArgumentException.class,
                    () -> Connections.await(List.of(), null));
            assertTrue(never.getMessage().contains("never end"), never.getMessage());

            b.right().send("x");
            assertEquals(List.of(b.left()), Connections.await(all, null));
            try (Connection client = Client.connect(listener.address())) {
                a.right().sendBytes(new byte[] {1});
                assertEquals(List.of(a.left(), b.left(), listener),
                        Connections.await(all, Duration.ofSeconds(20)));
                // The listener is ready until the client is accepted.
                listener.accept().close();
                b.left().recv();
                assertEquals(List.of(a.left()), Connections.await(all, null));
            }
        }
    }

    @Test
    void endOfFileIsReadyAndDescriptorsAreAccepted() throws Exception {
        try (Pipe p = Pipe.open(false)) {
            Integer fd = p.left().fileno();
            assertEquals(List.of(), Connections.await(List.of(fd), Duration.ZERO));
            p.right().close();
            assertEquals(List.of(p.left(), fd),
                    Connections.await(List.of(p.left(), fd), null));
        }
    }

    @Test
    void wakesWhenAnotherThreadSends() throws Exception {
        try (Pipe p = Pipe.open()) {
            Thread sender = Thread.ofPlatform().start(() -> {
                try {
                    p.right().sendBytes(new byte[] {7});
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertEquals(List.of(p.left()), Connections.await(List.of(p.left()), null));
            sender.join();
        }
    }

    @Test
    void unsupportedAndClosedObjects() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Connections.await(List.of("a string"), Duration.ZERO));
        assertTrue(e.getMessage().contains("java.lang.String"), e.getMessage());
        Pipe p = Pipe.open();
        p.close();
        assertThrows(IllegalStateException.class,
                () -> Connections.await(List.of(p.left()), Duration.ZERO));
        Listener l = new Listener(null);
        l.close();
        assertThrows(IllegalStateException.class,
                () -> Connections.await(List.of(l), Duration.ZERO));
        assertEquals(List.of(), Connections.await(List.of(), Duration.ZERO));
        // poll(2) skips a negative descriptor: a wait without a timeout never ended (attack 27).
        for (int fd : new int[] {-1, -7}) {
            e = assertThrows(IllegalArgumentException.class,
                    () -> Connections.await(List.of(fd), null));
            assertTrue(e.getMessage().contains("invalid file descriptor: " + fd), e.getMessage());
        }
    }
}
