package multiprocessing.internal.util;

import java.time.Duration;
import java.util.Objects;

/**
 * A timeout as nanoseconds, as Python takes one: a negative timeout is none at all, and one
 * beyond what a {@code long} of nanoseconds holds (about 292 years; {@code ChronoUnit.FOREVER}'s
 * duration) waits forever. {@link Duration#toNanos()} throws for those, and adding a large one
 * to {@link System#nanoTime()} wrapped around to a deadline in the past: a join of 300 years
 * returned at once.
 */
public final class Durations {
    private Durations() {}

    /**
     * {@code timeout} in nanoseconds: 0 if negative, {@code Long.MAX_VALUE} if longer.
     *
     * @throws NullPointerException for null, saying what Python's {@code timeout=None} is here
     */
    public static long nanos(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout is null: to wait without a limit (Python's"
                + " timeout=None), call the overload that takes no timeout");
        if (timeout.isNegative()) {
            return 0;
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * The {@link System#nanoTime()} at which {@code timeout} from now ends, or
     * {@code Long.MAX_VALUE} (never) when that is beyond what a {@code long} holds.
     */
    public static long deadline(Duration timeout) {
        long nanos = nanos(timeout);
        long now = System.nanoTime();
        return now > 0 && nanos > Long.MAX_VALUE - now ? Long.MAX_VALUE : now + nanos;
    }
}
