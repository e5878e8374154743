package multiprocessing.internal.reduction;

import java.util.ArrayList;
import java.util.List;

/**
 * The descriptors one serialized message carries: collected while writing, handed out in the
 * same order while reading. A channel that cannot carry descriptors uses {@link #refusing(String)}.
 */
public final class Handles {
    private final List<Integer> fds;
    private final String refusal;
    private final boolean spawning;
    private int next;
    /** What a read's reducers left for after it (see {@link Reducer.In#afterRead}). */
    private List<Runnable> afterRead;
    private List<Runnable> afterSend;
    /** What undoes the reducers' counting if the message is never sent (see {@link #unsent}). */
    private List<Runnable> ifUnsent;
    /** Whether one receiver only can read the message (see {@link Reducer.Out#readOnce}). */
    private boolean readOnce;
    /**
     * How many reduced objects this message's writes and reads have met: a write or read that
     * met one is not tried again (see Serialization's deep-stack retry).
     */
    int reduced;

    private Handles(List<Integer> fds, String refusal, boolean spawning) {
        this.fds = fds;
        this.refusal = refusal;
        this.spawning = spawning;
    }

    private Handles(List<Integer> fds, String refusal) {
        this(fds, refusal, false);
    }

    /** For writing a message that may carry descriptors. */
    public static Handles collecting() {
        return new Handles(new ArrayList<>(), null);
    }

    /**
     * For writing the process a new child is started for: as {@link #collecting()}, and what
     * only a child of this process may receive (a manager's key, as Python sends a proxy's
     * authkey only while spawning) may be written too.
     */
    public static Handles spawning() {
        return new Handles(new ArrayList<>(), null, true);
    }

    /** For writing a message over a channel that cannot carry descriptors; says why if asked. */
    public static Handles refusing(String why) {
        return new Handles(List.of(), why);
    }

    /** For reading a message that arrived with {@code fds}. */
    public static Handles received(int[] fds) {
        List<Integer> list = new ArrayList<>(fds.length);
        for (int fd : fds) {
            list.add(fd);
        }
        return new Handles(list, null);
    }

    /** Whether this message starts a child of this process (see {@link #spawning()}). */
    public boolean isSpawning() {
        return spawning;
    }

    /** Whether descriptors can travel with this message. */
    public boolean carriesFds() {
        return refusal == null;
    }

    int add(int fd) {
        if (refusal != null) {
            throw new IllegalArgumentException(refusal);
        }
        fds.add(fd);
        return fds.size() - 1;
    }

    int take(int index) {
        if (index < 0 || index >= fds.size()) {
            throw new IllegalStateException("the message names descriptor #" + index + " but "
                    + fds.size() + " arrived with it");
        }
        next = Math.max(next, index + 1);
        return fds.get(index);
    }

    /** The collected descriptors, in order. */
    public int[] fds() {
        return fds.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Received descriptors no rebuilt object took: the caller closes them. */
    public int[] untaken() {
        return fds.subList(Math.min(next, fds.size()), fds.size()).stream()
                .mapToInt(Integer::intValue).toArray();
    }

    public boolean isEmpty() {
        return fds.isEmpty();
    }

    /**
     * Has {@code action} run once the message is sent (or its sending has failed), by
     * {@link #runAfterSend}: a reducer that names a descriptor keeps it open until then.
     */
    void afterSend(Runnable action) {
        if (afterSend == null) {
            afterSend = new ArrayList<>();
        }
        afterSend.add(action);
    }

    /**
     * Runs what the reducers of the message just written left for after its sending; the
     * sender calls it once the descriptors have gone out (or will not), in a finally block.
     */
    public void runAfterSend() {
        List<Runnable> actions = afterSend;
        afterSend = null;
        if (actions != null) {
            for (Runnable action : actions) {
                action.run();
            }
        }
    }

    /**
     * Has {@code action} run if the message just written is never sent ({@link #unsent}): for
     * a reducer that counted the message as a holder of what it carries.
     */
    void ifUnsent(Runnable action) {
        if (ifUnsent == null) {
            ifUnsent = new ArrayList<>();
        }
        ifUnsent.add(action);
    }

    /**
     * The message written with these handles will never be read by anyone (its write failed,
     * the queue had no room for it, the peer was gone): what its reducers counted for it is
     * given back, once. A sender calls it only for a message it knows nobody will read.
     */
    public void unsent() {
        List<Runnable> actions = ifUnsent;
        ifUnsent = null;
        if (actions != null) {
            for (Runnable action : actions) {
                action.run();
            }
        }
    }

    void readOnce() {
        readOnce = true;
    }

    /** {@return whether one receiver only can read the message written with these handles} */
    public boolean readableOnce() {
        return readOnce;
    }

    void afterRead(Runnable action) {
        if (afterRead == null) {
            afterRead = new ArrayList<>();
        }
        afterRead.add(action);
    }

    /** Runs, in order, what the reducers of the message just read left for after it. */
    void runAfterRead() {
        List<Runnable> actions = afterRead;
        afterRead = null;
        if (actions != null) {
            for (Runnable action : actions) {
                action.run();
            }
        }
    }
}
