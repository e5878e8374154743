package multiprocessing.internal.spawn;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;

import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.util.LibraryThreads;

/**
 * A child's standard output when this JVM runs jshell's snippets (jshell's default execution,
 * a JVM of its own started by jshell): a pipe drained into this JVM's {@code System.out}.
 *
 * <p>jshell shows what the snippets' JVM writes to {@code System.out} and {@code System.err},
 * which it forwards over its connection; what goes to that JVM's descriptors 1 and 2 it does
 * not show. A child inherited those descriptors, so nothing it printed, not even the trace of
 * the exception that failed it, reached the user (attack 48). Here a child's standard output is
 * passed on through this JVM's {@code System.out}, and its standard error, which a
 * {@link StderrTap} reads anyway, through {@code System.err}. Elsewhere children keep writing
 * to the descriptors they inherit, with no thread in between.
 */
final class SnippetOutput {
    private SnippetOutput() {}

    /** Whether this JVM is jshell's remote snippet runner. */
    static final boolean JSHELL = System.getProperty("sun.java.command", "")
            .startsWith("jdk.jshell.execution.");

    /**
     * Opens a pipe drained into {@code System.out} and returns its write end, for a child's
     * descriptor 1 (close this process's copy once the child is spawned).
     */
    static int openStdout() throws IOException {
        int[] pipe = Posix.pipe(Posix.O_CLOEXEC);
        InputStream in = StderrTap.readEnd(pipe);
        try {
            LibraryThreads.platform().daemon().stackSize(128 * 1024)
                    .name("multiprocessing-stdout").start(() -> copy(in, System.out));
        } catch (RuntimeException | Error e) {
            Posix.closeQuietly(pipe[1]);
            try {
                in.close();
            } catch (IOException ignored) {
                // nothing was read from it
            }
            throw e;
        }
        return pipe[1];
    }

    /** Copies {@code in} to {@code out} until end of file, as it comes. */
    static void copy(InputStream in, PrintStream out) {
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // the child's end is gone
        }
    }
}
