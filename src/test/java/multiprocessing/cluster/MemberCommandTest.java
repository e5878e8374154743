package multiprocessing.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.SerializableCallable;
import multiprocessing.pool.Pool;
import multiprocessing.pool.WorkerLostException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Members started with the {@link Member} command, as on other machines; and a chunk that loses
 * its member twice.
 */
@ExtendWith(NoLeftoverProcesses.class)
class MemberCommandTest {
    private static final Pattern PRINTED = Pattern.compile("at (127\\.0\\.0\\.1:\\d+) with 1 workers");

    static String testClassPath() {
        // Under surefire java.class.path is a manifest-only jar; the real entries are here.
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    static ProcessBuilder java(String classPath, String main, String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-Dhazelcast.logging.type=none", "-cp", classPath, main));
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    private static Process member(String name, int port, String join, Path log) throws Exception {
        List<String> args = new ArrayList<>(List.of("--name", name, "--port", String.valueOf(port),
                "--workers", "1"));
        if (join != null) {
            args.addAll(List.of("--member", join));
        }
        ProcessBuilder pb = java(testClassPath(), Member.class.getName(), args.toArray(String[]::new))
                .redirectError(log.toFile());
        pb.environment().put(Member.AUTHKEY_ENV,
                HexFormat.of().formatHex(Multiprocessing.currentProcess().authKey()));
        return pb.start();
    }

    private static String address(Process member) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(member.getInputStream(),
                StandardCharsets.UTF_8));
        String line = out.readLine();
        Matcher m = PRINTED.matcher(String.valueOf(line));
        assertTrue(m.find(), "the member printed its address: " + line);
        return m.group(1);
    }

    /** Kills the member JVM it runs in (its worker's parent), then waits to be killed with it. */
    static int killMyMember() throws InterruptedException {
        long member = Multiprocessing.parentProcess().orElseThrow().pid();
        ProcessHandle.of(member).ifPresent(ProcessHandle::destroyForcibly);
        Thread.sleep(60_000);
        return 0;
    }

    @Test
    void aChunkWhoseMemberIsLostTwiceFailsNamingTheSecond(@TempDir Path dir) throws Exception {
        ChildMember.quiet();
        String name = "member-command-" + ProcessHandle.current().pid();
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1,
                java.net.InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        Process d = member(name, port, null, dir.resolve("d.log"));
        Process e = member(name, 0, "127.0.0.1:" + port, dir.resolve("e.log"));
        List<ProcessHandle> workers = new ArrayList<>();
        try {
            String dAddress = address(d);
            String eAddress = address(e);
            assertEquals("127.0.0.1:" + port, dAddress);
            assertTrue(d.isAlive() && e.isAlive(), "members stay up");
            try (Cluster client = Cluster.connect(ClusterConfig.builder().name(name).member(dAddress).build())) {
                assertEquals(Set.of(dAddress, eAddress), Set.copyOf(client.members()));
                Pool pool = client.pool();
                assertEquals(2, pool.processes());
                assertEquals(List.of(2, 4), pool.map(x -> x * 2, List.of(1, 2)));
                for (Process p : List.of(d, e)) {
                    p.toHandle().children().forEach(workers::add);
                }
                SerializableCallable<Integer> task = MemberCommandTest::killMyMember;
                WorkerLostException lost = assertThrows(WorkerLostException.class, () -> pool.apply(task));
                assertTrue(d.waitFor(30, TimeUnit.SECONDS) && e.waitFor(30, TimeUnit.SECONDS),
                        "both members were killed by the task");
                assertEquals(137, d.exitValue(), "SIGKILL");
                assertEquals(137, e.exitValue(), "SIGKILL");
                Process second = lost.pid() == d.pid() ? d : e;
                String secondAddress = second == d ? dAddress : eAddress;
                String firstAddress = second == d ? eAddress : dAddress;
                assertTrue(lost.pid() == d.pid() || lost.pid() == e.pid(), "the pid of a member: " + lost);
                assertTrue(lost.getMessage().contains("member " + secondAddress + " (pid " + second.pid() + ")")
                        && lost.getMessage().contains(firstAddress), lost.getMessage());
                pool.terminate();
            }
        } finally {
            for (Process p : List.of(d, e)) {
                p.destroyForcibly();
                p.waitFor();
            }
        }
        // Workers end when their member dies, even killed.
        assertTrue(!workers.isEmpty(), "the members had workers");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (workers.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(workers.stream().noneMatch(ProcessHandle::isAlive), "workers left: " + workers);
    }

    @Test
    void theCommandRefusesWhatItCannotUse() {
        assertThrows(IllegalArgumentException.class, () -> Member.parse(new String[] {"--port", "1"}, "00ff"),
                "--name is required");
        assertThrows(IllegalArgumentException.class, () -> Member.parse(new String[] {"--name", "n"}, null),
                "the key is required");
        assertThrows(IllegalArgumentException.class, () -> Member.parse(new String[] {"--name", "n"}, "xyz"));
        assertThrows(IllegalArgumentException.class,
                () -> Member.parse(new String[] {"--name", "n", "--workers", "0"}, "00ff"));
        assertThrows(IllegalArgumentException.class, () -> Member.parse(new String[] {"--name"}, "00ff"));
        ClusterConfig c = Member.parse(new String[] {"--name", "n", "--bind", "127.0.0.1", "--port", "0",
                "--member", "10.0.0.1:5702", "--member", "10.0.0.2", "--workers", "3"}, "00ff");
        assertEquals("n", c.name());
        assertEquals(0, c.port());
        assertEquals(List.of("10.0.0.1:5702", "10.0.0.2:5701"), c.members());
        assertEquals(3, c.workers());
        assertEquals(List.of((byte) 0, (byte) -1), List.of(c.authKey()[0], c.authKey()[1]));
    }

    @Test
    void withoutHazelcastTheRestOfTheLibraryWorksAndTheClusterSaysWhatIsMissing() throws Exception {
        String withoutHazelcast = String.join(File.pathSeparator, List.of(testClassPath()
                .split(File.pathSeparator)).stream().filter(e -> !e.contains("hazelcast")).toList());
        Process p = java(withoutHazelcast, WithoutHazelcast.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("pool [1, 4, 9]"), out);
        assertTrue(out.contains("hazelcast absent"), out);
        assertTrue(out.contains("start: IllegalStateException: multiprocessing.cluster runs on Hazelcast"), out);
        assertTrue(out.contains("connect: IllegalStateException: multiprocessing.cluster runs on Hazelcast"), out);
        assertTrue(out.contains("com.hazelcast:hazelcast:5.7.0"), out);
    }
}
