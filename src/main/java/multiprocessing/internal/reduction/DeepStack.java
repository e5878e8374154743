package multiprocessing.internal.reduction;

import multiprocessing.internal.util.LibraryThreads;

/**
 * A thread with a deep stack, for a read or a write that ran out of its own thread's: Fory
 * recurses once per level of nesting (each level a few hundred bytes to over a kilobyte of
 * stack, more while interpreted), so a thread's default 1 MiB stack writes a chain of 900 to
 * 2,700 objects, and what one thread wrote, another (or the same, with other code compiled)
 * could fail to read. The stack is reserved address space: the pages are used only as deep as
 * the recursion goes.
 */
final class DeepStack {
    private DeepStack() {}

    /** Enough for {@link Serialization#MAX_DEPTH} levels, interpreted, with room to spare. */
    private static final long STACK_BYTES = 256L << 20;

    private static final String NAME = "multiprocessing-deep-serialization";

    static boolean isCurrent() {
        return Thread.currentThread().getName().equals(NAME);
    }

    /**
     * Runs {@code task} on a new thread with a {@value #STACK_BYTES}-byte stack and returns
     * what it returns; waits uninterruptibly (an interrupt is kept for the caller). A
     * RuntimeException or Error of the task is rethrown as it is.
     */
    static <T> T call(java.util.function.Supplier<T> task) {
        return LibraryThreads.callOnNewThread(
                LibraryThreads.platform().daemon().name(NAME).stackSize(STACK_BYTES), task);
    }
}
