package multiprocessing.synchronize;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import multiprocessing.internal.util.Durations;

/** Python's timeout rules in nanoseconds: negative waits count as zero; -1 stands for none. */
final class Timeouts {
    private Timeouts() {}

    static final long FOREVER = -1;

    static long nanos(Duration timeout) {
        return Durations.nanos(timeout);
    }

    static long nanos(long time, TimeUnit unit) {
        return Math.max(0, unit.toNanos(time));
    }
}
