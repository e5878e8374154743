package multiprocessing.internal.cluster;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.RejectedExecutionException;

import com.hazelcast.client.HazelcastClientNotActiveException;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.IExecutorService;
import com.hazelcast.core.MemberLeftException;
import com.hazelcast.spi.exception.TargetDisconnectedException;
import com.hazelcast.spi.exception.TargetNotMemberException;

import multiprocessing.AuthenticationError;
import multiprocessing.ProcessError;
import multiprocessing.internal.pool.Placement;

/**
 * Where a cluster pool's chunks run: on the members that run workers ({@link Directory}),
 * through Hazelcast's executor, each chunk to one member chosen by the pool as room appears.
 *
 * <p>Each member holds at most {@link #PER_WORKER} chunks per worker at once: enough that its
 * workers find the next chunk already there when they finish one, few enough that a slow
 * member is not handed as much as a fast one, and that cancelled chunks were never sent. The
 * least loaded member (chunks held per worker) gets the next chunk.
 *
 * <p>How an answer is taken: {@link Answer#OK} carries the worker's reply sealed for this task,
 * checked before the pool reads it; {@link Answer#REFUSED} (the member holds another key) fails
 * the chunk with {@link AuthenticationError}; {@link Answer#UNAVAILABLE} and the executor's
 * errors that mean the member went away (it left, was killed, or its connection broke) report
 * the chunk lost, so the pool runs it again elsewhere.
 */
final class ClusterPlacement implements Placement {
    static final int PER_WORKER = 2;

    private final HazelcastInstance hz;
    private final Directory directory;
    private final Seal seal;
    private final String clusterName;
    private final IExecutorService executor;
    /** Chunks sent to each member and not answered; guarded by this. */
    private final Map<UUID, Integer> held = new HashMap<>();
    private volatile Runnable changed = () -> {};
    private final java.util.function.Consumer<ClusterPlacement> onStop;

    ClusterPlacement(HazelcastInstance hz, Directory directory, Seal seal, String clusterName,
            java.util.function.Consumer<ClusterPlacement> onStop,
            java.util.function.Supplier<String> leaving) {
        this.onStop = onStop;
        this.leaving = leaving;
        this.hz = hz;
        this.directory = directory;
        this.seal = seal;
        this.clusterName = clusterName;
        this.executor = hz.getExecutorService(Configs.EXECUTOR);
    }

    /** Why its node is leaving the cluster by itself, or null (see HazelcastNode.leaving). */
    private final java.util.function.Supplier<String> leaving;

    /** A task's failure because its node's connection to the cluster ended. */
    private ProcessError closedBeforeTheEnd(Throwable cause) {
        String why = leaving.get();
        return new ProcessError("the connection to cluster '" + clusterName + "' was closed "
                + "before the task finished" + (why == null ? "" : ": " + why), cause);
    }

    @Override
    public int processes() {
        return directory.totalWorkers();
    }

    @Override
    public void start(Runnable changed) {
        this.changed = changed;
        directory.watch(changed);
    }

    @Override
    public void stop() {
        directory.unwatch(changed);
        onStop.accept(this);
    }

    @Override
    public String unavailable() {
        if (!hz.getLifecycleService().isRunning()) {
            return "the connection to cluster '" + clusterName + "' was closed";
        }
        return directory.targets().isEmpty()
                ? "no member of cluster '" + clusterName + "' runs workers" : null;
    }

    @Override
    public synchronized Slot reserve(java.util.Set<String> avoid) {
        Directory.Target best = null;
        double bestLoad = Double.MAX_VALUE;
        Map<UUID, Directory.Target> targets = directory.targets();
        boolean others = targets.values().stream().anyMatch(t -> !avoid.contains(t.address()));
        for (Directory.Target t : targets.values()) {
            int h = held.getOrDefault(t.member().getUuid(), 0);
            if (h >= PER_WORKER * t.workers() || (others && avoid.contains(t.address()))) {
                continue;
            }
            double load = (double) h / t.workers();
            if (load < bestLoad) {
                best = t;
                bestLoad = load;
            }
        }
        if (best == null) {
            return null;
        }
        held.merge(best.member().getUuid(), 1, Integer::sum);
        return new MemberSlot(best);
    }

