package multiprocessing.synchronize;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/** Python's timeout rules in nanoseconds: negative waits count as zero; -1 stands for none. */
final class Timeouts {
    private Timeouts() {}

    static final long FOREVER = -1;

    static long nanos(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout (use the overload without one to wait forever)");
        if (timeout.isNegative()) {
            return 0;
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    static long nanos(long time, TimeUnit unit) {
        return Math.max(0, unit.toNanos(time));
    }
}
