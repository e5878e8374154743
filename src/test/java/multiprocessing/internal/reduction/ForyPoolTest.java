package multiprocessing.internal.reduction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.fory.Fory;
import org.apache.fory.config.Language;
import org.junit.jupiter.api.Test;

class ForyPoolTest {
    private static Fory newFory() {
        return Fory.builder().withLanguage(Language.JAVA).requireClassRegistration(false)
                .suppressClassRegistrationWarnings(true).build();
    }

    /** A thread that borrows an instance, adds it to {@code held}, and holds it until released. */
    private static Thread holder(ForyPool pool, Set<Fory> held, CountDownLatch holding,
            CountDownLatch release) {
        return Thread.ofPlatform().start(() -> pool.execute(f -> {
            held.add(f);
            holding.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            return null;
        }));
    }

    @Test
    void oneThreadAtATimeBuildsOneInstance() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        ForyPool pool = new ForyPool(() -> {
            calls.incrementAndGet();
            return newFory();
        }, 8);
        assertEquals(0, pool.built(), "nothing is built before the first message");
        Set<Fory> seen = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 4; i++) {
            Thread t = Thread.ofPlatform().start(() -> {
                byte[] bytes = pool.execute(f -> {
                    seen.add(f);
                    return f.serialize("x");
                });
                assertEquals("x", pool.execute(f -> f.deserialize(bytes)));
            });
            t.join();
        }
        assertEquals(1, pool.built());
        assertEquals(1, calls.get());
        assertEquals(1, seen.size());
    }

    @Test
    void buildsAnotherOnlyWhileEveryBuiltOneIsBorrowedAndWaitsPastTheBound() throws Exception {
        ForyPool pool = new ForyPool(ForyPoolTest::newFory, 2);
        CountDownLatch holding = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> holders = new ArrayList<>();
        Set<Fory> held = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 2; i++) {
            holders.add(holder(pool, held, holding, release));
        }
        assertTrue(holding.await(30, TimeUnit.SECONDS));
        assertEquals(2, pool.built());
        assertEquals(2, held.size(), "two threads at once hold two instances");

        AtomicReference<Fory> third = new AtomicReference<>();
        Thread waiter = Thread.ofPlatform().start(() -> pool.execute(f -> {
            third.set(f);
            return null;
        }));
        waiter.join(300);
        assertTrue(waiter.isAlive(), "a third borrower waits while both are held");
        assertEquals(2, pool.built(), "and no third instance is built");
        release.countDown();
        waiter.join(30_000);
        assertFalse(waiter.isAlive());
        assertTrue(held.contains(third.get()), "it got one of the two back");
        for (Thread t : holders) {
            t.join();
        }
    }

    @Test
    void anInterruptEndsTheWaitWithAnExceptionAndStaysSet() throws Exception {
        ForyPool pool = new ForyPool(ForyPoolTest::newFory, 1);
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = holder(pool, ConcurrentHashMap.newKeySet(), holding, release);
        assertTrue(holding.await(30, TimeUnit.SECONDS));
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicReference<Boolean> interruptedAfter = new AtomicReference<>();
        Thread waiter = Thread.ofPlatform().start(() -> {
            try {
                pool.execute(f -> null);
            } catch (IllegalStateException e) {
                thrown.set(e);
            }
            interruptedAfter.set(Thread.currentThread().isInterrupted());
        });
        waiter.join(200);
        assertTrue(waiter.isAlive(), "it waits while the only serializer is held");
        waiter.interrupt();
        waiter.join(30_000);
        assertFalse(waiter.isAlive(), "an interrupt ends the wait");
        assertTrue(thrown.get().getMessage().contains("interrupted"), thrown.get().toString());
        assertSame(Boolean.TRUE, interruptedAfter.get(), "the thread stays interrupted");
        release.countDown();
        holder.join();
        assertEquals("z", pool.execute(f -> f.deserialize(f.serialize("z"))), "the pool still works");
    }

    /** A serializer that re-enters the pool while holding one: with room, it builds another. */
    @Test
    void aReentrantUseBuildsAnotherWhileThereIsRoom() {
        ForyPool pool = new ForyPool(ForyPoolTest::newFory, 2);
        int distinct = pool.execute(f -> pool.execute(g -> f == g ? 0 : 1));
        assertEquals(1, distinct, "the inner use got an instance of its own");
        assertEquals(2, pool.built());
    }

    @Test
    void aFailedBuildGivesItsPlaceBack() {
        AtomicInteger calls = new AtomicInteger();
        ForyPool pool = new ForyPool(() -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("first build fails");
            }
            return newFory();
        }, 1);
        assertThrows(IllegalStateException.class, () -> pool.execute(f -> null));
        assertEquals(0, pool.built());
        assertEquals("y", pool.execute(f -> f.deserialize(f.serialize("y"))));
        assertEquals(1, pool.built());
    }
}