    private synchronized void free(UUID member) {
        held.computeIfPresent(member, (k, v) -> v > 1 ? v - 1 : null);
    }

    private final class MemberSlot implements Slot {
        private final Directory.Target target;
        private boolean done;
        /** The chunk's execution on the member, once sent. */
        private volatile java.util.concurrent.Future<byte[]> sent;
        private volatile boolean cancelled;

        MemberSlot(Directory.Target target) {
            this.target = target;
        }

        @Override
        public String where() {
            return target.address();
        }

        @Override
        public long pid() {
            return target.pid();
        }

        @Override
        public void release() {
            synchronized (this) {
                if (done) {
                    return;
                }
                done = true;
            }
            free(target.member().getUuid());
            changed.run();
        }

        @Override
        public void send(byte[] task, Delivery delivery) {
            byte[] sealed = seal.seal(Answer.TASK, task);
            byte[] taskSeal = Seal.sealOf(sealed);
            // A future, which cancel() can stop on the member, not a callback, which cannot.
            java.util.concurrent.Future<byte[]> f;
            try {
                f = executor.submitToMember(new ChunkTask(sealed,
                        hz.getLocalEndpoint().getUuid()), target.member());
            } catch (RuntimeException e) {
                if (!hz.getLifecycleService().isRunning()) {
                    throw closedBeforeTheEnd(e);
                }
                throw e;
            }
            sent = f;
            if (cancelled) {
                f.cancel(true); // terminated as it was sent: cancel() may not have seen it
            }
            ((java.util.concurrent.CompletionStage<byte[]>) f).whenComplete((answer, t) -> {
                release();
                if (t == null) {
                    answered(answer, taskSeal, delivery);
                } else {
                    failed(t instanceof java.util.concurrent.CompletionException
                            && t.getCause() != null ? t.getCause() : t, delivery);
                }
            });
        }

        @Override
        public void cancel() {
            cancelled = true;
            java.util.concurrent.Future<byte[]> f = sent;
            if (f != null) {
                // Hazelcast interrupts the member's thread that runs it (MemberService.run).
                f.cancel(true);
            }
        }

        private void answered(byte[] answer, byte[] taskSeal, Delivery delivery) {
            switch (answer == null ? -1 : Answer.status(answer)) {
                case Answer.OK -> {
                    byte[] reply;
                    try {
                        reply = seal.open(Answer.REPLY, Answer.body(answer),
                                "the answer of member " + where(), taskSeal);
                    } catch (AuthenticationError e) {
                        delivery.failed(e);
                        return;
                    }
                    delivery.replied(reply);
                }
                case Answer.REFUSED -> delivery.failed(new AuthenticationError("member " + where()
                        + " refused the task: " + Answer.text(answer)));
                case Answer.UNAVAILABLE -> delivery.lost("member " + where() + " cannot run it: "
                        + Answer.text(answer));
                case Answer.NOT_RUN -> delivery.notRun("member " + where() + " did not run it: "
                        + Answer.text(answer));
                default -> delivery.failed(new ProcessError("member " + where()
                        + " answered a task with something that is not an answer"));
            }
        }

        private void failed(Throwable t, Delivery delivery) {
            if (!hz.getLifecycleService().isRunning() || t instanceof HazelcastClientNotActiveException) {
                delivery.failed(closedBeforeTheEnd(t));
            } else if (t instanceof TargetNotMemberException
                    || t instanceof RejectedExecutionException) {
                // Never reached the member, or its executor refused it: not run there.
                delivery.notRun("member " + where() + " could not take it: " + t);
            } else if (t instanceof MemberLeftException
                    || t instanceof TargetDisconnectedException
                    || t instanceof HazelcastInstanceNotActiveException) {
                delivery.lost("member " + where() + " went away: " + t);
            } else {
                delivery.failed(new ProcessError("running the task on member " + where()
                        + " failed: " + t, t));
            }
        }
    }
}
