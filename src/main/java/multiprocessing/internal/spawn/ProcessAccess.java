package multiprocessing.internal.spawn;

/**
 * What the spawn machinery needs from {@code multiprocessing.Process} that is not public: set
 * by {@code Process}'s static initializer (the JDK's SharedSecrets pattern), so the child's
 * entry point in this internal package can hand the process it received to Process's own
 * bootstrap, as Python's {@code spawn._main} calls {@code Process._bootstrap}.
 */
public interface ProcessAccess {
    /**
     * Makes {@code process} this JVM's current process and runs it; returns the exit code.
     */
    int bootstrap(Object process, Preparation preparation);

    /**
     * A process object of the library's own whose target does nothing, for a JVM that warms up
     * the path a real process takes (serialized, read, bootstrapped) before it is handed one.
     */
    Object idleProcess();

    /**
     * The program's class that defines what {@code process} runs: the class whose lambda its
     * target is, the target's own class, or the process's subclass; null if none is the
     * program's.
     */
    String programClass(Object process);

    /**
     * Whether {@code process}'s JVM waits for the non-daemon threads its target started before
     * it exits (false for a target that {@link EndsWithoutItsThreads}).
     */
    boolean waitsForItsThreads(Object process);

    /** A process running {@code target} that takes no number of this process's children's. */
    Object unnumberedProcess(multiprocessing.SerializableRunnable target);

    /**
     * Has this JVM's exit handler leave the daemon {@code process} running (not terminated,
     * not joined): it ends with its creator by itself, within the watch interval of a daemon
     * child, after every shutdown hook of the program has run. Java runs shutdown hooks side
     * by side, so a child the handler terminated could be gone while a hook of the program
     * still used it; Python runs its exit handlers in order, the program's before its own.
     * But a non-daemon child the handler joins may be waiting on it (a manager's queue): once
     * such a child has had {@code Process.EXIT_GRACE} to end, the handler runs {@code stop}, as
     * Python's exit shuts its managers down before it joins the children (attack 43: each waited
     * for the other, and the program never exited).
     *
     * @param stop ends the process as its owner would (a manager's shutdown)
     * @throws IllegalArgumentException if the process is not a daemon
     */
    void outliveExitHandler(Object process, Runnable stop);

    /**
     * Whether a started {@code process} is past its start: it has read its process and begun
     * to run it, or it has ended; also when nothing tells (see {@link Popen#pastStart()}).
     */
    boolean pastStart(Object process);

    /**
     * Whether a started {@code process} has said it runs its process (see
     * {@link Popen#saidRunning()}): false for one that ended before it did.
     */
    boolean saidRunning(Object process);

    /**
     * The process's identity as Python writes it in names ({@code "3"}, {@code "1:2"} in a
     * child): its number among its creator's processes, after its creator's own.
     */
    String identity(Object process);

    /**
     * The authentication key a child started with {@code process} gets (its own), carried in
     * its payload beside the process object, which never holds it when written (Python's
     * {@code preparation_data['authkey']}; a key inside the object would go with every copy of
     * it sent elsewhere); null if {@code process} is no process object.
     */
    byte[] keyToCarry(Object process);

    /** Gives the process read from a payload the key {@link #keyToCarry} wrote beside it. */
    void receiveKey(Object process, byte[] key);

    static void set(ProcessAccess access) {
        Holder.access = access;
    }

    static ProcessAccess get() {
        if (Holder.access == null) {
            try {
                Class.forName("multiprocessing.Process", true, ProcessAccess.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
        return Holder.access;
    }

    /** Holds the one instance. */
    final class Holder {
        private Holder() {}

        static volatile ProcessAccess access;
    }
}
