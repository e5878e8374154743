package multiprocessing.internal.managers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A manager's condition in one JVM, its callers made by hand: the states a server reaches
 * only in a narrow race between a client's end and its call, set up directly.
 */
@Timeout(60)
class ServerConditionTest {
    /**
     * A waiter signalled while its lock is held, whose client goes before it gets the lock
     * back (the server closed its holdings after the waiter last looked whether its call was
     * given up): it must not keep the signal. Over an RLock, the signal was lost and the other
     * waiter waited out its timeout (review of session 33, B2).
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aSignalledWaiterWhoseClientWentBeforeItGotTheLockBackPassesTheSignalOn(boolean rLock)
            throws Exception {
        ServerCondition condition = new ServerCondition(rLock ? new ServerRLock() : new ServerLock());
        Holdings gone = new Holdings("101-gone");
        Holdings alive = new Holdings("102-alive");
        CompletableFuture<Object> first = waiter(condition, new Caller("101-gone/1", null, gone));
        awaitWaiters(condition, 1);
        CompletableFuture<Object> second = waiter(condition, new Caller("102-alive/1", null, alive));
        awaitWaiters(condition, 2);

        Caller signaller = new Caller("103-signaller/1", null, null);
        signaller.enter();
        try {
            assertTrue(condition.acquire());
            condition.signal(); // to the first waiter, which then waits for the lock
            gone.close(); // its client goes, as the server saw its last connection end
            condition.release();
        } finally {
            Caller.clear();
        }

        Object firstOutcome = first.get(10, TimeUnit.SECONDS);
        Object secondOutcome = second.completeOnTimeout("still waiting", 10, TimeUnit.SECONDS).get();
        assertEquals(Boolean.TRUE, secondOutcome, "the other waiter was not given the signal "
                + "(the first ended with " + firstOutcome + ")");
        assertInstanceOf(InterruptedException.class, firstOutcome,
                "the waiter whose client went ended with " + firstOutcome);
    }

    /** A waiter that took the signal and the lock back for a live client holds the lock. */
    @Test
    void aSignalledWaiterOfALiveClientTakesTheLockBack() throws Exception {
        ServerRLock lock = new ServerRLock();
        ServerCondition condition = new ServerCondition(lock);
        CompletableFuture<Object> waiter = waiter(condition,
                new Caller("104-alive/1", null, new Holdings("104-alive")));
        awaitWaiters(condition, 1);
        Caller signaller = new Caller("105-signaller/1", null, null);
        signaller.enter();
        try {
            condition.acquire();
            condition.signal();
            condition.release();
        } finally {
            Caller.clear();
        }
        assertEquals(Boolean.TRUE, waiter.get(10, TimeUnit.SECONDS));
        assertTrue(lock.toString().contains("owner=104-alive/1"), lock.toString());
    }

    /**
     * Runs {@code caller}'s acquire and 20 s wait on its own thread; its outcome is what the
     * wait returned or threw.
     */
    private static CompletableFuture<Object> waiter(ServerCondition condition, Caller caller) {
        CompletableFuture<Object> outcome = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            caller.enter();
            try {
                condition.acquire();
                outcome.complete(condition.await(Duration.ofSeconds(20)));
            } catch (Throwable t) {
                outcome.complete(t);
            } finally {
                Caller.clear();
            }
        });
        return outcome;
    }

    private static void awaitWaiters(ServerCondition condition, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (condition.waiting() < n) {
            assertTrue(System.nanoTime() < deadline, "the waiters did not begin to wait");
            Thread.sleep(5);
        }
    }
}
