package multiprocessing.internal.spawn;

import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.util.LibraryThreads;

/**
 * A child's standard error, passed on to this process's standard error, with what the child
 * wrote before it began to run its process kept, so that a child whose JVM could not start, or
 * could not load the library or its process, fails with that text rather than a bare exit code.
 *
 * <p>Implementation note. The child's descriptor 2 is a pipe this object drains on a thread of
 * its own, writing everything to descriptor 2 here as it comes. When the child has read its
 * process and is about to run it, {@link ChildMain} writes {@link #MARKER}, which is not passed
 * on: a child that exits with a positive code before the marker never ran its process, and up
 * to {@value #HEAD} bytes of what it wrote before are its story (JVM errors such as
 * "Unrecognized VM option", "Could not find or load main class", the library's own bootstrap
 * failure). After the marker the thread only copies. The marker starts with a NUL, which text
 * on a standard error does not contain, so a partial match costs nothing in practice. What a
 * child writes after this process has gone is lost (its writes fail, as on a closed terminal);
 * this process waits for its non-daemon children at exit, as Python does, so only a parent
 * killed abruptly loses output.
 */
final class StderrTap {
    static final byte[] MARKER = "\0multiprocessing: running\0".getBytes(StandardCharsets.ISO_8859_1);
    static final int HEAD = 1024;
    /** Descriptor 2; {@code System.err} in jshell's snippet JVM (see {@link SnippetOutput}). */
    private static final OutputStream STDERR = SnippetOutput.JSHELL ? System.err
            : new FileOutputStream(FileDescriptor.err);

    private final int childEnd;
    private final ByteArrayOutputStream head = new ByteArrayOutputStream();
    private final CountDownLatch drained = new CountDownLatch(1);
    private volatile boolean running;
    private volatile Runnable whenRunning;

    private StderrTap(int childEnd) {
        this.childEnd = childEnd;
    }

    /** Opens the pipe and starts draining it; give {@link #childEnd()} to the child. */
    static StderrTap open() throws IOException {
        int[] pipe = Posix.pipe(Posix.O_CLOEXEC);
        InputStream in = readEnd(pipe);
        StderrTap tap = new StderrTap(pipe[1]);
        try {
            RefusedStart.start(LibraryThreads.platform().daemon().stackSize(128 * 1024),
                    "multiprocessing-stderr", () -> tap.drain(in));
        } catch (IOException | RuntimeException | Error e) {
            Posix.closeQuietly(pipe[1]);
            try {
                in.close();
            } catch (IOException ignored) {
                // nothing was read from it
            }
            throw e;
        }
        return tap;
    }

    /** The write end, for the child's descriptor 2. */
    int childEnd() {
        return childEnd;
    }

    /**
     * The read end of {@code pipe} as a stream (with a descriptor of its own: {@code pipe[0]}
     * is closed); on failure the write end is closed too.
     */
    static InputStream readEnd(int[] pipe) throws IOException {
        try {
            return new FileInputStream("/proc/self/fd/" + pipe[0]);
        } catch (IOException e) {
            Posix.closeQuietly(pipe[1]);
            throw e;
        } finally {
            Posix.closeQuietly(pipe[0]);
        }
    }

    /** Closes this process's copy of the write end, once the child has its own. */
    void spawned() {
        Posix.closeQuietly(childEnd);
    }

