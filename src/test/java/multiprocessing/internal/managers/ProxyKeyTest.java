package multiprocessing.internal.managers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.connection.Address;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.managers.ListProxy;
import multiprocessing.managers.SyncManager;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A proxy carries its manager's key only in the process a child is started with (Python's
 * rule): a key in any other message was put there by whoever wrote it, and is not taken.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(120)
class ProxyKeyTest {

    @Test
    void aKeyInAMessageOtherThanAStartIsNotTaken() throws Exception {
        byte[] key = "the manager's own key".getBytes(StandardCharsets.UTF_8);
        try (SyncManager m = new SyncManager(null, key); Pipe pipe = Pipe.open(true)) {
            m.start();
            ListProxy<String> list = m.list();
            // Written as a start writes it, with the key: what a crafted message could hold.
            byte[] crafted = Serialization.serializeForStart(list, Handles.spawning());
            Connection end = pipe.right();
            Address address = m.address();
            Process child = new Process(() -> {
                boolean before = Keys.remembered(address) == null;
                try {
                    Serialization.deserializeAtStart(end.recvBytes(), Handles.received(new int[0]));
                } catch (RuntimeException e) {
                    // its reference cannot be counted without the key: beside the point
                }
                end.send(before + " " + (Keys.remembered(address) == null));
            });
            child.start();
            pipe.left().sendBytes(crafted);
            assertEquals("true true", pipe.left().recv(), "no key known before, none taken");
            child.join();
            assertEquals(0, child.exitCode());
            child.close();
        }
    }
}
