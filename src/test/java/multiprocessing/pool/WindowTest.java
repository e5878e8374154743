package multiprocessing.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** imap's two bounds, without a pool: what holds the feeder back and what lets it go on. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WindowTest {
    /** A feeder thread that acquires as many chunks as it may, counting them; closing ends it. */
    private static final class Feeder extends Thread implements AutoCloseable {
        final Window window;
        final AtomicInteger acquired = new AtomicInteger();

        private Feeder(Window window) {
            this.window = window;
            setDaemon(true);
        }

        static Feeder on(Window window) {
            Feeder f = new Feeder(window);
            f.start();
            return f;
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
            reaches(n);
            Thread.sleep(100);
            assertEquals(n, acquired.get());
        }

        /** Waits (10 s at most) until the count is at least {@code n}. */
        void reaches(int n) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (acquired.get() < n && System.nanoTime() < end) {
                Thread.sleep(5);
            }
        }

        @Override
        public void close() {
            interrupt();
        }
    }

    /** {@code n} chunks finish with results of {@code bytes} each, told as the iterator does. */
    private static void finish(Window w, int n, long bytes) {
        for (int i = 0; i < n; i++) {
            w.arrived(bytes); // before the chunk counts as finished
            w.finished();
        }
    }

    @Test
    void chunksAheadComeBackWhenTheyFinishNotWhenTaken() throws Exception {
        Window w = new Window(3, 100, Long.MAX_VALUE);
        try (Feeder f = Feeder.on(w)) {
            f.settlesAt(3);
            finish(w, 1, 10);
            f.settlesAt(4); // finished, not yet taken: another may go ahead
            w.taken(10);
            f.settlesAt(4); // taking it frees no place ahead
        }
    }

    @Test
    void untakenChunksHoldTheFeederBack() throws Exception {
        Window w = new Window(100, 5, Long.MAX_VALUE);
        try (Feeder f = Feeder.on(w)) {
            f.settlesAt(5);
            finish(w, 5, 1);
            f.settlesAt(5); // all finished, none taken: held back by the count
            w.taken(1);
            f.settlesAt(6);
        }
    }

    @Test
    void untakenBytesHoldTheFeederBack() throws Exception {
        Window w = new Window(100, 10_000, 1000);
        try (Feeder f = Feeder.on(w)) {
            f.settlesAt(100);
            finish(w, 1, 600);
            f.settlesAt(101); // 600 bytes untaken: under the bound
            finish(w, 2, 600);
            f.settlesAt(101); // 1800 bytes untaken: held back, places ahead or not
            w.taken(600);
            w.taken(600); // 600 left: under the bound again
            f.settlesAt(103);
        }
    }

    @Test
    void aDroppedChunkFreesBothItsPlacesAndUnboundLetsEverythingGo() throws Exception {
        Window w = new Window(2, 2, Long.MAX_VALUE);
        try (Feeder f = Feeder.on(w)) {
            f.settlesAt(2);
            w.dropped();
            f.settlesAt(3);
            Thread.sleep(100);
            assertTrue(f.acquired.get() < 1000, "bounded until unbound");
            w.unbound();
            f.reaches(1000);
            assertTrue(f.acquired.get() >= 1000, "unbound: the feeder reads on");
        }
    }
}
