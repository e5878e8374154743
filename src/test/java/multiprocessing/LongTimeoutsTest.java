package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;

import multiprocessing.connection.Connections;
import multiprocessing.connection.Pipe;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A timeout longer than a {@code long} of nanoseconds holds waits forever, as Python's None:
 * {@code ChronoUnit.FOREVER}'s duration threw ArithmeticException, and 200 years wrapped
 * around to a deadline in the past, so that a join returned at once with the child running.
 */
@Timeout(120)
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
class LongTimeoutsTest {
    private static final Duration FOREVER = ChronoUnit.FOREVER.getDuration();
    private static final Duration CENTURIES = Duration.ofDays(365L * 200);

    private static void saysWhatNoneIs(org.junit.jupiter.api.function.Executable call) {
        NullPointerException e = assertThrows(NullPointerException.class, call);
        assertTrue(String.valueOf(e.getMessage()).contains("Python's timeout=None"),
                String.valueOf(e.getMessage()));
    }

    /**
     * A null timeout, as a port of Python's {@code timeout=None} writes it, says what to call
     * instead, everywhere (attack 35: most threw a bare "timeout is null").
     */
    @Test
    void aNullTimeoutSaysWhatPythonsNoneIsHere() throws Exception {
        Process p = Multiprocessing.getContext("spawn").process(() -> { });
        p.start();
        try {
            saysWhatNoneIs(() -> p.join((Duration) null));
        } finally {
            p.join();
            p.close();
        }
        Queue<Integer> q = new Queue<>();
        saysWhatNoneIs(() -> q.get((Duration) null));
        // Connection.poll(null) is Python's poll(None), a wait without a limit (ListenerClientTest):
        // its no-argument form is Python's poll(), which does not wait.
        saysWhatNoneIs(() -> new multiprocessing.synchronize.Lock().acquire((Duration) null));
        try (var pool = multiprocessing.dummy.Dummy.pool(1)) {
            var result = pool.applyAsync(() -> 1);
            saysWhatNoneIs(() -> result.get((Duration) null));
        }
    }

    @Test
    void aJoinWithAVeryLongTimeoutWaitsForTheChild() throws Exception {
        for (Duration timeout : List.of(CENTURIES, FOREVER)) {
            Process p = Multiprocessing.getContext("spawn").process(() -> {
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            p.start();
            p.join(timeout);
            assertEquals(0, p.exitCode(), "joined before the child ended, with " + timeout);
            p.close();
        }
    }

    @Test
    void aPollAndAWaitWithAVeryLongTimeoutWaitForTheMessage() throws Exception {
        for (Duration timeout : List.of(CENTURIES, FOREVER)) {
            try (Pipe pipe = Pipe.open()) {
                Thread sender = multiprocessing.connection.SendLater.send(pipe.right(), "late",
                        200);
                assertTrue(pipe.left().poll(timeout), "polled before the message, " + timeout);
                assertEquals(List.of(pipe.left()), Connections.await(List.of(pipe.left()), timeout));
                assertEquals("late", pipe.left().recv());
                sender.join();
            }
        }
    }
}
