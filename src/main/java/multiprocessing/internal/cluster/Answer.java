package multiprocessing.internal.cluster;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A member's answer to a {@link ChunkTask}: a status byte, then the worker's reply sealed for
 * the task it answers ({@link #OK}), or a reason in plain text. A reason carries no seal: a
 * peer in the middle could forge one, which only makes a chunk fail or run again, as it could
 * by dropping the connection.
 */
final class Answer {
    private Answer() {}

    /** The sealed reply of a worker follows. */
    static final byte OK = 0;
    /** The member refused the task, which did not carry its key: the reason follows. */
    static final byte REFUSED = 1;
    /**
     * The member may have begun it but cannot finish it (it left while the task waited or ran):
     * run it elsewhere, once.
     */
    static final byte UNAVAILABLE = 2;
    /**
     * The member did not hand it to a worker (it is leaving, its workers cannot start): run it
     * elsewhere; this was not one of its runs.
     */
    static final byte NOT_RUN = 3;

    static final String REPLY = "reply";
    static final String TASK = "task";

    static byte[] ok(byte[] sealedReply) {
        return with(OK, sealedReply);
    }

    static byte[] refused(String reason) {
        return with(REFUSED, reason.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] unavailable(String reason) {
        return with(UNAVAILABLE, reason.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] notRun(String reason) {
        return with(NOT_RUN, reason.getBytes(StandardCharsets.UTF_8));
    }

    static byte status(byte[] answer) {
        return answer.length == 0 ? -1 : answer[0];
    }

    static byte[] body(byte[] answer) {
        return Arrays.copyOfRange(answer, 1, answer.length);
    }

    static String text(byte[] answer) {
        // A reason of bounded length: it is read from a peer that may not have the key.
        return new String(answer, 1, Math.min(answer.length - 1, 500), StandardCharsets.UTF_8);
    }

    private static byte[] with(byte status, byte[] body) {
        byte[] out = new byte[body.length + 1];
        out[0] = status;
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }
}
