package multiprocessing;

/**
 * Carries the text of a traceback printed in another process, attached as a suppressed
 * exception to an exception re-raised in this one (Python's {@code multiprocessing.pool.RemoteTraceback}).
 */
public final class RemoteTraceback extends ProcessError {
    private static final long serialVersionUID = 1L;

    public RemoteTraceback(String traceback) {
        super("\n\"\"\"\n" + traceback + "\"\"\"");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
