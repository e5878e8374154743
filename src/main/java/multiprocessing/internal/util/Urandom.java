package multiprocessing.internal.util;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;

/**
 * Random bytes from the kernel, read as Python's {@code os.urandom} reads them: for
 * authentication keys and names no one may guess. {@link SecureRandom} reads the same source on
 * Linux, but its first use in a JVM sets up the security providers (~50 classes), ~25 ms of a
 * program's first start (bench/RESULTS.md, tenth session); it does the job only where
 * {@code /dev/urandom} cannot be read.
 */
public final class Urandom {
    private Urandom() {}

    /** {@code n} random bytes. */
    public static byte[] bytes(int n) {
        byte[] b = new byte[n];
        java.io.File source = new java.io.File("/dev/urandom");
        // A regular file there (a hand-made chroot's copy) would give the same bytes each time.
        try (InputStream in = source.isFile() ? InputStream.nullInputStream()
                : new FileInputStream(source)) {
            if (in.readNBytes(b, 0, n) == n) {
                return b;
            }
        } catch (IOException e) {
            // no /dev/urandom here (a chroot, a sandbox): the JDK's own source, below
        }
        new SecureRandom().nextBytes(b);
        return b;
    }

    /** A random long. */
    public static long nextLong() {
        byte[] b = bytes(Long.BYTES);
        long v = 0;
        for (byte x : b) {
            v = v << 8 | (x & 0xff);
        }
        return v;
    }
}
