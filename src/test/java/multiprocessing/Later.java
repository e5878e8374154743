package multiprocessing;

/**
 * A test's other party, acting a while after the test has begun to wait for it: a shutdown
 * during an awaitTermination, a get that makes room for a blocked put.
 */
public final class Later {
    private Later() {}

    /** What the thread does. */
    public interface Action {
        void run() throws Exception;
    }

    /**
     * Starts a daemon thread that runs {@code action} once {@code millis} have passed; an
     * interrupt before then cancels it, and what the action throws is its thread's failure.
     *
     * @return the started thread
     */
    public static Thread run(long millis, Action action) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                return;
            }
            try {
                action.run();
            } catch (Exception e) {
                throw new IllegalStateException("the later action failed", e);
            }
        }, "test-later");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
