package multiprocessing.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.SerializableRunnable;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A lambda that captures a whole {@link Pipe} (not an end) starts its child as one that
 * captures an end does: without Fory (the payload plain, holding channels), and the child uses
 * both ends it received.
 */
@Timeout(120)
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
class PipeCaptureTest {

    @Test
    void aChildCapturingAPipeStartsWithoutForyAndUsesItsEnds() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            SerializableRunnable target = () -> {
                Object got = pipe.right().recv();
                pipe.right().send("child got " + got);
            };
            byte[] payload = Serialization.serializeForStart(new Process(target),
                    Handles.collecting());
            assertEquals('C', (char) payload[0], "plain, holding channels");
            Process p = new Process(target);
            p.start();
            pipe.left().send(42);
            assertEquals("child got 42", pipe.left().recv());
            p.join(Duration.ofSeconds(60));
            assertEquals(0, p.exitCode());
            p.close();
        }
    }
}
