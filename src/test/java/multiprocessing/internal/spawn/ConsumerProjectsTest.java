package multiprocessing.internal.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import multiprocessing.NoLeftoverProcesses;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library as a new user meets it: installed in a Maven repository, and a small consumer
 * project that depends on io.github.multiprocessing:multiprocessing and starts a Process and a
 * Pool of 2, run by {@code mvn compile exec:java}, as a shaded jar, from jshell, and as a
 * Spring Boot 4.0.7 executable jar, and a modular application that requires the library's module
 * and runs on the module path. The library is installed into a private local repository
 * (the shared one stays untouched; Maven reads plugins from it as a read-only tail). Skipped,
 * saying why, when Maven Central cannot be reached (the consumer's plugins may need it).
 */
@ExtendWith(NoLeftoverProcesses.class)
@Timeout(600)
class ConsumerProjectsTest {
    @TempDir
    static Path dir;
    private static Path project;
    private static Path repo;
    private static String version;
    private static String dependencyPath;

    static final String POM = """
            <?xml version="1.0" encoding="UTF-8"?>
            <project xmlns="http://maven.apache.org/POM/4.0.0"
                     xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                     xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
              <modelVersion>4.0.0</modelVersion>
              <groupId>demo</groupId>
              <artifactId>consumer</artifactId>
              <version>1.0</version>
              <properties>
                <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
                <maven.compiler.release>22</maven.compiler.release>
              </properties>
              <dependencies>
                <dependency>
                  <groupId>io.github.multiprocessing</groupId>
                  <artifactId>multiprocessing</artifactId>
                  <version>@VERSION@</version>
                </dependency>
              </dependencies>
              <build>
                <plugins>
                  <plugin>
                    <groupId>org.apache.maven.plugins</groupId>
                    <artifactId>maven-compiler-plugin</artifactId>
                    <version>3.14.0</version>
                  </plugin>
                  <plugin>
                    <groupId>org.apache.maven.plugins</groupId>
                    <artifactId>maven-jar-plugin</artifactId>
                    <version>3.3.0</version>
                  </plugin>
                  <plugin>
                    <groupId>org.codehaus.mojo</groupId>
                    <artifactId>exec-maven-plugin</artifactId>
                    <version>3.5.0</version>
                  </plugin>
                </plugins>
              </build>
              <profiles>
                <profile>
                  <id>shade</id>
                  <build>
                    <plugins>
                      <plugin>
                        <groupId>org.apache.maven.plugins</groupId>
                        <artifactId>maven-shade-plugin</artifactId>
                        <version>3.6.0</version>
                        <executions>
                          <execution>
                            <phase>package</phase>
                            <goals><goal>shade</goal></goals>
                            <configuration>
                              <shadedArtifactAttached>true</shadedArtifactAttached>
                              <filters>
                                <filter>
                                  <artifact>*:*</artifact>
                                  <excludes>
                                    <exclude>META-INF/*.SF</exclude>
                                    <exclude>META-INF/*.DSA</exclude>
                                    <exclude>META-INF/*.RSA</exclude>
                                  </excludes>
                                </filter>
                              </filters>
                              <transformers>
                                <transformer implementation="org.apache.maven.plugins.shade.resource.ManifestResourceTransformer">
                                  <mainClass>demo.App</mainClass>
                                </transformer>
                              </transformers>
                            </configuration>
                          </execution>
                        </executions>
                      </plugin>
                    </plugins>
                  </build>
                </profile>
                <profile>
                  <id>boot</id>
                  <build>
                    <plugins>
                      <plugin>
                        <groupId>org.springframework.boot</groupId>
                        <artifactId>spring-boot-maven-plugin</artifactId>
                        <version>4.0.7</version>
                        <executions>
                          <execution>
                            <goals><goal>repackage</goal></goals>
                            <configuration>
                              <mainClass>demo.App</mainClass>
                              <classifier>boot</classifier>
                            </configuration>
                          </execution>
                        </executions>
                      </plugin>
                    </plugins>
                  </build>
                </profile>
              </profiles>
            </project>
            """;

    static final String JSHELL = """
            import multiprocessing.*;
            import multiprocessing.connection.*;
            SerializableRunnable reply(Connection up) { return () -> up.send("hello " + Multiprocessing.currentProcess().name()); }
            var pipe = Pipe.open(false);
            var p = new multiprocessing.Process(reply(pipe.right()));
            p.start();
            System.out.println("process says " + pipe.left().recv());
            p.join();
            System.out.println("process exit " + p.exitCode());
            var pool = Multiprocessing.getContext().pool(2);
            System.out.println("pool " + pool.map((Integer x) -> x * x, java.util.List.of(1, 2, 3)));
            pool.close();
            var talker = new multiprocessing.Process(() -> { System.out.println("child prints to its stdout"); System.err.println("child prints to its stderr"); throw new IllegalStateException("child fails"); });
            talker.start();
            talker.join();
            System.out.println("talker exit " + talker.exitCode());
            /exit
            """;

    @BeforeAll
    static void setUp() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("repo.maven.apache.org", 443), 5000);
        } catch (IOException e) {
            Assumptions.abort("Maven Central (repo.maven.apache.org) is unreachable here (" + e
                    + "): the consumer projects' plugins may need it");
        }
        Path root = Path.of("").toAbsolutePath();
        Assumptions.assumeTrue(Files.isExecutable(root.resolve("mvnw")),
                "no ./mvnw in " + root + ": not run from the project");
        Matcher m = Pattern.compile("<artifactId>multiprocessing</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(root.resolve("pom.xml")));
        assertTrue(m.find(), "the project's version");
        version = m.group(1);
        repo = dir.resolve("repo");
        install(root);
        project = dir.resolve("consumer");
        Files.createDirectories(project.resolve("src/main/java/demo"));
        Files.writeString(project.resolve("pom.xml"), POM.replace("@VERSION@", version));
        Files.writeString(project.resolve("src/main/java/demo/App.java"),
                UrlClassLoaderTest.APP.replace("Multiprocessing.getContext(args[0])",
                        "Multiprocessing.getContext(args.length > 0 ? args[0] : \"spawn\")"));
        Files.copy(root.resolve("mvnw"), project.resolve("mvnw"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.createDirectories(project.resolve(".mvn/wrapper"));
        Files.copy(root.resolve(".mvn/wrapper/maven-wrapper.properties"),
                project.resolve(".mvn/wrapper/maven-wrapper.properties"));
    }

    /** What {@code ./mvnw install} puts in a local repository: the jar and the pom. */
    private static void install(Path root) throws IOException {
        Path classes = null;
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (Files.isRegularFile(Path.of(e, "multiprocessing/Process.class"))) {
                classes = Path.of(e);
            }
        }
        assertTrue(classes != null, "the library's classes are on the test's class path");
        Path to = Files.createDirectories(
                repo.resolve("io/github/multiprocessing/multiprocessing").resolve(version));
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(
                to.resolve("multiprocessing-" + version + ".jar")));
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString()));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        Files.copy(root.resolve("pom.xml"), to.resolve("multiprocessing-" + version + ".pom"));
    }

    private static String mvn(String... goals) throws Exception {
        List<String> command = new ArrayList<>(List.of("./mvnw", "-B", "-q",
                "-Dmaven.repo.local=" + repo,
                "-Dmaven.repo.local.tail=" + Path.of(System.getProperty("user.home"), ".m2", "repository")));
        command.addAll(List.of(goals));
        return run(command, project, Map.of("JAVA_HOME", System.getProperty("java.home")));
    }

    private static String run(List<String> command, Path cwd, Map<String, String> env)
            throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile())
                .redirectErrorStream(true);
        pb.environment().putAll(env);
        java.lang.Process p = pb.start();
        String output;
        try {
            output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(300, TimeUnit.SECONDS), String.join(" ", command) + ": " + output);
        } finally {
            p.destroyForcibly();
        }
        if (p.exitValue() != 0 && (output.contains("Could not transfer artifact")
                || output.contains("Could not resolve dependencies")
                || output.contains("Unresolveable build extension")
                || output.contains("could not be resolved"))) {
            Assumptions.abort("cannot resolve what " + String.join(" ", command)
                    + " needs from Maven Central: " + output.lines().filter(l -> l.contains("ERROR"))
                            .findFirst().orElse(output));
        }
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + output);
        return output;
    }

    private static void assertRanProcessAndPool(String output) {
        assertTrue(output.contains("process 0 Greeting[text=hello, n=7]"), output);
        assertTrue(output.contains("pool [Greeting[text=sq, n=1], Greeting[text=sq, n=4], "
                + "Greeting[text=sq, n=9]]"), output);
    }

    /** The consumer's resolved dependencies (the installed library and Fory), once for all tests. */
    private static synchronized String dependencyPath() throws Exception {
        if (dependencyPath == null) {
            mvn("org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath",
                    "-Dmdep.outputFile=cp.txt");
            dependencyPath = Files.readString(project.resolve("cp.txt")).strip();
        }
        return dependencyPath;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    @Test
    void mvnExecJava() throws Exception {
        assertRanProcessAndPool(mvn("compile", "exec:java", "-Dexec.mainClass=demo.App"));
    }

    @Test
    void aShadedJar() throws Exception {
        mvn("-Pshade", "package");
        assertRanProcessAndPool(run(List.of(java(), "--enable-native-access=ALL-UNNAMED",
                "-jar", project.resolve("target/consumer-1.0-shaded.jar").toString()),
                project, Map.of()));
    }

    @Test
    void aSpringBootJar() throws Exception {
        mvn("-Pboot", "package");
        assertRanProcessAndPool(run(List.of(java(), "--enable-native-access=ALL-UNNAMED",
                "-jar", project.resolve("target/consumer-1.0-boot.jar").toString()),
                project, Map.of()));
    }

    @Test
    void jshellWithTheLibraryOnItsClassPath() throws Exception {
        String classPath = dependencyPath();
        Path script = Files.writeString(project.resolve("demo.jsh"), JSHELL);
        String output = run(List.of(Path.of(System.getProperty("java.home"), "bin", "jshell")
                .toString(), "--class-path", classPath, "-R--enable-native-access=ALL-UNNAMED",
                script.toString()), project, Map.of());
        assertTrue(output.contains("process says hello Process-1"), output);
        assertTrue(output.contains("process exit 0"), output);
        assertTrue(output.contains("pool [1, 4, 9]"), output);
        // What a child prints shows in jshell, as in a program: it went to the snippet JVM's
        // descriptors, which jshell does not show (attack 48).
        assertTrue(output.contains("child prints to its stdout"), output);
        assertTrue(output.contains("child prints to its stderr"), output);
        assertTrue(output.contains("IllegalStateException: child fails"), output);
        assertTrue(output.contains("talker exit 1"), output);
    }

    /**
     * The installed jar as a module: an application module that requires it, on the module path
     * with its dependencies, given nothing but native access. The library's module requires
     * jdk.unsupported for Fory, so no --add-modules is needed; without --add-opens
     * java.base/java.lang.invoke Fory falls back to sun.misc.Unsafe, which JDK 24+ warns about
     * in this JVM only: the children (a process and two pool workers) print no warning.
     */
    @Test
    void aModularApplicationOnTheModulePath() throws Exception {
        String modulePath = dependencyPath();
        Path src = Files.createDirectories(dir.resolve("modular-src/demo"));
        Files.writeString(src.resolveSibling("module-info.java"),
                // A manager calls the registered type's methods from the library's module,
                // so the package that holds it is exported to the library (as to any framework).
                "module demo.modular { requires multiprocessing; exports demo to multiprocessing; }\n");
        Files.writeString(src.resolve("App.java"), UrlClassLoaderTest.APP);
        Path out = dir.resolve("modular");
        java.io.ByteArrayOutputStream errors = new java.io.ByteArrayOutputStream();
        int rc = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, errors, errors,
                "-d", out.toString(), "-proc:none", "--module-path", modulePath,
                src.resolveSibling("module-info.java").toString(), src.resolve("App.java").toString());
        assertEquals(0, rc, "the modular application compiles: " + errors.toString(StandardCharsets.UTF_8));
        String output = run(List.of(java(), "--enable-native-access=multiprocessing",
                "--module-path", out + File.pathSeparator + modulePath,
                "-m", "demo.modular/demo.App", "spawn"), project, Map.of());
        assertRanProcessAndPool(output);
        assertTrue(output.contains("process 0 Greeting"), output);
        long unsafeWarnings = output.lines()
                .filter(l -> l.contains("sun.misc.Unsafe") && l.contains("has been called by"))
                .count();
        assertTrue(unsafeWarnings <= 1, "only the parent may warn about Unsafe: " + output);
        assertFalse(output.contains("restricted method"), output);
    }
}
