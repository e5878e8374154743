package multiprocessing.internal.spawn;

/** Spring Boot's nested jars as files a child's class path can name. */
final class BootJars {
    private BootJars() {}

    /** A class-path entry for Boot's nested URL {@code url}, or null. */
    static String entryOf(String url) {
        return null;
    }
}
