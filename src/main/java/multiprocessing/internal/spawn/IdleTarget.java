package multiprocessing.internal.spawn;

import multiprocessing.SerializableRunnable;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * The target of the process a JVM runs to warm up ({@link ChildMain#warmUp}): it does nothing.
 *
 * <p>A class of the library's with a reducer, not a lambda: the warm-up writes its process and
 * reads it back as a child does, and a serializable lambda is spun at its creation and again,
 * with method handle forms, at its reading (its class's {@code $deserializeLambda$}), classes
 * no AOT cache keeps: ~5 ms of every waiting forkserver JVM's warm-up before it was ready.
 */
public final class IdleTarget implements SerializableRunnable {
    private static final long serialVersionUID = 1L;

    /** The one instance: it has no state. */
    public static final IdleTarget INSTANCE = new IdleTarget();

    static {
        Serialization.register(IdleTarget.class, new Reducer<IdleTarget>() {
            @Override
            public void reduce(IdleTarget value, Out out) {
                // nothing to write
            }

            @Override
            public IdleTarget rebuild(In in) {
                return INSTANCE;
            }
        });
    }

    private IdleTarget() {}

    @Override
    public void run() {
        // idle: the warm-up only exercises what a process's start does around its target
    }
}
