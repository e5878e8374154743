package multiprocessing.internal.posix;

import java.io.IOException;

/**
 * A libc call failed: names the function, errno's symbolic name and strerror's text
 * (Python's {@code OSError}).
 */
public final class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String function;
    private final int errno;

    ErrnoException(String function, int errno) {
        super(function + ": " + Errno.name(errno) + " (" + Errno.describe(errno) + ")");
        this.function = function;
        this.errno = errno;
    }

    /** The libc function that failed. */
    public String function() {
        return function;
    }

    /** The errno value it left. */
    public int errno() {
        return errno;
    }

    /** errno's symbolic name, such as {@code ENOENT}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
