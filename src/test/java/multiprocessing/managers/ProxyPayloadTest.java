package multiprocessing.managers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import multiprocessing.Multiprocessing;
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
 * A process that captures a manager's proxies is written without Fory, as one that captures a
 * queue is: its child reads them, and calls their server (a {@code merge} with a method
 * reference included), without building Fory (which took 30-150 ms of such a child's start,
 * and as much again at its first merge).
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(120)
class ProxyPayloadTest {
    @Test
    void aChildGetsItsCapturedProxiesLiveWithoutBuildingFory() throws Exception {
        SyncManager m = Multiprocessing.getContext("spawn").manager();
        try {
            DictProxy<String, Integer> counts = m.dict();
            ListProxy<Object> seen = m.list();
            DictProxy<String, Integer> sameDict = counts;
            SerializableRunnable target = () -> {
                counts.merge("n", 1, Integer::sum); // its function travels plain too
                seen.add(counts == sameDict); // captured twice, arrives once
                seen.add(Serialization.built());
                seen.add(counts.toString());
            };
            byte[] payload = Serialization.serializeForStart(target, Handles.collecting());
            assertEquals('C', payload[0], "plain, holding a channel: a proxy calls its server");
            Process p = new Process(target);
            p.start();
            p.join();
            assertEquals(0, p.exitCode());
            assertEquals(1, counts.get("n"));
            assertEquals(List.of(true, false, "{n=1}"), seen.getValue());
        } finally {
            m.shutdown();
        }
    }
}
