package multiprocessing.bench;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import multiprocessing.sharedmemory.SharedMemory;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A shared-memory segment's whole life, as CPython's {@code shm_create_attach_us} times it:
 * create 1 MiB, attach it by name, close both views, unlink. The creator's register and
 * unregister messages to the resource tracker are part of it, as in CPython. Score: us.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class ShmBench {

    @Benchmark
    public long createAttachCloseUnlink1MiB() throws IOException {
        SharedMemory a = SharedMemory.create(1 << 20);
        SharedMemory b = SharedMemory.attach(a.name());
        long size = b.size();
        b.close();
        a.close();
        a.unlink();
        return size;
    }
}
