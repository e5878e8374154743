package multiprocessing;

import java.io.Serializable;
import java.util.concurrent.Callable;

/**
 * A task with a result that can be sent to another process (a pool's {@code apply}).
 * A lambda written where one is expected becomes serializable, with its captured values.
 *
 * @param <V> the result type
 */
@FunctionalInterface
public interface SerializableCallable<V> extends Callable<V>, Serializable {}
