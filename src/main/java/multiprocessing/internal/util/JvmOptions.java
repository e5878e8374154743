package multiprocessing.internal.util;

import java.util.Arrays;
import java.util.List;

/** What {@code Context.withJvmOptions} accepts, checked where the options are given. */
public final class JvmOptions {
    private JvmOptions() {}

    /**
     * {@code options} as a list, each checked.
     *
     * @throws NullPointerException if one is null
     * @throws IllegalArgumentException if one is empty or blank, or starts with neither '-' nor
     *         '@' (an argument file) and is no value of the option before it: the {@code java}
     *         command would take it for the class to run, and the child would only say that it
     *         cannot find the library; or if the last takes the next argument as its value
     */
    public static List<String> checked(String... options) {
        java.util.Objects.requireNonNull(options, "options");
        String previous = null;
        for (String option : options) {
            if (option == null) {
                throw new NullPointerException("a JVM option is null: " + Arrays.toString(options));
            }
            if (option.isBlank()) {
                throw new IllegalArgumentException("a JVM option is empty: "
                        + Arrays.toString(options));
            }
            if (RUNS_SOMETHING_ELSE.contains(option)) {
                // The library names the class its child runs: these would run another.
                throw new IllegalArgumentException("'" + option + "' would have the child run"
                        + " something else than the library's start code: "
                        + Arrays.toString(options));
            }
            boolean isValue = previous != null && TAKES_NEXT.contains(previous);
            if (isValue && option.startsWith("-")) {
                // No value of these starts with '-': the value was left out.
                throw new IllegalArgumentException("'" + previous + "' takes the next argument"
                        + " as its value, and '" + option + "' is an option, not its value: "
                        + Arrays.toString(options));
            }
            // '@': an argument file, which the launcher reads in its place.
            if (!option.startsWith("-") && !option.startsWith("@") && !isValue) {
                throw new IllegalArgumentException("'" + option + "' is no JVM option (they start"
                        + " with '-', or are the value of one that takes the next argument, as"
                        + " --add-opens does, or name an @argfile); the java command would take"
                        + " it for the class to run: " + Arrays.toString(options));
            }
            previous = isValue ? null : option;
        }
        if (previous != null && TAKES_NEXT.contains(previous)) {
            // The launcher would take what follows in the child's command line, the library's
            // class path, for its value, and every child would fail to start.
            throw new IllegalArgumentException("'" + previous + "' takes the next argument as"
                    + " its value, and none follows it (give an option and its value in one"
                    + " call): " + Arrays.toString(options));
        }
        return List.of(options);
    }

    /** The java launcher's options that name what to run instead of a class. */
    private static final java.util.Set<String> RUNS_SOMETHING_ELSE = java.util.Set.of("-jar",
            "-m", "--module");

    /** The java launcher's options whose value is the next argument. */
    private static final java.util.Set<String> TAKES_NEXT = java.util.Set.of("-cp", "-classpath",
            "--class-path", "-p", "--module-path", "--upgrade-module-path", "--add-modules",
            "--limit-modules", "--add-reads", "--add-exports", "--add-opens", "--patch-module",
            "--enable-native-access", "--source");
}
