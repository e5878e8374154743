package multiprocessing;

import java.io.IOException;
import java.util.List;

import multiprocessing.internal.spawn.Popen;
import multiprocessing.internal.spawn.Preparation;
import multiprocessing.internal.spawn.Spawner;

/**
 * The "spawn" start method (Python's {@code SpawnContext}), the default: every process is a
 * fresh JVM started with posix_spawn, which boots, reads its process object and runs it. It
 * costs a JVM's start per process (see bench/RESULTS.md) and nothing while no process runs.
 */
public final class SpawnContext extends JvmContext {
    SpawnContext(List<String> jvmOptions) {
        super(jvmOptions);
    }

    /** A context like this one whose children also get {@code options}. */
    @Override
    public SpawnContext withJvmOptions(String... options) {
        return (SpawnContext) super.withJvmOptions(options);
    }

    @Override
    public String getStartMethod() {
        return "spawn";
    }

    @Override
    SpawnContext withOptions(List<String> options) {
        return new SpawnContext(options);
    }

    @Override
    Popen popen(Preparation preparation) throws IOException {
        return Spawner.spawn(preparation, Multiprocessing.executable(), jvmOptions());
    }
}
