package multiprocessing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.PreInterruptCallback;
import org.junit.jupiter.api.extension.PreInterruptContext;

/**
 * Prints, when a test overruns its {@code @Timeout}, the stacks of every thread of the test JVM
 * and what every process descended from it waits in: a hang that happens only on
 * another machine (CI's, with 2 CPUs) is then diagnosable from the build's output alone.
 * Registered for every test by the service file beside it and
 * {@code junit.jupiter.extensions.autodetection.enabled}.
 */
public final class TimeoutDiagnostics implements PreInterruptCallback {
    @Override
    public void beforeThreadInterrupt(PreInterruptContext interrupt, ExtensionContext context) {
        StringBuilder out = new StringBuilder("\n=== timeout of ")
                .append(context.getDisplayName()).append(" in ")
                .append(context.getRequiredTestClass().getName())
                .append(": threads of the test JVM ===\n");
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            Thread t = e.getKey();
            out.append('"').append(t.getName()).append("\" ").append(t.getState())
                    .append(t.isDaemon() ? " daemon" : "").append('\n');
            for (StackTraceElement frame : e.getValue()) {
                out.append("\tat ").append(frame).append('\n');
            }
        }
        ProcessHandle.current().descendants().forEach(h -> describe(h, out));
        out.append("=== end of timeout diagnostics ===\n");
        System.out.print(out);
        System.out.flush();
    }

    /** What every process descended from this one waits in, for a test's failure message. */
    public static String descendants() {
        StringBuilder out = new StringBuilder();
        ProcessHandle.current().descendants().forEach(h -> describe(h, out));
        return out.toString();
    }

    /**
     * A child JVM refuses jcmd (the library starts it with {@code -XX:+DisableAttachMechanism})
     * and ignores SIGQUIT ({@code -Xrs}), so what it does is read from {@code /proc}: each
     * thread's name (HotSpot names native threads after Java's, cut to 15 characters), state,
     * and the kernel function it sleeps in.
     */
    private static void describe(ProcessHandle child, StringBuilder out) {
        out.append("\n=== descendant ").append(child.pid()).append(" (parent ")
                .append(child.parent().map(p -> Long.toString(p.pid())).orElse("?"))
                .append("): ").append(child.info().command().orElse("?")).append(" ... ")
                .append(child.info().arguments().map(a -> a.length == 0 ? "" : a[a.length - 1])
                        .orElse("?"))
                .append(" ===\n");
        Path tasks = Path.of("/proc", Long.toString(child.pid()), "task");
        try (Stream<Path> all = Files.list(tasks)) {
            for (Path task : all.sorted().toList()) {
                out.append(task.getFileName()).append(' ')
                        .append(read(task.resolve("comm"))).append(' ')
                        .append(state(read(task.resolve("stat")))).append(" in ")
                        .append(read(task.resolve("wchan"))).append('\n');
            }
        } catch (IOException | UncheckedIOException e) {
            out.append("(gone: ").append(e).append(")\n");
        }
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8).strip();
    }

    /** The state letter of a /proc stat line, after the parenthesised name. */
    private static String state(String stat) {
        int close = stat.lastIndexOf(')');
        return close < 0 || close + 2 >= stat.length() ? "?" : stat.substring(close + 2, close + 3);
    }
}
