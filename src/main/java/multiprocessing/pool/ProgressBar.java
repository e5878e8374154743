package multiprocessing.pool;

import java.io.PrintStream;

/**
 * A one-line text progress bar, redrawn in place at most ten times a second:
 * {@code [##########----------]  50%  500/1000  1,234 it/s  ETA 0:00:01}.
 * What {@link Pool#withProgressBar()} shows on standard error. (A library bar such as
 * me.tongfei:progressbar would bring JLine onto every user's class path and every worker
 * JVM's, for these few lines.)
 */
public final class ProgressBar implements ProgressListener {
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream out;
    private final long started = System.nanoTime();
    private long lastDraw;
    private boolean finished;

    public ProgressBar(PrintStream out) {
        this.out = out;
    }

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
