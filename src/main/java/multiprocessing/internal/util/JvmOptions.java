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
     * @throws IllegalArgumentException if one is empty or blank: the {@code java} command would
     *         take it for the class to run, and the child would only say that it cannot find
     *         the library
     */
    public static List<String> checked(String... options) {
        for (String option : options) {
            if (option == null) {
                throw new NullPointerException("a JVM option is null: " + Arrays.toString(options));
            }
            if (option.isBlank()) {
                throw new IllegalArgumentException("a JVM option is empty: "
                        + Arrays.toString(options));
            }
        }
        return List.of(options);
    }
}
