package multiprocessing.internal.dummy;

import java.util.function.Function;
import java.util.function.Supplier;

import multiprocessing.Context;
import multiprocessing.Process;
import multiprocessing.SerializableRunnable;

/**
 * How {@code multiprocessing.dummy} reaches what package {@code multiprocessing} keeps
 * package-private (the thread-backed {@link Context}), and how that context makes its processes,
 * without either being public API. Each side fills in its half from its static initializer.
 */
public final class DummyAccess {
    private DummyAccess() {}

    /** Set by {@code Context}: makes the thread-backed context. */
    public static volatile Supplier<Context> context;
    /** Set by {@code multiprocessing.dummy.Dummy}: makes a process that is a thread. */
    public static volatile Function<SerializableRunnable, Process> process;
}
