package multiprocessing.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

import multiprocessing.sharedctypes.RawValue;
import multiprocessing.sharedctypes.SharedInt;
import multiprocessing.sharedctypes.Value;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Shared values as {@code python_anchor.py}'s bench_value measures CPython's (group value): a
 * {@code Value("i")} incremented under its own lock ({@code with v.get_lock(): v.value += 1},
 * which takes the RLock again inside {@code .value}), read through its wrapper, and a
 * {@code RawValue("i")} read and written through the generic boxed accessors; beside them the
 * typed {@link SharedInt}'s get, set and atomic getAndAdd, which CPython has no counterpart for.
 * One thread, uncontended. Score: ns per operation.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class ValueBench {

    @State(Scope.Thread)
    public static class Values {
        final Value value = Value.of("i", 0);
        final Lock lock = value.getLock();
        final RawValue raw = RawValue.of("i", 7);
        final SharedInt shared = RawValue.ofInt(7);
        int next;
    }

    @Benchmark
    public void valueIncrement(Values s) {
        s.lock.lock();
        try {
            s.value.value((Integer) s.value.value() + 1);
        } finally {
            s.lock.unlock();
        }
    }

    @Benchmark
    public Object valueRead(Values s) {
        return s.value.value();
    }

    @Benchmark
    public Object rawValueRead(Values s) {
        return s.raw.value();
    }

    @Benchmark
    public void rawValueWrite(Values s) {
        s.raw.value(5);
    }

    @Benchmark
    public int sharedIntGet(Values s) {
        return s.shared.get();
    }

    @Benchmark
    public void sharedIntSet(Values s) {
        s.shared.set(s.next++);
    }

    @Benchmark
    public int sharedIntGetAndAdd(Values s) {
        return s.shared.getAndAdd(1);
    }
}
