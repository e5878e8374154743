package multiprocessing.internal.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;

import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Lambdas, methods and records typed into jshell (the jdk.jshell API, executing in this JVM as
 * jshell does with the library on its class path) run in child processes and pool workers:
 * their classes exist only in jshell's memory, and a child asks the parent for them.
 */
@ExtendWith(NoLeftoverProcesses.class)
@ExtendWith(NoLeftoverSharedMemory.class)
@Timeout(180)
class JshellTest {
    @AfterAll
    static void stopWarmJvms() {
        multiprocessing.internal.forkserver.ForkServer.stopAll();
    }

    @ParameterizedTest
    @ValueSource(strings = {"spawn", "forkserver"})
    void snippetsRunInAProcessAndAPool(String method) throws Exception {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(output, true);
        try (JShell js = JShell.builder().executionEngine("local").out(out).err(out).build()) {
            js.addToClasspath(System.getProperty("java.class.path"));
            Session s = new Session(js, output);
            try {
                run(s, method);
            } finally {
                // Whatever failed, no child may outlive the test.
                for (String cleanup : List.of("pool.terminate();", "p.terminate();", "q.terminate();")) {
                    js.eval(cleanup);
                }
            }
        }
    }

    private static void run(Session s, String method) {
        s.eval("import multiprocessing.*;");
        s.eval("import multiprocessing.connection.*;");
        s.eval("record Point(int x, int y) {}");
        // A snippet's top-level variables are static fields of jshell's classes, fresh in a
        // child: what a child needs is captured through a method's parameters.
        s.eval("SerializableRunnable reply(Connection up, int n) {"
                + " return () -> up.send(new Point(n, n * 2)); }");
        s.eval("var ctx = Multiprocessing.getContext(\"" + method + "\");");
        s.eval("var pipe = Pipe.open(false);");
        s.eval("var p = ctx.process(reply(pipe.right(), 21));");
        s.eval("p.start();");
        // Bounded, so that a child that failed (its error is on stderr) fails the test naming
        // its exit code rather than leaving recv() to wait for a message that cannot come.
        if (!"true".equals(s.eval("pipe.left().poll(java.time.Duration.ofSeconds(120))"))) {
            fail("no message from the child within 120 s; its exit code: "
                    + s.eval("p.exitCode()") + "\noutput: " + s.output());
        }
        assertEquals("Point[x=21, y=42]", s.eval("pipe.left().recv()"));
        s.eval("p.join(java.time.Duration.ofSeconds(120));");
        assertEquals("0", s.eval("p.exitCode()"));
        s.eval("var q = ctx.process(() -> System.exit("
                + "Multiprocessing.currentProcess().name().isEmpty() ? 3 : 7));");
        s.eval("q.start();");
        s.eval("q.join(java.time.Duration.ofSeconds(120));");
        assertEquals("7", s.eval("q.exitCode()"), "a lambda typed at the prompt ran");
        s.eval("var pool = ctx.pool(2);");
        assertEquals("[Point[x=1, y=1], Point[x=2, y=4], Point[x=3, y=9]]",
                s.eval("pool.map((Integer x) -> new Point(x, x * x), java.util.List.of(1, 2, 3))"));
        s.eval("pool.close();");
        s.eval("pipe.close(); p.close(); q.close();");
    }

    /** Evaluates snippets, failing the test on a rejected snippet or an exception. */
    private record Session(JShell js, ByteArrayOutputStream output) {
        String eval(String code) {
            List<SnippetEvent> events = js.eval(code);
            String value = null;
            for (SnippetEvent e : events) {
                if (e.exception() != null) {
                    java.io.StringWriter trace = new java.io.StringWriter();
                    e.exception().printStackTrace(new java.io.PrintWriter(trace));
                    fail(code + " threw " + trace + "\noutput: " + output);
                }
                if (e.status() == Snippet.Status.REJECTED) {
                    fail(code + " was rejected: " + js.diagnostics(e.snippet())
                            .map(d -> d.getMessage(null)).toList());
                }
                if (e.causeSnippet() == null) {
                    value = e.value();
                }
            }
            return value;
        }
    }
}
