package multiprocessing.managers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.internal.reduction.Serialization;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A proxy read from a message (not as a manager's reply) asks its server to count the new
 * reference, which is a call, and so a message of its own. Many threads reading proxies at
 * once must not hold every serializer of the JVM's pool while each waits for another one.
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(120)
class ProxyReadingTest {
    @Test
    void manyThreadsReadingProxiesAtOnceAllGetThem() throws Exception {
        SyncManager m = Multiprocessing.getContext("spawn").manager();
        int threads = 32; // four times the most Fory instances a JVM pools (8)
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            Map<String, Integer> d = m.dict();
            d.put("k", 7);
            byte[] message = Serialization.serialize(d);
            for (int round = 0; round < 5; round++) {
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<Integer>> got = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    got.add(pool.submit(() -> {
                        start.await();
                        @SuppressWarnings("unchecked")
                        Map<String, Integer> proxy =
                                (Map<String, Integer>) Serialization.deserialize(message);
                        return proxy.get("k");
                    }));
                }
                for (Future<Integer> f : got) {
                    assertEquals(7, f.get(30, TimeUnit.SECONDS), "round " + round);
                }
            }
        } finally {
            pool.shutdownNow();
            try {
                assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS),
                        "a reading thread is stuck");
            } finally {
                m.shutdown();
            }
        }
    }
}
