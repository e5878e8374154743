package multiprocessing.internal.pool;

/**
 * Where a pool's chunks run when they do not run in the pool's own worker processes: a pool on
 * a cluster hands each chunk, serialized as a worker reads it, to a member that runs it in its
 * workers. The pool keeps everything else (chunking, ordering, results, exceptions, progress,
 * close and terminate), so such a pool behaves as a local one; a placement only says where a
 * chunk can go now, sends it there, and reports what became of it.
 *
 * <p>The pool calls {@link #reserve} and {@link Slot#send} from its own threads, never holding
 * a lock of the placement's; a placement calls the pool back (the {@code changed} runnable and
 * {@link Delivery}) from any thread.
 */
public interface Placement {
    /**
     * How many workers run the chunks now (at least 1): a pool takes it once, for its
     * {@code processes()}, its default chunk size and its imap window.
     */
    int processes();

    /** Begins; {@code changed} is to be run whenever a slot may have become free. */
    void start(Runnable changed);

    /**
     * A place with room for one more chunk now, other than those in {@code avoid} (where the
     * chunk was lost, or not run) while another exists; null when every place is full.
     */
    Slot reserve(java.util.Set<String> avoid);

    /** Why no chunk can run anywhere now (there is no place at all), or null if one can. */
    String unavailable();

    /** The pool has ended: let go of what {@link #start} set up. */
    void stop();

    /** Room for one chunk at one place, reserved. */
    interface Slot {
        /** The place, as error messages name it. */
        String where();

        /** The pid of the process behind the place, or -1 if unknown. */
        long pid();

        /**
         * Sends a chunk; exactly one method of {@code delivery} is called, once, later, unless
         * this throws (the caller then releases the room).
         */
        void send(byte[] task, Delivery delivery);

        /** Gives the room back unused; a second call does nothing. */
        void release();

        /**
         * Stops the chunk sent through this slot, its pool terminated: where it waits it is
         * dropped, where it runs it is ended. Its delivery, if one still comes, is dropped.
         */
        void cancel();
    }

    /** What became of a chunk that was sent. */
    interface Delivery {
        /** A worker ran it: its answer, as a worker writes it. */
        void replied(byte[] reply);

        /** The place went away before answering: the chunk may run again elsewhere. */
        void lost(String why);

        /**
         * The place answered that it did not hand the chunk to a worker (it is leaving, its
         * workers cannot start) or the chunk never reached it: it may run elsewhere, and this
         * send was not one of its runs.
         */
        void notRun(String why);

        /** It cannot run (and running it elsewhere would not help): its tasks fail with this. */
        void failed(Throwable error);
    }
}
