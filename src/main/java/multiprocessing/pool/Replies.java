package multiprocessing.pool;

import java.util.List;

import multiprocessing.ProcessError;
import multiprocessing.internal.reduction.Serialization;

/**
 * A worker's answer to a chunk, as {@link Worker} writes it, delivered to the chunk's job: the
 * same code whether the worker is this pool's own or one a cluster member runs the chunk in.
 */
final class Replies {
    private Replies() {}

    /**
     * Completes {@code chunk} with {@code reply}; {@code who} names the sender in an error. A
     * chunk that was relayed from another pool gets the bytes as they are.
     */
    static void deliver(Chunk chunk, byte[] reply, String who) {
        if (chunk.job instanceof Job.Relay relay) {
            if (chunk.event != null) {
                chunk.event.finished(false); // whether it failed is for the pool it came from to know
            }
            try {
                relay.reply(reply);
            } finally {
                chunk.job.chunkFinished();
            }
            return;
        }
        chunk.replyBytes = reply.length;
        Object message;
        try {
            message = Serialization.deserialize(reply);
        } catch (RuntimeException | Error undecodable) {
            // Its bytes were all read: only this chunk's answer is lost (an Error left the
            // pool's result thread and failed the whole pool).
            finish(chunk, null, new ProcessError("the result of a task sent by " + who
                    + " cannot be read: " + undecodable.getMessage(), undecodable));
            return;
        }
        if (message instanceof List<?> results) {
            finish(chunk, results, null);
        } else if (message instanceof Object[] m && m.length == 3 && Integer.valueOf(Worker.FAILED).equals(m[0])
                && m[1] instanceof Throwable t && (m[2] == null || m[2] instanceof String)) {
            finish(chunk, null, Tasks.withTraceback(t, (String) m[2]));
        } else {
            finish(chunk, null, new ProcessError("the answer " + who + " sent for a task is not "
                    + "a result: " + (message == null ? "null" : message.getClass().getName())));
        }
    }

    /**
     * Ends a chunk no worker ran, the pool being unable to run any (broken: its workers fail to
     * start), with {@code error}; a relayed chunk's pool elsewhere is told it did not run here
     * (an empty reply: the member answers that it cannot run it), so that it runs on another
     * member. It came back as its tasks' failure, and one member whose workers could not start
     * failed chunks across the cluster (review 50).
     */
    static void notRun(Chunk chunk, Throwable error) {
        if (!(chunk.job instanceof Job.Relay relay)) {
            finish(chunk, null, error);
            return;
        }
        if (chunk.event != null) {
            chunk.event.finished(true);
        }
        try {
            relay.reply(null);
        } finally {
            chunk.job.chunkFinished();
        }
    }

    /** Completes {@code chunk}'s part of its job and lets a lazily fed job feed another chunk. */
    static void finish(Chunk chunk, List<?> results, Throwable error) {
        if (chunk.event != null) {
            chunk.event.finished(error != null);
        }
        try {
            if (error == null) {
                chunk.job.done(chunk, results);
            } else {
                chunk.job.failed(chunk, error);
            }
        } finally {
            chunk.job.chunkFinished();
        }
    }
}
