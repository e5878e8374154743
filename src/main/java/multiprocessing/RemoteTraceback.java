package multiprocessing;

/**
 * Carries the text of a traceback printed in another process, attached as a suppressed
 * exception to an exception re-raised in this one (Python's {@code multiprocessing.pool.RemoteTraceback}).
 */
public final class RemoteTraceback extends ProcessError {
    private static final long serialVersionUID = 1L;

    /**
     * A traceback from another process, shown in triple quotes as Python shows it.
     *
     * @param traceback the text the other process printed
     */
    public RemoteTraceback(String traceback) {
        super("\n\"\"\"\n" + traceback + "\"\"\"");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