    private void drain(InputStream in) {
        byte[] buf = new byte[8192];
        ByteArrayOutputStream pass = new ByteArrayOutputStream();
        int matched = 0;
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                if (running) {
                    passOn(buf, 0, n);
                    continue;
                }
                pass.reset();
                int i = 0;
                for (; i < n && !running; i++) {
                    byte b = buf[i];
                    if (b == MARKER[matched]) {
                        if (++matched == MARKER.length) {
                            running = true;
                            notifyRunning();
                        }
                        continue;
                    }
                    pass.write(MARKER, 0, matched); // it was not the marker after all
                    matched = 0;
                    if (b == MARKER[0]) {
                        matched = 1;
                    } else {
                        pass.write(b);
                    }
                }
                keep(pass);
                pass.write(buf, i, n - i);
                passOn(pass.toByteArray(), 0, pass.size());
            }
        } catch (IOException e) {
            // the pipe failed: the child's end is gone
        } finally {
            drained.countDown();
        }
    }

    /** Set once this process's standard error refused a write (a reader that went away). */
    private boolean stderrGone;

    /**
     * Passes the child's bytes on to this process's standard error, while it takes them. Once
     * it does not (a closed pipe: {@code java App 2>&1 | head}), the tap still reads the child's
     * and looks for the marker: a child that ran would otherwise pass for one that never did.
     */
    private void passOn(byte[] b, int off, int len) {
        if (stderrGone) {
            return;
        }
        try {
            STDERR.write(b, off, len);
            if (SnippetOutput.JSHELL) {
                STDERR.flush();
            }
        } catch (IOException e) {
            stderrGone = true;
        }
    }

    /** Whether the child has said it runs its process. */
    boolean running() {
        return running;
    }

    /** Whether the pipe has reached its end: the child (and all that shared it) has closed it. */
    boolean drained() {
        return drained.getCount() == 0;
    }

    /**
     * Runs {@code action} once the child has said it runs its process: now if it has, else on
     * the draining thread when it does (a race of the two may run it twice).
     */
    void whenRunning(Runnable action) {
        whenRunning = action;
        if (running) {
            action.run();
        }
    }

    private void notifyRunning() {
        Runnable action = whenRunning;
        if (action != null) {
            action.run();
        }
    }

    private void keep(ByteArrayOutputStream before) {
        synchronized (head) {
            int room = HEAD - head.size();
            if (room > 0) {
                head.write(before.toByteArray(), 0, Math.min(room, before.size()));
            }
        }
    }

    /**
     * Waits up to {@code millis} for the child's standard error to reach end of file (all its
     * writers gone), so that a child closed leaves no descriptor of its own open here.
     */
    void awaitDrained(long millis) {
        try {
            drained.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Why a child that exited with {@code code} never ran its process, with the first lines it
     * wrote, or null when it did run it (or was ended by a signal). Waits briefly for the
     * pipe to drain, so that the child's last words are here.
     */
    String failure(int code) {
        if (code < 0 || running) {
            return null; // ended by a signal, or its process ran: the exit code is its own
        }
        try {
            drained.await(2, TimeUnit.SECONDS); // a grandchild may hold the pipe open
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (running) {
            return null;
        }
        String text;
        synchronized (head) {
            text = head.toString(StandardCharsets.UTF_8);
        }
        // Exit 0 without the marker: the launcher only printed and exited, as -version and
        // --dry-run make it do; it would pass for a process that ran.
        String why = code == 0 ? "its JVM ended without running it: an option may make the java"
                + " launcher only print and exit (-version, --dry-run: Context.withJvmOptions)"
                : cause(text);
        if (WorkingDirectory.gone()) {
            // Relative class path entries then resolve elsewhere (attack 49: not said).
            why += " (this process's working directory was removed: children start in / or in"
                    + " a directory of that name made again, where a relative class path entry"
                    + " may find nothing)";
        }
        // The launcher's "Picked up JAVA_TOOL_OPTIONS: ..." says nothing of why: the JVM that
        // cannot initialize says that on its standard output (attack 48).
        boolean onlyPickedUp = text.lines().allMatch(l -> l.isBlank()
                || l.startsWith("Picked up ") || l.startsWith("NOTE: Picked up "));
        return why + " (exit code " + code + ")"
                + (text.isBlank() ? "; it wrote nothing on its standard error (a JVM that cannot"
                        + " initialize says why on its standard output)"
                        : onlyPickedUp ? "; its standard error had only the launcher's note of"
                        + " the options it took from the environment (a JVM that cannot"
                        + " initialize says why on its standard output):\n" + firstLines(text, 12)
                        : ". Its standard error began:\n" + firstLines(text, 12));
    }

    private static String cause(String text) {
        if (text.contains("Unrecognized VM option") || text.contains("Could not create the Java")
                || text.contains("Unrecognized option") || text.contains("Invalid ")) {
            return "its JVM could not start: check the JVM options (Context.withJvmOptions)";
        }
        if (text.contains("Could not find or load main class")
                || text.contains("NoClassDefFoundError: multiprocessing/")) {
            return "its JVM could not load the library: the child's class path lacks it";
        }
        if (text.contains("class failed to initialize")) {
            return "a class its process needs failed to initialize there";
        }
        if (text.contains("ClassNotFoundException") || text.contains("NoClassDefFoundError")) {
            return "it could not load a class its process needs";
        }
        if (text.contains("multiprocessing:")) {
            return "it could not read the process it was started for";
        }
        return "it ended before it ran its process";
    }

    private static String firstLines(String text, int lines) {
        String[] all = text.strip().split("\n");
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(lines, all.length); i++) {
            s.append("  ").append(all[i]).append('\n');
        }
        if (all.length > lines) {
            s.append("  ...\n");
        }
        return s.toString().stripTrailing();
    }
}
