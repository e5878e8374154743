package multiprocessing.internal.managers;

/** A manager's {@code Semaphore}, or {@code BoundedSemaphore} when {@code bounded}. */
public final class ServerSemaphore extends Permits {
    private final int initial;
    private final boolean bounded;

    public ServerSemaphore(int value, boolean bounded) {
        super(checked(value));
        this.initial = value;
        this.bounded = bounded;
    }

    private static int checked(int value) {
        if (value < 0) {
            throw new IllegalArgumentException("semaphore initial value must be >= 0");
        }
        return value;
    }

    @Override
    public synchronized void release() {
        if (bounded && permits.availablePermits() >= initial) {
            throw new IllegalStateException("semaphore released too many times");
        }
        permits.release();
    }

    public int value() {
        return permits.availablePermits();
    }

    @Override
    public String toString() {
        return "<" + (bounded ? "BoundedSemaphore" : "Semaphore") + " value=" + value() + ">";
    }
}
