package multiprocessing.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** imap's two bounds, without a pool: what holds the feeder back and what lets it go on. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WindowTest {
    /** A feeder thread that acquires as many chunks as it may, counting them. */
    private static final class Feeder extends Thread {
        final Window window;
        final AtomicInteger acquired = new AtomicInteger();

        Feeder(Window window) {
            this.window = window;
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                while (true) {
                    window.acquire();
                    acquired.incrementAndGet();
                }
            } catch (InterruptedException e) {
                // the test is over
            }
        }

        /** Waits until the count has stayed at {@code n} a while (the feeder is held back). */
        void settlesAt(int n) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (acquired.get() != n && System.nanoTime() < end) {
                Thread.sleep(5);
            }
            Thread.sleep(100);
            assertEquals(n, acquired.get());
        }
    }

    @Test
    void chunksAheadComeBackWhenTheyFinishNotWhenTaken() throws Exception {
        Window w = new Window(3, 100, Long.MAX_VALUE);
        Feeder f = new Feeder(w);
        f.start();
        try {
            f.settlesAt(3);
            w.arrived(10);
            w.finished();
            f.settlesAt(4); // finished, not yet taken: another may go ahead
            w.taken(10);
            f.settlesAt(4); // taking it frees no place ahead
        } finally {
            f.interrupt();
        }
    }

    @Test
    void untakenChunksAndBytesHoldTheFeederBack() throws Exception {
        Window w = new Window(100, 5, Long.MAX_VALUE);
        Feeder f = new Feeder(w);
        f.start();
        try {
            f.settlesAt(5);
            for (int i = 0; i < 5; i++) {
                w.arrived(1);
                w.finished();
            }
            f.settlesAt(5); // all finished, none taken: held back by the count
            w.taken(1);
            f.settlesAt(6);
        } finally {
            f.interrupt();
        }
        Window bytes = new Window(100, 10_000, 1000);
        Feeder g = new Feeder(bytes);
        g.start();
        try {
            g.settlesAt(100);
            bytes.arrived(600); // as the iterator does, before the chunk counts as finished
            bytes.finished();
            g.settlesAt(101); // 600 bytes untaken: under the bound
            for (int i = 0; i < 2; i++) {
                bytes.arrived(600);
                bytes.finished();
            }
            g.settlesAt(101); // 1800 bytes untaken: held back, places ahead or not
            bytes.taken(600);
            bytes.taken(600); // 600 left: under the bound again
            g.settlesAt(103);
        } finally {
            g.interrupt();
        }
    }

    @Test
    void aDroppedChunkFreesBothItsPlacesAndUnboundLetsEverythingGo() throws Exception {
        Window w = new Window(2, 2, Long.MAX_VALUE);
        Feeder f = new Feeder(w);
        f.start();
        try {
            f.settlesAt(2);
            w.dropped();
            f.settlesAt(3);
            CountDownLatch many = new CountDownLatch(1);
            Thread watcher = new Thread(() -> {
                while (f.acquired.get() < 1000) {
                    Thread.onSpinWait();
                }
                many.countDown();
            });
            watcher.setDaemon(true);
            watcher.start();
            assertFalse(many.await(100, TimeUnit.MILLISECONDS));
            w.unbound();
            assertTrue(many.await(10, TimeUnit.SECONDS), "unbound: the feeder reads on");
        } finally {
            f.interrupt();
        }
    }
}
