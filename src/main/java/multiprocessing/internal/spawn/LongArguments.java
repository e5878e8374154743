package multiprocessing.internal.spawn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.internal.util.TempDir;

/**
 * A path option too long for one argument of exec(2): Linux takes no single argument or
 * environment string over 128 KiB (MAX_ARG_STRLEN), and a class path of a few thousand jars
 * ({@code -cp 'lib/*'}, which the launcher expanded for the parent, or an {@code @argfile})
 * made every start fail with E2BIG (attack 48). Such an option goes to the child's java
 * launcher as an argument file ({@code @file}, as IDEs shorten a command line), written once
 * per distinct value in this process's private directory: only this user can write there, so
 * no one else can slip options into a child. A child's launcher reads it right after exec,
 * while this process lives (it waits for its starts in flight at exit).
 */
public final class LongArguments {
    private LongArguments() {}

    /** Below MAX_ARG_STRLEN (131,072 bytes with the NUL), with room for the option's name. */
    static final int LIMIT = 100_000;

    private static final Map<String, Path> WRITTEN = new ConcurrentHashMap<>();

    /** Whether {@code value} fits in one argument of exec, with room for an option's name. */
    public static boolean fits(String value) {
        return value.getBytes(StandardCharsets.UTF_8).length < LIMIT;
    }

    /** {@code option} and {@code value} as arguments: themselves, or {@code @file} if long. */
    static List<String> of(String option, String value) {
        if (fits(value)) {
            return List.of(option, value);
        }
        return List.of("@" + WRITTEN.computeIfAbsent(option + " " + value, LongArguments::write));
    }

    private static Path write(String optionAndValue) {
        int space = optionAndValue.indexOf(' ');
        String option = optionAndValue.substring(0, space);
        String value = optionAndValue.substring(space + 1);
        // In quotes, which a path with a blank needs; the launcher reads a backslash there as
        // an escape, and ends a token at a raw line end even in quotes (attack 49), so
        // backslashes, quotes and control characters are escaped.
        String text = option + " \"" + value.replace("\\", "\\\\").replace("\"", "\\\"")
                .replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
                .replace("\f", "\\f") + "\"\n";
        try {
            Path dir = TempDir.get();
            Path file = dir.resolve("args-" + Integer.toHexString(optionAndValue.hashCode())
                    + "-" + WRITTEN.size());
            Path partial = Files.createTempFile(dir, "args-", ".partial");
            Files.writeString(partial, text, StandardCharsets.UTF_8);
            return Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the argument file for a child's "
                    + option + " of " + value.length() + " characters (longer than one"
                    + " argument of exec can be)", e);
        }
    }
}
