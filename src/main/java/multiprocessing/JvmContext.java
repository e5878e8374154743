package multiprocessing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import multiprocessing.internal.spawn.Popen;
import multiprocessing.internal.spawn.Preparation;
import multiprocessing.internal.util.JvmOptions;

/**
 * A context whose processes are JVMs of their own: {@link SpawnContext} starts a fresh one for
 * each process, {@link ForkServerContext} hands each process to a JVM booted ahead of time. Both
 * run the same child code (the process object is serialized, sent, and run by the child's
 * bootstrap), so a process behaves the same under either; only where the JVM comes from differs.
 */
public abstract sealed class JvmContext extends Context permits SpawnContext, ForkServerContext {
    private final List<String> jvmOptions;

    JvmContext(List<String> jvmOptions) {
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    @Override
    public final List<String> jvmOptions() {
        return jvmOptions;
    }

    @Override
    public JvmContext withJvmOptions(String... options) {
        List<String> all = new ArrayList<>(jvmOptions);
        all.addAll(JvmOptions.checked(options));
        return withOptions(all);
    }

    /** This context with {@code options} in place of its JVM options, its other settings kept. */
    abstract JvmContext withOptions(List<String> options);

    @Override
    public final Process process(SerializableRunnable target) {
        return new Process(target, null, null, null, this);
    }

    @Override
    public final multiprocessing.pool.Pool pool(int processes, SerializableRunnable initializer,
            int maxTasksPerChild) {
        return new multiprocessing.pool.Pool(processes, initializer, maxTasksPerChild, this);
    }

    /** Starts the child that runs {@code preparation}'s process. */
    abstract Popen popen(Preparation preparation) throws IOException;

    @Override
    public String toString() {
        return "<Context " + getStartMethod() + (jvmOptions.isEmpty() ? "" : " " + jvmOptions) + ">";
    }
}
