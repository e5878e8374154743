package multiprocessing.internal.cluster;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

import multiprocessing.AuthenticationError;
import multiprocessing.internal.pool.PoolAccess;
import multiprocessing.pool.Pool;

/**
 * What a member does with the chunks it is sent: checks the seal, hands the bytes unread to one
 * of its local worker processes (a process {@link Pool} of {@code workers}, through
 * {@link PoolAccess#relay}), and seals the worker's reply for the task it answers. The member's
 * JVM never reads a task: only a worker does, once the seal has shown it comes from a holder
 * of the key.
 *
 * <p>A chunk holds one of the member's executor threads while it runs. When the member leaves,
 * the chunks still waiting for a worker are answered {@link Answer#UNAVAILABLE} before its
 * workers end, so their pools run them elsewhere rather than fail them.
 */
final class MemberService {
    /** Where the member's Hazelcast instance keeps it (its user context). */
    static final String CONTEXT_KEY = "multiprocessing.member";

    private final Pool local;
    private final Seal seal;
    private final Set<CompletableFuture<byte[]>> waiting = ConcurrentHashMap.newKeySet();
    private volatile boolean closing;

    MemberService(int workers, Seal seal) {
        this.local = Pool.builder().processes(workers).build();
        this.seal = seal;
    }

    byte[] run(byte[] sealedTask) {
        if (closing) {
            return Answer.unavailable("it is leaving the cluster");
        }
        byte[] task;
        try {
            task = seal.open(Answer.TASK, sealedTask, "the task sent to this member");
        } catch (AuthenticationError e) {
            return Answer.refused(e.getMessage());
        }
        CompletableFuture<byte[]> reply = new CompletableFuture<>();
        waiting.add(reply);
        try {
            // Checked after joining the waiting ones: close() either sees this one or was seen.
            if (closing) {
                return Answer.unavailable("it is leaving the cluster");
            }
            PoolAccess.get().relay(local, task, reply::complete);
            byte[] bytes = reply.get();
            if (bytes == null || closing) {
                // Cut off by the member's leaving (its workers are being stopped), or not run
                // at all: its pool broke (its workers fail to start) while the task waited.
                return Answer.unavailable(closing
                        ? "it left the cluster while the task waited or ran"
                        : "its workers cannot run tasks (they fail to start)");
            }
            return Answer.ok(seal.seal(Answer.REPLY, bytes, Seal.sealOf(sealedTask)));
        } catch (RuntimeException cannotRun) {
            // Its pool was terminated, or is broken (its workers fail to start): the chunk may
            // run elsewhere. Nothing is thrown to Hazelcast, which would Java-serialize it.
            return Answer.unavailable("its workers cannot take the task: " + cannotRun.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Answer.unavailable("it is shutting down");
        } catch (ExecutionException e) {
            return Answer.unavailable("its worker failed to answer: " + e.getCause());
        } finally {
            waiting.remove(reply);
        }
    }

    /** Hands back the chunks not yet answered, then ends the workers and waits for them. */
    void close() {
        closing = true;
        for (CompletableFuture<byte[]> f : waiting) {
            f.complete(null);
        }
        local.terminate();
    }

    /** The pids of the member's worker processes. */
    java.util.List<Long> workerPids() {
        return local.workerPids();
    }
}
