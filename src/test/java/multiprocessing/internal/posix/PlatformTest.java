package multiprocessing.internal.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The libc layer refuses, before any native call, a platform its bindings were not made for: on
 * another one its calls would link and run with another platform's numbers (aarch64's system
 * call 202 is accept, not futex).
 */
@Timeout(120)
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
class PlatformTest {
    @Test
    void onlyLinuxOnX8664IsSupported() {
        assertNull(Errno.unsupported("Linux", "amd64"));
        assertNull(Errno.unsupported("Linux", "x86_64"));
        for (String[] other : List.of(new String[] {"Linux", "aarch64"},
                new String[] {"Mac OS X", "aarch64"}, new String[] {"Mac OS X", "x86_64"},
                new String[] {"Windows 11", "amd64"}, new String[] {"FreeBSD", "amd64"})) {
            String why = Errno.unsupported(other[0], other[1]);
            assertNotNull(why, String.join(" ", other));
            assertTrue(why.contains("runs on Linux x86-64 only, and this JVM runs on "
                    + other[0] + " " + other[1]), why);
        }
    }

    @Test
    void aJvmOnAnotherPlatformFailsEachFirstUseClearlyAndStartsNothing() throws Exception {
        java.lang.Process jvm = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dos.arch=aarch64",
                "-cp", System.getProperty("java.class.path"), PlatformHarness.class.getName())
                .start();
        jvm.getOutputStream().close();
        assertTrue(jvm.waitFor(60, TimeUnit.SECONDS), "the harness JVM did not end");
        String out = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(jvm.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, jvm.exitValue(), out + err);
        // Nothing printed by a thread of the library's that met the refusal on its own.
        assertEquals("", err.strip());
        List<String> lines = out.lines().toList();
        List<String> tried = List.of("process", "lock", "pipe", "value", "queue", "sharedMemory",
                "queue", "lock", "process");
        assertEquals(tried.size() + 1, lines.size(), out);
        String why = "multiprocessing for Java runs on Linux x86-64 only, and this JVM runs on"
                + " Linux aarch64";
        // The first use fails with the refusal itself; the later ones name it too, also those
        // of a class whose initializer met it before.
        assertTrue(lines.get(0).startsWith("process java.lang.UnsatisfiedLinkError: " + why),
                lines.get(0));
        for (int i = 1; i < tried.size(); i++) {
            assertTrue(lines.get(i).startsWith(tried.get(i) + " ") && lines.get(i).contains(why),
                    lines.get(i));
        }
        assertEquals("children 0", lines.get(tried.size()));
    }
}
