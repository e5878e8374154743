package multiprocessing.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.SerializableFunction;
import multiprocessing.internal.pool.PoolAccess;
import multiprocessing.internal.reduction.Serialization;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Chunks serialized elsewhere, run in a local pool's workers (what a cluster member does). */
@ExtendWith(NoLeftoverProcesses.class)
class RelayTest {
    private static byte[] task(long jobId, SerializableFunction<Integer, Integer> fn, List<Integer> items) {
        return Serialization.serialize(new Object[] {jobId, Job.MAP, Serialization.serializeFunction(fn), items});
    }

    private static Object run(Pool pool, byte[] task) throws Exception {
        CompletableFuture<byte[]> reply = new CompletableFuture<>();
        PoolAccess.get().relay(pool, task, reply::complete);
        return Serialization.deserialize(reply.get(60, TimeUnit.SECONDS));
    }

    @Test
    void relayedChunksAnswerAsAWorkerDoesAndSameJobNumbersOfOtherPoolsDoNotMix() throws Exception {
        try (Pool pool = new Pool(1)) {
            // Two pools elsewhere may number their jobs alike: the worker must not reuse the
            // function of one for the other.
            assertEquals(List.of(2, 4), run(pool, task(5, x -> x * 2, List.of(1, 2))));
            assertEquals(List.of(11, 12), run(pool, task(5, x -> x + 10, List.of(1, 2))));
            Object[] failed = (Object[]) run(pool, task(6, x -> 1 / (x - x), List.of(1)));
            assertEquals(Worker.FAILED, failed[0]);
            assertInstanceOf(ArithmeticException.class, failed[1]);
            // A worker that dies running a relayed chunk: its answer is a WorkerLostException.
            Object[] lost = (Object[]) run(pool, task(7, x -> {
                Runtime.getRuntime().halt(3);
                return x;
            }, List.of(1)));
            assertEquals(Worker.FAILED, lost[0]);
            assertInstanceOf(WorkerLostException.class, lost[1]);
            assertEquals(List.of(9), run(pool, task(8, x -> x * x, List.of(3))), "a new worker took over");
        }
        try (ThreadPool threads = new ThreadPool(1)) {
            assertThrows(IllegalArgumentException.class,
                    () -> PoolAccess.get().relay(threads, new byte[0], b -> { }));
        }
    }

    /**
     * A relayed chunk that waits in a pool whose workers cannot start (its initializer throws:
     * the pool breaks) is answered as not run here (an empty reply, which a member turns into
     * "cannot run it", so the chunk runs on another member), not as its tasks' failure: one
     * member whose workers could not start failed chunks across the cluster (review 50).
     */
    @Test
    void aRelayedChunkThatABrokenPoolCannotRunIsAnsweredAsNotRun() throws Exception {
        Pool broken = Pool.builder().processes(1).initializer(() -> {
            throw new IllegalStateException("no workers here");
        }).build();
        try {
            CompletableFuture<byte[]> reply = new CompletableFuture<>();
            PoolAccess.get().relay(broken, task(9, x -> x, List.of(1)), reply::complete);
            assertEquals(null, reply.get(60, TimeUnit.SECONDS));
        } finally {
            broken.terminate();
        }
    }
}
