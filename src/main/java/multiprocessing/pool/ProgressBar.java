package multiprocessing.pool;

import java.io.PrintStream;

/**
 * A one-line text progress bar, redrawn in place at most ten times a second:
 * {@code [##########----------]  50%  500/1000  1,234 it/s  ETA 0:00:01}.
 * What {@link Pool#withProgressBar()} shows on standard error, as Python's {@code tqdm} shows
 * {@code tqdm(pool.imap(f, xs), total=len(xs))}: the pool knows the total of a {@code map} or
 * {@code starmap}, and an {@code imap}'s once its iterable is exhausted (until then the bar shows
 * the count and the rate). It draws plain ASCII with a carriage return before each redraw and a
 * line separator at the end; when standard error is a file or a pipe rather than a terminal, the
 * redraws land there as they are, as tqdm's do. It starts no thread: the pool's own threads
 * draw it as results arrive.
 *
 * <h2>Why not a library bar</h2>
 * The kept-up choice on the JVM, {@code me.tongfei:progressbar} (0.10.2 of January 2026, its
 * one release since March 2024), was tried here on JDK 25 with standard error sent to a file:
 * <ul>
 * <li>it brings {@code org.jline:jline-terminal} and {@code jline-native} 3.29.0 (494 KB with
 *     the bar; jline-native is JNI code), which every user's class path would carry, and every
 *     child JVM's, since children start on the parent's class path;</li>
 * <li>it loads that JNI library at the first bar, so a program without
 *     {@code --enable-native-access} for it gets the JVM's restricted-method warning, and it took
 *     0.7 s to build its first bar (it asks the terminal for its width);</li>
 * <li>into the file it wrote the same carriage-return redraws as this bar, but with ANSI colour
 *     codes and Unicode block characters, and from a rendering thread of its own.</li>
 * </ul>
 * It is a JPMS module ({@code me.tongfei.progressbar}, requiring {@code org.jline.terminal}), so
 * it would fit a modular build; the weight, the JNI and the escape codes in logs decide against
 * it for the few lines this class is. A program that wants that bar (or any other) keeps it one
 * call away, through the listener: {@code pool.onProgress((done, total) -> bar.stepTo(done))}.
 */
public final class ProgressBar implements ProgressListener {
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream out;
    private final long started = System.nanoTime();
    private long lastDraw;
    private boolean finished;

    /**
     * A bar that draws on {@code out}; its clock (the rate and the ETA) starts now.
     *
     * @param out where the bar is drawn, {@code System.err} for {@link Pool#withProgressBar()}
     */
    public ProgressBar(PrintStream out) {
        this.out = out;
    }

    /**
     * Redraws the bar, unless it was drawn less than 100 ms ago and this is not the last call
     * ({@code done >= total}); the last call ends the line, and later calls draw nothing.
     *
     * @param done  items whose result (or error) has arrived
     * @param total items in the call, or -1 while it is not known
     */
    @Override
    public synchronized void progress(long done, long total) {
        if (finished) {
            return;
        }
        long now = System.nanoTime();
        boolean end = total >= 0 && done >= total;
        if (!end && now - lastDraw < REDRAW_NANOS && lastDraw != 0) {
            return;
        }
        lastDraw = now;
        double seconds = Math.max(1e-9, (now - started) / 1e9);
        double rate = done / seconds;
        StringBuilder line = new StringBuilder("\r");
        if (total > 0) {
            int filled = (int) (WIDTH * Math.min(1.0, (double) done / total));
            line.append('[').append("#".repeat(filled)).append("-".repeat(WIDTH - filled)).append("] ");
            line.append(String.format("%3d%%  %d/%d", done * 100 / total, done, total));
        } else {
            line.append(String.format("%d/%s", done, total < 0 ? "?" : "0"));
        }
        line.append(String.format("  %,.0f it/s", rate));
        if (total > 0 && !end && rate > 0) {
            line.append("  ETA ").append(clock((long) ((total - done) / rate)));
        } else if (end) {
            line.append("  in ").append(clock((long) seconds));
        }
        line.append("   ");
        if (end) {
            line.append(System.lineSeparator());
            finished = true;
        }
        out.print(line);
        out.flush();
    }

    private static String clock(long s) {
        return String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
