package multiprocessing.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.Process;
import multiprocessing.SerializableRunnable;
import multiprocessing.internal.posix.Linkage;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A child that holds only one-way pipe ends reads and writes them with the JDK's own I/O and
 * does not link the libc layer for them; its calls behave as the libc layer's do: a receive
 * blocked in the kernel is not ended by an interrupt, and is ended by a close from another
 * thread with AsynchronousCloseException.
 */
@Timeout(120)
@ExtendWith(NoLeftoverProcesses.class)
class PipeStreamTest {

    @Test
    void aChildOfOneWayPipesReceivesAndSendsWithoutLinkingAndACloseEndsABlockedReceive()
            throws Exception {
        Pipe toChild = Pipe.open(false);
        Pipe fromChild = Pipe.open(false);
        Connection in = toChild.left();
        Connection out = fromChild.right();
        SerializableRunnable target = () -> {
            byte[] first = in.recvBytes();
            out.sendBytes(first); // echoed: read and written through the JDK's I/O
            AtomicReference<Throwable> ended = new AtomicReference<>();
            Thread reader = new Thread(() -> {
                try {
                    in.recvBytes();
                } catch (Throwable t) {
                    ended.set(t);
                }
            });
            reader.start();
            Thread.sleep(300);
            reader.interrupt();
            Thread.sleep(300);
            boolean outlivedInterrupt = reader.isAlive();
            boolean linked = Linkage.begun();
            in.close();
            reader.join(10_000);
            Throwable t = ended.get();
            String report = "linked=" + linked + " outlivedInterrupt=" + outlivedInterrupt
                    + " reader=" + (reader.isAlive() ? "blocked" : t == null ? "returned"
                            : t.getClass().getName());
            out.sendBytes(report.getBytes(StandardCharsets.UTF_8));
        };
        assertEquals('J', (char) Serialization.serializeForStart(new Process(target),
                Handles.collecting())[0], "plain, holding pipes only: no link ahead");
        Process p = new Process(target);
        try {
            p.start();
            in.close();
            out.close();
            toChild.right().sendBytes(new byte[70_000]); // more than a pipe holds at once
            Connection reports = fromChild.left();
            assertTrue(reports.poll(Duration.ofSeconds(60)), "no echo");
            assertEquals(70_000, reports.recvBytes().length);
            assertTrue(reports.poll(Duration.ofSeconds(60)), "no report");
            assertEquals("linked=false outlivedInterrupt=true"
                    + " reader=java.nio.channels.AsynchronousCloseException",
                    new String(reports.recvBytes(), StandardCharsets.UTF_8));
            p.join(Duration.ofSeconds(60));
            assertEquals(0, p.exitCode());
        } finally {
            if (p.isAlive()) {
                p.kill();
                p.join();
            }
            p.close();
            toChild.close();
            fromChild.close();
        }
    }
}
