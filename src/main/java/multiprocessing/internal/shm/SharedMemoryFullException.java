package multiprocessing.internal.shm;

import multiprocessing.internal.posix.ErrnoException;

/**
 * /dev/shm had no room for a new shared-memory object's pages: said at creation, instead of a
 * SIGBUS at some later access. The message names /dev/shm's size and what is free.
 */
public final class SharedMemoryFullException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    SharedMemoryFullException(String name, long size, ErrnoException cause) {
        super("no room for " + ShmObject.mib(size) + " of shared memory (" + name + ") in "
                + ShmObject.describeDirectory() + ": " + cause.errnoName()
                + "; /dev/shm is a tmpfs, 64 MiB by default in a Docker container"
                + " (docker run --shm-size)", cause);
    }
}
