package multiprocessing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU times (user+sys, in ms) from /proc/self/stat, for tests that report what starting many
 * processes cost. Linux counts them in clock ticks of 10 ms.
 */
public final class CpuTimes {
    private CpuTimes() {}

    /** This JVM's own CPU time, all its threads. */
    public static long self() throws IOException {
        String[] f = fields();
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
    }

    /** The CPU time of this JVM's children that have ended and been reaped. */
    public static long reapedChildren() throws IOException {
        String[] f = fields();
        return (Long.parseLong(f[13]) + Long.parseLong(f[14])) * 10;
    }

    /** The fields after the command name (which may hold spaces): utime is [11]. */
    private static String[] fields() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }
}
