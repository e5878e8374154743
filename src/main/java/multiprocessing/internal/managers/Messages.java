package multiprocessing.internal.managers;

import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * What a manager's server and its clients exchange over a {@link multiprocessing.connection
 * .Connection} (its framing, its handshake): envelopes whose payloads are serialized apart, so
 * that a payload that cannot be read (a class missing on one side) fails the one call it
 * belongs to, in the caller's thread, instead of the connection. The envelopes are written
 * field by field, each by a reducer of its own: the serializer's record format carries the
 * fields' names in every message (a dict get's request took 142 bytes instead of 48, and
 * writing and reading it twice the time), on the path of every call.
 */
public final class Messages {
    private Messages() {}

    /** A method call on a shared object. */
    public static final int CALL = 0;
    /** Make a new shared object of a registered type. */
    public static final int CREATE = 1;
    /** One more reference, for the calling client, to an object. */
    public static final int INCREF = 2;
    /** One reference fewer. */
    public static final int DECREF = 3;
    // 4 was a request to stop the server; its creator now says it on their own pipe.
    /**
     * A client checks the server is there and accepts its key; the reply is the server's own
     * address, which its proxies name (a client may have reached it by another name).
     */
    public static final int PING = 5;
    /** How many shared objects the server holds (Python's {@code number_of_objects}). */
    public static final int COUNT = 6;
    /**
     * Interrupt the call {@code target} (a request id) of this connection: its caller was
     * interrupted. The reply, after that call's own if it had already ended, says whether it
     * was still running (then its own reply follows once it heeds the interrupt).
     */
    public static final int CANCEL = 7;
    /**
     * A reference held for a message in flight that carries a proxy of object {@code target},
     * under the transfer named in the method field: kept until the receiver takes it over, so
     * that the object outlives its sender's proxy (attack 43: a proxy put in a queue by a
     * sender that kept none was freed at the sender's next GC, and its receiver found nothing).
     */
    public static final int GIVE = 8;
    /** The receiver's: one more reference for the calling client, the transfer's given back. */
    public static final int TAKE = 9;
    /** The sender's: the message was never sent; the transfer's reference is given back. */
    public static final int DROP = 10;

    /** The name of operation {@code op}, as Flight Recorder's ManagerCall event shows it. */
    static String name(int op) {
        return switch (op) {
            case CALL -> "call";
            case CREATE -> "create";
            case INCREF -> "incref";
            case DECREF -> "decref";
            case PING -> "ping";
            case COUNT -> "count";
            case CANCEL -> "cancel";
            case GIVE -> "give";
            case TAKE -> "take";
            case DROP -> "drop";
            default -> "op " + op;
        };
    }

    /**
     * The first message on every connection: which client process it belongs to, and, from a
     * client on this machine, the shared memory of the two rings it offers for the calls
     * ({@link RingLink}): a descriptor ({@code ringsFd}, -1 for none) of {@code ringsBytes}. The
     * server answers with a Boolean: whether the rings are taken.
     */
    public record Hello(String clientId, int ringsFd, long ringsBytes) {
        static {
            Serialization.register(Hello.class, new Reducer<>() {
                @Override
                public void reduce(Hello h, Out out) {
                    out.writeObject(h.clientId);
                    out.writeBoolean(h.ringsFd >= 0);
                    if (h.ringsFd >= 0) {
                        out.writeFd(h.ringsFd);
                        out.writeLong(h.ringsBytes);
                    }
                }

                @Override
                public Hello rebuild(In in) {
                    String clientId = (String) in.readObject();
                    if (!in.readBoolean()) {
                        return new Hello(clientId, -1, 0);
                    }
                    int fd = in.readFd();
                    return new Hello(clientId, fd, in.readLong());
                }
            });
        }
    }

    /** The last message of a {@link RingLink}, either way: its sender has closed it. */
    public record Bye() {
        static final Bye BYE = new Bye();

        static {
            Serialization.register(Bye.class, new Reducer<>() {
                @Override
                public void reduce(Bye b, Out out) {
                }

                @Override
                public Bye rebuild(In in) {
                    return BYE;
                }
            });
        }
    }

    /**
     * A request. {@code thread} names the calling thread in its process (an RLock's owner),
     * {@code paramTypes} the parameter types of the interface method called (null from
     * {@code callMethod}), {@code args} the serialized {@code Object[]} of arguments.
     */
    public record Request(long id, long thread, int op, String target, String method,
            String[] paramTypes, byte[] args) {
        static {
            Serialization.register(Request.class, new Reducer<>() {
                @Override
                public void reduce(Request r, Out out) {
                    out.writeLong(r.id);
                    out.writeLong(r.thread);
                    out.writeInt(r.op);
                    out.writeObject(r.target);
                    out.writeObject(r.method);
                    out.writeObject(r.paramTypes);
                    out.writeObject(r.args);
                }

                @Override
                public Request rebuild(In in) {
                    return new Request(in.readLong(), in.readLong(), in.readInt(),
                            (String) in.readObject(), (String) in.readObject(),
                            (String[]) in.readObject(), (byte[]) in.readObject());
                }
            });
        }
    }

    /** The answer to request {@code id}: a serialized result, or a serialized exception. */
    public record Response(long id, boolean ok, byte[] payload, String traceback) {
        static {
            Serialization.register(Response.class, new Reducer<>() {
                @Override
                public void reduce(Response r, Out out) {
                    out.writeLong(r.id);
                    out.writeBoolean(r.ok);
                    out.writeObject(r.payload);
                    out.writeObject(r.traceback);
                }

                @Override
                public Response rebuild(In in) {
                    return new Response(in.readLong(), in.readBoolean(), (byte[]) in.readObject(),
                            (String) in.readObject());
                }
            });
        }
    }
}
