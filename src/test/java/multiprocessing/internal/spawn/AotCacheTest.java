package multiprocessing.internal.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.Process;
import multiprocessing.internal.reduction.Serialization;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AOT cache decisions, made against a fake JDK and class path in a temporary directory, so
 * that no JVM is started except by the trainer-script tests (sh) and the one end-to-end test.
 */
@Timeout(120)
@ExtendWith(NoLeftoverProcesses.class)
class AotCacheTest {
    private static final List<String> LIBRARY = List.of("-Xrs", "--enable-native-access=ALL-UNNAMED");

    @TempDir
    Path tmp;

    private Path launcher;
    private Path cacheDir;

    private AotCache cache(boolean enabled, int feature, String classPath) throws IOException {
        Path home = tmp.resolve("jdk");
        launcher = home.resolve("bin").resolve("java");
        if (!Files.exists(launcher)) {
            Files.createDirectories(launcher.getParent());
            Files.createFile(launcher, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        cacheDir = tmp.resolve("cache");
        return new AotCache(new AotCache.Environment(enabled, feature, home, "25+test",
                classPath, "", cacheDir, Path.of("/bin/sh"), library(classPath), List.of()));
    }

    /** The first jar plays the library's part (the trainer needs it in a jar). */
    private static Path library(String classPath) {
        return Stream.of(classPath.split(":")).map(Path::of).filter(Files::isRegularFile)
                .findFirst().orElse(null);
    }

    private Path jar(String name, String content) throws IOException {
        Path jar = tmp.resolve(name);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("data.txt"));
            out.write(content.getBytes(StandardCharsets.UTF_8));
        }
        return jar;
    }

    private String classPath(Path... entries) {
        return String.join(":", Stream.of(entries).map(Path::toString).toList());
    }

    @Test
    void keyChangesWhenAClassPathEntryChanges() throws IOException {
        Path a = jar("a.jar", "one");
        Path b = jar("b.jar", "two");
        AotCache c = cache(true, 25, classPath(a, b));
        String before = c.key(LIBRARY);
        assertNotNull(before);
        assertEquals(before, c.key(LIBRARY), "the key is a function of its inputs");

        Files.setLastModifiedTime(b, FileTime.fromMillis(Files.getLastModifiedTime(b).toMillis()
                - 60_000));
        String touched = c.key(LIBRARY);
        assertNotEquals(before, touched, "an entry's mtime is in the key");

        jar("b.jar", "two, longer");
        assertNotEquals(touched, c.key(LIBRARY), "an entry's size is in the key");

        AotCache reordered = cache(true, 25, classPath(b, a));
        assertNotEquals(c.key(LIBRARY), reordered.key(LIBRARY), "the order is in the key");
    }

    @Test
    void keyIgnoresOptionsThatDoNotAffectTheArchive() throws IOException {
        AotCache c = cache(true, 25, classPath(jar("a.jar", "one")));
        String plain = c.key(LIBRARY);
        List<String> tuned = new ArrayList<>(LIBRARY);
        tuned.addAll(List.of("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dworker.id=3", "-XX:-UsePerfData", "-Xlog:gc", "-XX:CompileThresholdScaling=1"));
        assertEquals(plain, c.key(tuned));

        List<String> opened = new ArrayList<>(LIBRARY);
        opened.add("--add-opens=java.base/java.lang=ALL-UNNAMED");
        assertNotEquals(plain, c.key(opened), "module options are in the key");
        opened.set(opened.size() - 1, "-Djdk.module.illegal=x");
        assertNotEquals(plain, c.key(opened));
    }

    private Path classesDir(String name, String... files) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        for (String f : files) {
            Path file = dir.resolve(f);
            Files.createDirectories(file.getParent());
            Files.writeString(file, f);
        }
        return dir;
    }

    /** Trains (a fake cache file) and returns the plan of the next child. */
    private AotCache.Plan trainedPlan(AotCache c, String trainerClassPath) throws IOException {
        AotCache.Training training = c.plan(launcher, LIBRARY, List.of()).training();
        assertNotNull(training);
        assertEquals(trainerClassPath, training.classPath(), "the trainer sees the jars only");
        Files.write(training.target(), new byte[] {1});
        AotCache.Plan plan = c.plan(launcher, LIBRARY, List.of());
        assertEquals(List.of("-XX:AOTCache=" + training.target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + training.target(),
                AotCache.NO_REPLAY), plan.options());
        return plan;
    }

    @Test
    void directoryBeforeTheJarsGoesAfterThemWhenNothingIsInBoth() throws IOException {
        Path dir = classesDir("classes", "app/Main.class", "app.properties");
        Path a = jar("a.jar", "one");
        Path b = jar("b.jar", "two");
        AotCache c = cache(true, 25, classPath(dir, a, b));
        AotCache.Plan plan = trainedPlan(c, classPath(a, b));
        assertEquals(classPath(a, b, dir), plan.classPath(),
                "jars first in their order, then the directory");
        assertEquals(List.of(a.toString(), b.toString()), c.layout().jars());

        Path other = classesDir("other", "app/Other.class");
        assertEquals(c.key(LIBRARY), cache(true, 25, classPath(other, a, b)).key(LIBRARY),
                "the directories are not in the cache, so not in the key");
    }

    /** A jar holding {@code names}, each a small file, and a manifest with {@code classPath}. */
    private Path jarOf(String name, String classPath, String... names) throws IOException {
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        if (classPath != null) {
            manifest.getMainAttributes().put(java.util.jar.Attributes.Name.CLASS_PATH, classPath);
        }
        Path jar = tmp.resolve(name);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            for (String n : names) {
                out.putNextEntry(new JarEntry(n));
                out.write(n.getBytes(StandardCharsets.UTF_8));
            }
        }
        return jar;
    }

    private AotCache cache(String classPath, Path library, Path serializer) throws IOException {
        cache(true, 25, classPath); // makes the fake JDK
        return new AotCache(new AotCache.Environment(true, 25, tmp.resolve("jdk"), "25+test",
                classPath, "", cacheDir, Path.of("/bin/sh"), library, List.of(serializer)));
    }

    /**
     * With the program's classes in a directory, the cache holds the library's and the
     * serializer's jars, and a child has those first and the rest in its order: it reaches the
     * directory without opening the program's other jars, and a rebuilt jar of the program
     * keeps the cache.
     */
    @Test
    void withADirectoryTheLibraryAndSerializerJarsGoFirstAndTheRestKeepsItsOrder()
            throws IOException {
        Path dir = classesDir("classes", "app/Main.class");
        Path before = jarOf("before.jar", null, "before/B.class", "META-INF/LICENSE",
                "META-INF/versions/11/module-info.class");
        Path lib = jarOf("lib.jar", null, "multiprocessing/Process.class", "META-INF/LICENSE",
                "module-info.class");
        Path after = jarOf("after.jar", null, "after/A.class");
        Path ser = jarOf("ser.jar", null, "org/apache/fory/Fory.class");
        AotCache c = cache(classPath(dir, before, lib, after, ser), lib, ser);
        AotCache.Plan plan = trainedPlan(c, classPath(lib, ser));
        assertEquals(classPath(lib, ser, dir, before, after), plan.classPath());
        String key = c.key(LIBRARY);
        jarOf("before.jar", null, "before/B.class", "before/Rebuilt.class");
        jarOf("after.jar", null, "after/A.class", "after/Rebuilt.class");
        assertEquals(key, c.key(LIBRARY), "the program's jars are not in the cache's key");

        Path shadow = jarOf("shadow.jar", null, "multiprocessing/Process.class");
        ClassPathLayout all = ClassPathLayout.of(classPath(dir, shadow, lib, ser),
                List.of(lib, ser));
        assertEquals(List.of(shadow.toString(), lib.toString(), ser.toString()), all.jars(),
                "a jar the library's would pass holds one of its names: every jar first");
        Path services = jarOf("services.jar", null, "META-INF/services/x.Y");
        Path libServices = jarOf("lib-services.jar", null, "multiprocessing/Process.class",
                "META-INF/services/x.Y");
        assertEquals(List.of(services.toString(), libServices.toString(), ser.toString()),
                ClassPathLayout.of(classPath(dir, services, libServices, ser),
                        List.of(libServices, ser)).jars(),
                "a service file in both: its providers' order would change");
        // Through symbolic links, as the class loader looks names up: a directory on the
        // class path that is a link, and a link inside one.
        Path shadowing = classesDir("shadowing", "multiprocessing/Process.class");
        Path linkedDir = Files.createSymbolicLink(tmp.resolve("linked"), shadowing);
        assertNull(ClassPathLayout.of(classPath(linkedDir, lib, ser), List.of(lib, ser)),
                "a linked directory holding one of the library's names: no cache");
        Path outer = Files.createDirectories(tmp.resolve("outer"));
        Files.createSymbolicLink(outer.resolve("multiprocessing"),
                shadowing.resolve("multiprocessing"));
        assertNull(ClassPathLayout.of(classPath(outer, lib, ser), List.of(lib, ser)),
                "a linked folder inside a directory: no cache");
        Path listing = jarOf("listing.jar", "more.jar", "listing/L.class");
        assertNull(ClassPathLayout.of(classPath(dir, listing, lib, ser), List.of(lib, ser)),
                "a jar passed by whose manifest brings more entries along (and that would move"
                        + " ahead of the directory itself with every jar first): no cache");
        assertEquals(List.of(lib.toString(), ser.toString()),
                ClassPathLayout.of(classPath(lib, ser, dir, listing), List.of(lib, ser)).jars(),
                "jars after the library's are not read: nothing moves past them");
        assertEquals(List.of(lib.toString(), before.toString()),
                ClassPathLayout.of(classPath(lib, before), List.of(lib, ser)).jars(),
                "without a directory nothing moves, and every jar is the cache's");
        assertEquals(List.of(lib.toString(), after.toString()),
                ClassPathLayout.of(classPath(dir, lib, after), List.of(lib, ser)).jars(),
                "the serializer's jar not on the class path: every jar first");
    }

    @Test
    void directoryAlreadyAfterTheJarsIsNotChecked() throws IOException {
        Path a = jar("a.jar", "one");
        Path dir = classesDir("classes", "data.txt"); // the jar's name too, but the jar wins anyway
        AotCache c = cache(true, 25, classPath(a, dir));
        assertEquals(classPath(a, dir), trainedPlan(c, classPath(a)).classPath());
    }

    @Test
    void aNameInADirectoryAndALaterJarKeepsTheOrderAndGivesNoCache() throws IOException {
        Path a = jar("a.jar", "one"); // holds data.txt
        Path dir = classesDir("classes", "app/Main.class", "data.txt");
        AotCache c = cache(true, 25, classPath(dir, a));
        assertNull(c.key(LIBRARY));
        assertEquals(AotCache.Plan.NONE, c.plan(launcher, LIBRARY, List.of()));

        Path versioned = tmp.resolve("mr.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(versioned))) {
            out.putNextEntry(new JarEntry("META-INF/versions/21/app/Main.class"));
        }
        Path plain = classesDir("plain", "app/Main.class");
        assertNull(ClassPathLayout.of(classPath(plain, versioned)),
                "a multi-release entry resolves under its plain name");
        assertNotNull(ClassPathLayout.of(classPath(plain, jar("c.jar", "x"))));
    }

    @Test
    void aMovedJarWithAManifestClassPathGivesNoCache() throws IOException {
        Path withPath = jarOf("with-path.jar", "more.jar", "x.txt");
        Path dir = classesDir("classes", "app/Main.class");
        assertNull(ClassPathLayout.of(classPath(dir, withPath)));
    }

    @Test
    void noJarsTheCurrentDirectoryAMissingEntryOrAModulePathGiveNoArchiveOptions()
            throws IOException {
        Path dir = classesDir("classes", "app/Main.class");
        Path a = jar("a.jar", "one");
        for (String cp : List.of(classPath(dir), classPath(a) + "::" + dir, "",
                classPath(a, tmp.resolve("missing.jar")))) {
            AotCache c = cache(true, 25, cp);
            assertNull(c.key(LIBRARY), cp);
            assertEquals(AotCache.Plan.NONE, c.plan(launcher, LIBRARY, List.of()), cp);
        }
        cache(true, 25, classPath(a)); // makes the fake JDK
        AotCache modular = new AotCache(new AotCache.Environment(true, 25, tmp.resolve("jdk"),
                "25+test", classPath(a), classPath(a), cacheDir, Path.of("/bin/sh"), a, List.of()));
        assertEquals(AotCache.Plan.NONE, modular.plan(launcher, LIBRARY, List.of()));

        Path libraryDir = classesDir("library-classes", "multiprocessing/Process.class");
        AotCache libraryInADirectory = new AotCache(new AotCache.Environment(true, 25,
                tmp.resolve("jdk"), "25+test", classPath(libraryDir, a), "", cacheDir,
                Path.of("/bin/sh"), libraryDir, List.of()));
        assertEquals(AotCache.Plan.NONE, libraryInADirectory.plan(launcher, LIBRARY, List.of()),
                "the trainer could not start ChildMain from the jars alone");
    }

    /**
     * {@code java -jar app.jar} whose manifest's Class-Path brings the library along (a
     * {@code lib/} beside it, in a directory with a blank, through a second jar's manifest):
     * its children get a cache as with {@code -cp}. They never did: the library was looked for
     * among the class path's own entries only (attack 48).
     */
    @Test
    void aLibraryReachedThroughManifestsGetsACache() throws IOException {
        Files.createDirectories(tmp.resolve("lib dir"));
        Path library = jarOf("lib dir/library.jar", null, "multiprocessing/X.class");
        Path serializer = jarOf("lib dir/serializer.jar", null, "org/apache/fory/Y.class");
        jarOf("lib dir/deps.jar", "serializer.jar library.jar", "deps.txt");
        Path app = jarOf("app.jar", "lib%20dir/deps.jar", "app/Main.class");
        AotCache c = cache(app.toString(), library, serializer);
        AotCache.Plan plan = c.plan(launcher, LIBRARY, List.of());
        assertNotNull(plan.training(), "the library is reached: a cache is trained");
        assertTrue(ClassPathLayout.reachesThroughManifests(List.of(app.toString()), library));
        assertFalse(ClassPathLayout.reachesThroughManifests(
                List.of(tmp.resolve("lib dir/deps.jar").toString()), app), "not backwards");
    }

    @Test
    void firstSpawnTrainsOnceAndAPresentCacheIsUsed() throws IOException {
        AotCache c = cache(true, 25, classPath(jar("a.jar", "one")));
        AotCache.Plan first = c.plan(launcher, LIBRARY, List.of());
        assertEquals(List.of(), first.options(), "no cache yet: the child runs with the default CDS");
        AotCache.Training training = first.training();
        assertNotNull(training);
        assertTrue(Files.exists(training.lock()));
        assertTrue(training.options().contains("-XX:AOTCacheOutput=" + training.output()));
        assertEquals(cacheDir, training.output().getParent());

        AotCache.Plan second = c.plan(launcher, LIBRARY, List.of());
        assertNull(second.training(), "one trainer per key in this JVM");
        AotCache otherJvm = cache(true, 25, classPath(tmp.resolve("a.jar")));
        assertNull(otherJvm.plan(launcher, LIBRARY, List.of()).training(),
                "the lock file keeps another JVM from training the same key");

        Files.write(training.target(), new byte[] {1, 2, 3});
        AotCache.Plan cached = c.plan(launcher, LIBRARY, List.of("-Xmx64m"));
        assertEquals(List.of("-XX:AOTCache=" + training.target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + training.target(),
                AotCache.NO_REPLAY), cached.options());
        assertNull(cached.training());
        assertEquals(List.of("-XX:AOTCache=" + training.target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + training.target()),
                c.plan(launcher, LIBRARY, List.of("-D" + AotCache.WORKOUT_PROPERTY + "=true"))
                        .options(),
                "children whose trainer works out replay what it recorded");
    }

    /**
     * A cache its child's JVM refused (overwritten, cut short, another JDK build's) is
     * deleted and marked, so the key is trained again; refused again while marked, the key is
     * marked failed, and no cache is planned or trained for it (until the marker lapses).
     */
    @Test
    void aRefusedCacheIsTrainedAgainOnceThenTheKeyFails() throws IOException {
        AotCache c = cache(true, 25, classPath(jar("a.jar", "one")));
        AotCache.Training first = c.plan(launcher, LIBRARY, List.of()).training();
        Files.write(first.target(), new byte[] {1});
        Files.write(Path.of(first.target() + AotCache.CLASSES), new byte[0]);
        Files.deleteIfExists(first.lock());
        AotCache.refused(first.target());
        assertFalse(Files.exists(first.target()), "the refused cache is gone");
        assertFalse(Files.exists(Path.of(first.target() + AotCache.CLASSES)));
        assertTrue(Files.exists(Path.of(first.target() + ".refused")));
        // Another JVM (this one trained the key once already) trains it again.
        AotCache other = cache(true, 25, classPath(tmp.resolve("a.jar")));
        AotCache.Training again = other.plan(launcher, LIBRARY, List.of()).training();
        assertNotNull(again, "the key is trained again");
        Files.write(again.target(), new byte[] {2});
        Files.deleteIfExists(again.lock());
        AotCache.refused(again.target());
        String key = again.target().getFileName().toString().replace(".aot", "");
        assertTrue(Files.exists(again.target().resolveSibling(key + ".failed")),
                "refused twice: the key is marked failed");
        AotCache third = cache(true, 25, classPath(tmp.resolve("a.jar")));
        AotCache.Plan plan = third.plan(launcher, LIBRARY, List.of());
        assertNull(plan.training(), "no third training");
        assertEquals(List.of(), plan.options(), "and no cache");
        AotCache.refused(tmp.resolve("no-such-dir").resolve("x.aot")); // never throws
    }

    /** A JVM that reports, as a child does at its start, whether it refused its cache. */
    static final class RefusalReport {
        public static void main(String[] args) {
            AotCache.reportRefused();
        }
    }

    /**
     * The report reads the JVM's own word: one running without any archive (as a refused
     * cache leaves it) has the cache it was told of deleted and marked; one with an archive in
     * use (here the JDK's default one) leaves it alone.
     */
    @Test
    @Timeout(60)
    void aJvmRunningWithoutItsArchiveReportsTheCacheRefused() throws Exception {
        Path cache = tmp.resolve("k-lean.aot");
        for (String share : List.of("-Xshare:auto", "-Xshare:off")) {
            Files.write(cache, new byte[] {1});
            java.lang.Process p = new ProcessBuilder(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), share,
                    "-D" + AotCache.MAPPED_PROPERTY + "=" + cache,
                    "-cp", System.getProperty("java.class.path"), RefusalReport.class.getName())
                    .redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), output);
            boolean off = share.equals("-Xshare:off");
            assertEquals(!off, Files.exists(cache), share);
            assertEquals(off, Files.exists(Path.of(cache + ".refused")), share);
        }
    }

    @Test
    void aCacheTrainedWithoutAChildsClassIsTrainedAgainOncePerJvm() throws IOException {
        AotCache.Kind full = AotCache.Kind.FULL;
        AotCache c = cache(true, 25, classPath(jar("a.jar", "one")));
        c.noteProgramClass("p.First");
        AotCache.Training first = c.plan(launcher, LIBRARY, List.of(), full, "p.First")
                .training();
        c.programClassesOption(first); // as Spawner.startTrainer does: the list beside it
        // The trainer's script: the cache and its list into place, the lock gone.
        Files.write(first.target(), new byte[] {1});
        Files.move(Path.of(first.output() + AotCache.CLASSES),
                Path.of(first.target() + AotCache.CLASSES));
        Files.delete(first.lock());
        List<String> mapped = List.of("-XX:AOTCache=" + first.target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + first.target(),
                AotCache.NO_REPLAY);

        AotCache.Plan same = c.plan(launcher, LIBRARY, List.of(), full, "p.First");
        assertEquals(mapped, same.options());
        assertNull(same.training(), "the cache holds the child's class");
        assertNull(c.plan(launcher, LIBRARY, List.of(), full, null).training(),
                "a child that runs none of the program's classes");
        assertNull(c.plan(launcher, LIBRARY, List.of(), full, "p.NeverNoted").training(),
                "a class not noted (beyond the bound) is not loaded by a trainer either");

        c.noteProgramClass("p.Later");
        AotCache.Plan later = c.plan(launcher, LIBRARY, List.of(), full, "p.Later");
        assertEquals(mapped, later.options(), "the child maps the cache there is meanwhile");
        AotCache.Training again = later.training();
        assertNotNull(again, "a child of a class the cache lacks: trained again");
        assertEquals(first.target(), again.target(), "into the same name");
        assertTrue(Files.exists(again.lock()));
        assertTrue(c.programClassesOption(again).get(0).endsWith("=p.First,p.Later"));
        Files.delete(again.lock());

        c.noteProgramClass("p.EvenLater");
        assertNull(c.plan(launcher, LIBRARY, List.of(), full, "p.EvenLater").training(),
                "once per key in a JVM");

        AotCache otherJvm = cache(true, 25, classPath(tmp.resolve("a.jar")));
        otherJvm.noteProgramClass("p.First");
        assertNull(otherJvm.plan(launcher, LIBRARY, List.of(), full, "p.First").training(),
                "another JVM reads the list: the cache holds its class");
        Files.createFile(first.lock());
        otherJvm.noteProgramClass("p.Other");
        assertNull(otherJvm.plan(launcher, LIBRARY, List.of(), full, "p.Other").training(),
                "not while a trainer holds the key");
        Files.delete(first.lock());
        AotCache.Training other = otherJvm.plan(launcher, LIBRARY, List.of(), full, "p.Other")
                .training();
        assertNotNull(other, "a later start tries again");
        assertTrue(otherJvm.programClassesOption(other).get(0).endsWith("=p.First,p.Other"),
                "and keeps what the cache held: two programs of different classes would "
                        + "otherwise train it in turn at every run");

        Files.deleteIfExists(other.lock());
        List<String> full16 = new ArrayList<>();
        for (int i = 0; i < AotCache.MAX_PROGRAM_CLASSES; i++) {
            full16.add("q.C" + i);
        }
        Files.write(Path.of(first.target() + AotCache.CLASSES), full16);
        AotCache manyClasses = cache(true, 25, classPath(tmp.resolve("a.jar")));
        manyClasses.noteProgramClass("q.Beyond");
        assertNull(manyClasses.plan(launcher, LIBRARY, List.of(), full, "q.Beyond").training(),
                "a full list is not trained again: runs of many classes would take turns");

        Files.delete(Path.of(first.target() + AotCache.CLASSES));
        Files.deleteIfExists(first.lock());
        AotCache noList = cache(true, 25, classPath(tmp.resolve("a.jar")));
        noList.noteProgramClass("p.First");
        assertNotNull(noList.plan(launcher, LIBRARY, List.of(), full, "p.First").training(),
                "a cache with no list (an older library's) is taken to hold none");
    }

    @Test
    void aLockWhoseOwnerIsGoneIsTakenOverAndALiveOwnersIsNot() throws Exception {
        AotCache c = cache(true, 25, classPath(jar("a.jar", "one")));
        AotCache.Training t = c.plan(launcher, LIBRARY, List.of()).training();
        assertNotNull(t);
        ProcessHandle self = ProcessHandle.current();
        assertTrue(Files.readString(t.lock()).startsWith(self.pid() + " "),
                "the lock names the JVM that took it: " + Files.readString(t.lock()));
        assertFalse(AotCache.orphaned(t.lock()), "this JVM is alive");

        // Its owner killed with the trainer: a process that has ended.
        java.lang.Process gone = new ProcessBuilder("sh", "-c", "exit 0").start();
        ProcessHandle goneHandle = gone.toHandle();
        long goneStart = goneHandle.info().startInstant().map(java.time.Instant::toEpochMilli)
                .orElse(0L);
        assertTrue(gone.waitFor(30, TimeUnit.SECONDS));
        Files.writeString(t.lock(), goneHandle.pid() + " " + goneStart + "\n");
        assertTrue(AotCache.orphaned(t.lock()));
        AotCache otherJvm = cache(true, 25, classPath(tmp.resolve("a.jar")));
        AotCache.Training taken = otherJvm.plan(launcher, LIBRARY, List.of()).training();
        assertNotNull(taken, "a lock whose owner is gone does not hold the key for an hour");
        assertTrue(Files.readString(taken.lock()).startsWith(self.pid() + " "));

        // A live pid that another process, started at another time, now has.
        long selfStart = self.info().startInstant().map(java.time.Instant::toEpochMilli)
                .orElseThrow();
        Files.writeString(t.lock(), self.pid() + " " + (selfStart - 60_000) + "\n");
        assertTrue(AotCache.orphaned(t.lock()), "the pid went to another process");
        Files.writeString(t.lock(), self.pid() + " " + selfStart + "\n");
        assertFalse(AotCache.orphaned(t.lock()));

        // A lock that names nobody: being written, or an older library's.
        Files.writeString(t.lock(), "");
        assertFalse(AotCache.orphaned(t.lock()), "young: its owner may be writing it");
        Files.setLastModifiedTime(t.lock(), FileTime.fromMillis(System.currentTimeMillis()
                - 120_000));
        assertTrue(AotCache.orphaned(t.lock()), "a minute old and still nameless");
        Files.writeString(t.lock(), "garbage here\n");
        assertTrue(AotCache.orphaned(t.lock()));

        // A trainer killed under a parent that does not reap it (a zombie) is gone too.
        java.lang.Process holder = new ProcessBuilder("sh", "-c",
                "sleep 0.1 & echo $!; exec sleep 30").start();
        try {
            long zombie = Long.parseLong(new java.io.BufferedReader(new java.io.InputStreamReader(
                    holder.getInputStream())).readLine().trim());
            long zombieStart = ProcessHandle.of(zombie).flatMap(h -> h.info().startInstant())
                    .map(java.time.Instant::toEpochMilli).orElse(0L);
            Path stat = Path.of("/proc/" + zombie + "/stat");
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(stat).contains(") Z ") && System.nanoTime() < until) {
                Thread.sleep(20); // until its `sleep 0.1` has ended, unreaped
            }
            assertTrue(Files.readString(stat).contains(") Z "), "a zombie to test with");
            Files.writeString(t.lock(), zombie + " " + zombieStart + "\n");
            assertTrue(AotCache.orphaned(t.lock()), "a zombie owns nothing");
        } finally {
            holder.destroyForcibly();
            holder.waitFor(30, TimeUnit.SECONDS);
        }

        // own() never makes a lock that its trainer has removed.
        Files.delete(t.lock());
        AotCache.own(t.lock(), self);
        assertFalse(Files.exists(t.lock()));
    }

    @Test
    void aLeanChildMapsTheFullCacheUntilItsOwnIsTrainedThenItsOwn() throws IOException {
        AotCache c = cache(true, 25, classPath(jar("a.jar", "one")));
        AotCache.Kind lean = AotCache.Kind.LEAN;
        AotCache.Plan first = c.plan(launcher, LIBRARY, List.of(), lean);
        String report = "-D" + AotCache.LEAN_MISS_PROPERTY + "="
                + cacheDir.resolve(c.key(LIBRARY) + "-lean.miss");
        assertEquals(List.of(report), first.options(), "no cache of either kind yet");
        assertEquals(lean, first.training().kind());
        AotCache.Training full = c.plan(launcher, LIBRARY, List.of()).training();
        assertEquals(AotCache.Kind.FULL, full.kind());
        assertNotEquals(full.target(), first.training().target(), "a file per kind");
        assertNotEquals(full.lock(), first.training().lock(), "and a trainer per kind");

        // The lean trainer never finished (its lock is still there); the full one did.
        Files.write(full.target(), new byte[] {1});
        AotCache.Plan meanwhile = c.plan(launcher, LIBRARY, List.of(), lean);
        assertEquals(List.of("-XX:AOTCache=" + full.target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + full.target(), AotCache.NO_REPLAY,
                report),
                meanwhile.options(), "the full cache rather than none");
        assertNull(meanwhile.training(), "one trainer per key and kind");
        AotCache otherJvm = cache(true, 25, classPath(tmp.resolve("a.jar")));
        AotCache.Plan elsewhere = otherJvm.plan(launcher, LIBRARY, List.of(), lean);
        assertNull(elsewhere.training(), "the lean lock file holds another JVM back");
        assertEquals(meanwhile.options(), elsewhere.options());

        Files.write(first.training().target(), new byte[] {1});
        assertEquals(List.of("-XX:AOTCache=" + first.training().target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + first.training().target(),
                AotCache.NO_REPLAY, report),
                c.plan(launcher, LIBRARY, List.of("-Xmx64m"), lean).options());
        assertEquals(List.of("-XX:AOTCache=" + full.target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + full.target(), AotCache.NO_REPLAY),
                c.plan(launcher, LIBRARY, List.of()).options(), "a full child keeps its own");
    }

    @Test
    void aLeanChildThatBuiltForyMakesLaterOnesMapTheFullCache() throws IOException {
        AotCache c = cache(true, 25, classPath(jar("a.jar", "one")));
        AotCache.Training full = c.plan(launcher, LIBRARY, List.of()).training();
        AotCache.Training lean = c.plan(launcher, LIBRARY, List.of(), AotCache.Kind.LEAN)
                .training();
        Files.write(full.target(), new byte[] {1});
        Files.write(lean.target(), new byte[] {1});
        String base = full.key();
        Path miss = cacheDir.resolve(base + "-lean.miss");
        String report = "-D" + AotCache.LEAN_MISS_PROPERTY + "=" + miss;
        assertEquals(List.of("-XX:AOTCache=" + lean.target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + lean.target(), AotCache.NO_REPLAY,
                report),
                c.plan(launcher, LIBRARY, List.of(), AotCache.Kind.LEAN).options(),
                "a lean child is told where to report");
        assertEquals(List.of("-XX:AOTCache=" + full.target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + full.target(), AotCache.NO_REPLAY),
                c.plan(launcher, LIBRARY, List.of()).options(), "a full one has nothing to report");

        new AotCache.LeanMissReport(miss.toString()).run();
        new AotCache.LeanMissReport(miss.toString()).run(); // a second report is no error
        assertTrue(Files.exists(miss));
        assertEquals(List.of("-XX:AOTCache=" + full.target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + full.target(), AotCache.NO_REPLAY),
                c.plan(launcher, LIBRARY, List.of(), AotCache.Kind.LEAN).options(),
                "once one lean child needed Fory, plain children map the full cache");
        new AotCache.LeanMissReport(tmp.resolve("no-such-dir").resolve("x.miss").toString()).run();
    }

    @Test
    void aChildHoldingAChannelMapsACacheOfItsOwnAndMissesApart() throws IOException {
        AotCache c = cache(true, 25, classPath(jar("a.jar", "one")));
        AotCache.Kind channels = AotCache.Kind.CHANNELS;
        AotCache.Training full = c.plan(launcher, LIBRARY, List.of()).training();
        AotCache.Training lean = c.plan(launcher, LIBRARY, List.of(), AotCache.Kind.LEAN)
                .training();
        AotCache.Training own = c.plan(launcher, LIBRARY, List.of(), channels).training();
        assertEquals(channels, own.kind());
        assertNotEquals(lean.target(), own.target(), "a cache of its own");
        assertNotEquals(lean.lock(), own.lock(), "and a trainer");
        assertTrue(own.target().toString().endsWith("-channels.aot"), own.target().toString());
        Files.write(full.target(), new byte[] {1});
        Files.write(lean.target(), new byte[] {1});
        assertEquals(List.of("-XX:AOTCache=" + full.target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + full.target(), AotCache.NO_REPLAY,
                "-D" + AotCache.LEAN_MISS_PROPERTY + "="
                        + cacheDir.resolve(full.key() + "-channels.miss")),
                c.plan(launcher, LIBRARY, List.of(), channels).options(),
                "the full cache until its own is trained (not the lean one: it lacks theirs)");
        Files.write(own.target(), new byte[] {1});
        Path plainMiss = cacheDir.resolve(full.key() + "-lean.miss");
        Path channelMiss = cacheDir.resolve(full.key() + "-channels.miss");
        List<String> fullOptions = List.of("-XX:AOTCache=" + full.target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + full.target(),
                AotCache.NO_REPLAY);
        List<String> leanOptions = List.of("-XX:AOTCache=" + lean.target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + lean.target(),
                AotCache.NO_REPLAY);
        List<String> ownOptions = List.of("-XX:AOTCache=" + own.target(), AotCache.QUIET,
                "-D" + AotCache.MAPPED_PROPERTY + "=" + own.target(),
                AotCache.NO_REPLAY);
        java.util.function.BiFunction<List<String>, Path, List<String>> reporting = (o, miss) -> {
            List<String> all = new ArrayList<>(o);
            all.add("-D" + AotCache.LEAN_MISS_PROPERTY + "=" + miss);
            return all;
        };
        assertEquals(reporting.apply(ownOptions, channelMiss),
                c.plan(launcher, LIBRARY, List.of(), channels).options(),
                "its own cache, and a marker of its own to report a miss to");

        new AotCache.LeanMissReport(channelMiss.toString()).run();
        assertEquals(fullOptions, c.plan(launcher, LIBRARY, List.of(), channels).options(),
                "once a child holding a channel built Fory, such children map the full cache");
        assertEquals(reporting.apply(leanOptions, plainMiss),
                c.plan(launcher, LIBRARY, List.of(), AotCache.Kind.LEAN).options(),
                "and plain children still the lean one");

        Files.delete(channelMiss);
        new AotCache.LeanMissReport(plainMiss.toString()).run();
        assertEquals(fullOptions, c.plan(launcher, LIBRARY, List.of(), channels).options(),
                "a plain child's miss sends both kinds to the full cache");
        assertEquals(fullOptions, c.plan(launcher, LIBRARY, List.of(), AotCache.Kind.LEAN)
                .options());
    }

    @Test
    void aPayloadsFormatChoosesTheCacheKind() throws IOException {
        multiprocessing.synchronize.Event event = new multiprocessing.synchronize.Event();
        multiprocessing.SerializableRunnable plain = () -> event.set();
        assertEquals(AotCache.Kind.LEAN, Spawner.cacheFor(Serialization.serializeForStart(
                plain, multiprocessing.internal.reduction.Handles.collecting())));
        try (multiprocessing.connection.Pipe pipe = multiprocessing.connection.Pipe.open()) {
            multiprocessing.connection.Connection end = pipe.right();
            multiprocessing.SerializableRunnable channel = () -> end.send("x");
            assertEquals(AotCache.Kind.CHANNELS, Spawner.cacheFor(
                    Serialization.serializeForStart(channel,
                            multiprocessing.internal.reduction.Handles.collecting())));
        }
        EndToEnd.Note note = new EndToEnd.Note("x");
        multiprocessing.SerializableRunnable fory = () -> note.text();
        assertEquals(AotCache.Kind.FULL, Spawner.cacheFor(Serialization.serializeForStart(
                fory, multiprocessing.internal.reduction.Handles.collecting())));
    }

    @Test
    void theProgramsClassesATrainerLoadsAreTheTargetsBoundedAndSorted() throws IOException {
        AotCache c = new AotCache(new AotCache.Environment(true, 25, tmp, "25+test", "", "",
                cacheDir, Path.of("/bin/sh"), null, List.of()));
        AotCache.Training t = new AotCache.Training("k", tmp.resolve("k.1.tmp"),
                tmp.resolve("k.aot"), tmp.resolve("k.lock"), tmp.resolve("k.failed"), "",
                AotCache.Kind.FULL);
        assertEquals(List.of(), c.programClassesOption(t), "none noted yet");
        ProcessAccess access = ProcessAccess.get();
        Process lambda = new Process(() -> { });
        assertEquals(AotCacheTest.class.getName(), access.programClass(lambda),
                "a lambda's class is named after the class that made it");
        c.noteProgramClass(access.programClass(lambda));
        c.noteProgramClass("b.B");
        c.noteProgramClass(null);
        assertEquals(List.of("-D" + AotCache.PROGRAM_CLASSES_PROPERTY + "=b.B,"
                + AotCacheTest.class.getName()), c.programClassesOption(t));
        assertEquals(List.of("b.B", AotCacheTest.class.getName()),
                Files.readAllLines(tmp.resolve("k.1.tmp" + AotCache.CLASSES)),
                "listed beside the trainer's output, for the script to move with the cache");
        for (int i = 0; i < 2 * AotCache.MAX_PROGRAM_CLASSES; i++) {
            c.noteProgramClass("n.N" + i);
        }
        String option = c.programClassesOption(t).get(0);
        assertEquals(AotCache.MAX_PROGRAM_CLASSES, option.split(",").length);
        lambda.close();

        // A trainer skips what it cannot load.
        String before = System.getProperty(AotCache.PROGRAM_CLASSES_PROPERTY);
        System.setProperty(AotCache.PROGRAM_CLASSES_PROPERTY, "no.such.Class,,"
                + AotCacheTest.class.getName());
        try {
            AotCache.loadProgramClasses();
        } finally {
            restore(AotCache.PROGRAM_CLASSES_PROPERTY, before);
        }
    }

    @Test
    void featureSwitchOtherJdksAndUserArchivesGiveNoOptions() throws IOException {
        String cp = classPath(jar("a.jar", "one"));
        AotCache off = cache(false, 25, cp);
        assertEquals(AotCache.Plan.NONE, off.plan(launcher, LIBRARY, List.of()));
        assertFalse(Files.exists(cacheDir), "a disabled cache touches nothing");

        assertEquals(AotCache.Plan.NONE, cache(true, 24, cp).plan(launcher, LIBRARY, List.of()));

        AotCache c = cache(true, 25, cp);
        Path otherJava = tmp.resolve("other-java");
        Files.copy(launcher, otherJava);
        assertEquals(AotCache.Plan.NONE, c.plan(otherJava, LIBRARY, List.of()));
        assertEquals(AotCache.Plan.NONE, c.plan(launcher, LIBRARY, List.of("-Xshare:off")));
        assertEquals(AotCache.Plan.NONE,
                c.plan(launcher, LIBRARY, List.of("-XX:AOTCache=/elsewhere.aot")));
    }

    @Test
    void systemEnvironmentHonoursTheSwitchAndTheDirectoryProperty() {
        String enabled = System.getProperty(AotCache.ENABLED_PROPERTY);
        String dir = System.getProperty(AotCache.DIR_PROPERTY);
        try {
            System.setProperty(AotCache.ENABLED_PROPERTY, "false");
            System.setProperty(AotCache.DIR_PROPERTY, tmp.toString());
            AotCache.Environment env = AotCache.Environment.current();
            assertFalse(env.enabled());
            assertEquals(tmp, env.dir());
            System.clearProperty(AotCache.ENABLED_PROPERTY);
            System.clearProperty(AotCache.DIR_PROPERTY);
            env = AotCache.Environment.current();
            assertTrue(env.enabled());
            assertEquals("multiprocessing-java", env.dir().getFileName().toString());
        } finally {
            restore(AotCache.ENABLED_PROPERTY, enabled);
            restore(AotCache.DIR_PROPERTY, dir);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    @Test
    void staleTrainerLeftoversAreSweptAndOnlyTheNewestCachesKept() throws IOException {
        AotCache c = cache(true, 25, classPath(jar("a.jar", "one")));
        Files.createDirectories(cacheDir);
        long old = System.currentTimeMillis() - 2 * AotCache.STALE_MILLIS;
        Path staleTmp = Files.createFile(cacheDir.resolve("k.1.tmp"));
        Path staleLock = Files.createFile(cacheDir.resolve("k.lock"));
        Path freshLock = Files.createFile(cacheDir.resolve("f.lock"));
        Files.setLastModifiedTime(staleTmp, FileTime.fromMillis(old));
        Files.setLastModifiedTime(staleLock, FileTime.fromMillis(old));
        long lapsed = System.currentTimeMillis() - 2 * AotCache.MARKER_STALE_MILLIS;
        Path oldMiss = Files.createFile(cacheDir.resolve("m-lean.miss"));
        Path oldFailed = Files.createFile(cacheDir.resolve("m.failed"));
        Files.setLastModifiedTime(oldMiss, FileTime.fromMillis(lapsed));
        Files.setLastModifiedTime(oldFailed, FileTime.fromMillis(lapsed));
        Path recentMiss = Files.createFile(cacheDir.resolve("r-lean.miss"));
        Path recentFailed = Files.createFile(cacheDir.resolve("r.failed"));
        Files.setLastModifiedTime(recentMiss, FileTime.fromMillis(old));
        Files.setLastModifiedTime(recentFailed, FileTime.fromMillis(old));
        List<Path> caches = new ArrayList<>();
        for (int i = 0; i < AotCache.KEEP + 2; i++) {
            Path f = Files.write(cacheDir.resolve("c" + i + ".aot"), new byte[] {1});
            Files.setLastModifiedTime(f, FileTime.fromMillis(old + i * 1000L));
            caches.add(f);
        }
        Path removedList = Files.createFile(Path.of(caches.get(0) + AotCache.CLASSES));
        Path keptList = Files.createFile(Path.of(caches.get(caches.size() - 1) + AotCache.CLASSES));
        Path orphanList = Files.createFile(cacheDir.resolve("gone.aot" + AotCache.CLASSES));
        Path staleTmpList = Files.createFile(cacheDir.resolve("k.1.tmp" + AotCache.CLASSES));
        Files.setLastModifiedTime(staleTmpList, FileTime.fromMillis(old));
        // Fresh outputs: of a trainer killed with its script (no lock; a lock naming a process
        // that has ended), and of trainers that may still write (a lock naming a live
        // process; a lock being written, which names nobody yet).
        Path unlocked = Files.createFile(cacheDir.resolve("d.7.tmp"));
        Path unlockedConfig = Files.createFile(cacheDir.resolve("d.7.tmp.config"));
        Path orphanedTmp = Files.createFile(cacheDir.resolve("e.8.tmp"));
        Files.writeString(cacheDir.resolve("e.lock"), Long.MAX_VALUE / 2 + " 0\n");
        Path liveTmp = Files.createFile(cacheDir.resolve("g.9.tmp"));
        AotCache.own(Files.createFile(cacheDir.resolve("g.lock")), ProcessHandle.current());
        Path beingLockedTmp = Files.createFile(cacheDir.resolve("f.9.tmp"));
        c.plan(launcher, LIBRARY, List.of());
        assertFalse(Files.exists(unlocked), "no lock: no trainer writes it");
        assertFalse(Files.exists(unlockedConfig));
        assertFalse(Files.exists(orphanedTmp), "its lock's owner has ended");
        assertTrue(Files.exists(liveTmp), "its lock's owner runs");
        assertTrue(Files.exists(beingLockedTmp), "its lock is being written");
        assertFalse(Files.exists(removedList), "a cache's list goes with it");
        assertTrue(Files.exists(keptList));
        assertFalse(Files.exists(orphanList), "a list whose cache went");
        assertFalse(Files.exists(staleTmpList));
        assertFalse(Files.exists(staleTmp));
        assertFalse(Files.exists(staleLock));
        assertTrue(Files.exists(freshLock), "a trainer may still be running");
        assertFalse(Files.exists(oldMiss), "a verdict lapses after a week");
        assertFalse(Files.exists(oldFailed));
        assertTrue(Files.exists(recentMiss), "an hour-old verdict holds");
        assertTrue(Files.exists(recentFailed));
        assertFalse(Files.exists(caches.get(0)));
        assertFalse(Files.exists(caches.get(1)));
        assertTrue(Files.exists(caches.get(caches.size() - 1)));
    }

    @Test
    void userOptionsComeLastAndAUserCollectorReplacesOurs() {
        List<String> archive = List.of("-XX:AOTCache=/c.aot", AotCache.QUIET, AotCache.NO_REPLAY);
        List<String> argv = Spawner.commandLine(Path.of("/jdk/bin/java"), archive,
                List.of("-Xmx64m", "-XX:+UsePerfData"));
        int ours = argv.indexOf("-XX:-UsePerfData");
        assertTrue(argv.contains("-XX:+UseSerialGC"));
        assertTrue(ours > 0 && ours < argv.indexOf("-XX:AOTCache=/c.aot"));
        assertTrue(argv.indexOf(AotCache.QUIET) < argv.indexOf("-Xmx64m"));
        List<String> replaying = Spawner.commandLine(Path.of("/jdk/bin/java"), archive,
                List.of("-XX:+AOTReplayTraining"));
        assertTrue(replaying.indexOf(AotCache.NO_REPLAY)
                < replaying.indexOf("-XX:+AOTReplayTraining"), "the user's replay wins");
        assertTrue(ours < argv.indexOf("-XX:+UsePerfData"), "the user's option wins");
        assertTrue(argv.contains("-XX:CompileThresholdScaling=2"), "a child's JIT default");
        List<String> eager = Spawner.commandLine(Path.of("/jdk/bin/java"), archive,
                List.of("-XX:CompileThresholdScaling=1"));
        assertTrue(eager.indexOf("-XX:CompileThresholdScaling=2")
                < eager.indexOf("-XX:CompileThresholdScaling=1"), "the user's JIT choice wins");

        List<String> g1 = Spawner.commandLine(Path.of("/jdk/bin/java"), List.of(),
                List.of("-XX:+UseG1GC"));
        assertFalse(g1.contains("-XX:+UseSerialGC"), "two collectors stop the JVM");
        assertTrue(g1.contains("-Xrs"));
    }

    // ---- The trainer script: publishes the output only when the trainer succeeded. ----

    private int runScript(AotCache.Training t, String trainer) throws Exception {
        java.lang.Process sh = new ProcessBuilder("sh", "-c", AotCache.TRAINER_SCRIPT, "trainer",
                t.output().toString(), t.target().toString(), t.lock().toString(),
                t.failed().toString(), "sh", "-c", trainer, "fake-java", t.output().toString())
                .redirectErrorStream(true).start();
        String output = new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(sh.waitFor(30, TimeUnit.SECONDS));
        assertEquals("", output, "the trainer's output goes nowhere");
        return sh.exitValue();
    }

    private AotCache.Training training() throws IOException {
        AotCache c = cache(true, 25, classPath(jar("a.jar", "one")));
        AotCache.Training t = c.plan(launcher, LIBRARY, List.of()).training();
        assertNotNull(t);
        return t;
    }

    @Test
    void trainerOutputIsRenamedOnSuccess() throws Exception {
        AotCache.Training t = training();
        Files.writeString(Path.of(t.output() + AotCache.CLASSES), "p.Main\n");
        assertEquals(0, runScript(t, "echo noise; echo cache > \"$1\"; echo cfg > \"$1.config\""));
        assertEquals("cache\n", Files.readString(t.target()));
        assertEquals("p.Main\n", Files.readString(Path.of(t.target() + AotCache.CLASSES)),
                "the program classes' list goes with the cache");
        assertFalse(Files.exists(t.output()));
        assertFalse(Files.exists(Path.of(t.output() + ".config")));
        assertFalse(Files.exists(Path.of(t.output() + AotCache.CLASSES)));
        assertFalse(Files.exists(t.lock()));
        assertFalse(Files.exists(t.failed()));

        // Trained again with no list: the old list must not describe the new cache.
        assertEquals(0, runScript(t, "echo cache2 > \"$1\""));
        assertEquals("cache2\n", Files.readString(t.target()));
        assertFalse(Files.exists(Path.of(t.target() + AotCache.CLASSES)));
    }

    /**
     * The script keeps no copy of the descriptors the trainer inherits: the resource tracker
     * waits until every holder of its pipe (at 4) has ended, and waited for the whole training
     * (attack 23: a SIGKILLed child's shared memory stayed a minute after its program ended).
     */
    @Test
    void trainerScriptKeepsNoCopyOfTheTrainersDescriptors() throws Exception {
        AotCache.Training t = training();
        // The trainer has the descriptors, its script (its parent) has let them go, and the
        // program's standard streams too (here the pipe this test reads). The script lets them
        // go just after it has started the trainer: the trainer gives it up to 10 s.
        String trainer = "[ -e /proc/self/fd/4 ] || exit 8; [ -e /proc/self/fd/3 ] || exit 9; "
                + "i=0; while [ -e /proc/$PPID/fd/4 ] && [ $i -lt 200 ]; do sleep 0.05;"
                + " i=$((i+1)); done; "
                + "[ -e /proc/$PPID/fd/4 ] && exit 7; [ -e /proc/$PPID/fd/3 ] && exit 6; "
                + "for n in 0 1 2; do [ \"$(readlink /proc/$PPID/fd/$n)\" = /dev/null ] || exit 5;"
                + " done; echo cache > \"$1\"";
        java.lang.Process sh = new ProcessBuilder("sh", "-c",
                "exec 3</dev/null 4</dev/null; exec sh -c \"$@\"", "holder",
                AotCache.TRAINER_SCRIPT, "trainer", t.output().toString(),
                t.target().toString(), t.lock().toString(), t.failed().toString(),
                "sh", "-c", trainer, "fake-java", t.output().toString())
                .redirectErrorStream(true).start();
        String output = new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(sh.waitFor(30, TimeUnit.SECONDS));
        assertEquals("", output);
        assertEquals(0, sh.exitValue(), "5: the script held the program's standard streams; "
                + "6 or 7: the trainer's descriptors; 8 or 9: the trainer did not get them");
        assertEquals("cache\n", Files.readString(t.target()));
    }

    @Test
    void trainerOutputIsDroppedOnFailure() throws Exception {
        AotCache.Training t = training();
        Files.writeString(Path.of(t.output() + AotCache.CLASSES), "p.Main\n");
        assertEquals(3, runScript(t, "echo cache > \"$1\"; echo oops >&2; exit 3"));
        assertFalse(Files.exists(t.target()));
        assertFalse(Files.exists(t.output()));
        assertFalse(Files.exists(Path.of(t.output() + AotCache.CLASSES)));
        assertFalse(Files.exists(Path.of(t.target() + AotCache.CLASSES)));
        assertFalse(Files.exists(t.lock()));
        assertFalse(Files.exists(t.failed()), "a failed run may be retried");
    }

    @Test
    void trainerThatWritesNothingMarksTheKeyFailed() throws Exception {
        AotCache.Training t = training();
        assertEquals(0, runScript(t, "true"));
        assertFalse(Files.exists(t.target()));
        assertTrue(Files.exists(t.failed()));
        assertFalse(Files.exists(t.lock()));
        AotCache again = cache(true, 25, classPath(tmp.resolve("a.jar")));
        assertEquals(AotCache.Plan.NONE, again.plan(launcher, LIBRARY, List.of()),
                "a key whose dump fails is not trained again");
    }

    // ---- End to end: a child started with the archive options still runs a lambda. ----

    /**
     * Run in a fresh JVM: trains, then runs a child on the cache, with the JVM options given as
     * arguments (a class-loading log).
     */
    static final class EndToEnd {
        /** Set: the child captures only values (a lean child); else a record (a full one). */
        static final String LEAN = "e2e.lean";

        record Note(String text) implements java.io.Serializable {}

        public static void main(String[] args) throws Exception {
            Path cacheDir = Path.of(System.getProperty(AotCache.DIR_PROPERTY));
            run(); // starts the trainer beside it
            // Training runs a JVM and dumps a cache: seconds alone, minutes on a loaded machine.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
            while (!hasCache(cacheDir)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("no cache in " + cacheDir);
                }
                Thread.sleep(100);
            }
            run(args);
            System.out.println("ok");
        }

        private static boolean hasCache(Path dir) throws IOException {
            boolean lean = Boolean.getBoolean(LEAN);
            try (Stream<Path> files = Files.list(dir)) {
                List<String> caches = files.map(Path::toString)
                        .filter(f -> f.endsWith(".aot")).toList();
                // The lean run's pool worker (a child holding a channel) has a cache of its own.
                return lean ? caches.stream().anyMatch(f -> f.endsWith("-lean.aot"))
                        && caches.stream().anyMatch(f -> f.endsWith("-channels.aot"))
                        : caches.stream().anyMatch(f -> !f.endsWith("-lean.aot")
                                && !f.endsWith("-channels.aot"));
            }
        }

        private static void run(String... jvmOptions) throws Exception {
            Note note = new Note("child ");
            Context ctx = Multiprocessing.getContext().withJvmOptions(jvmOptions);
            // The full child also holds a queue (its reducer, a heap block's receipt); and the
            // lean child's lambda is in a class that also has this one, whose reading of its
            // own names Queue (its class's $deserializeLambda$): both from the caches.
            multiprocessing.Queue<String> queue = Boolean.getBoolean(LEAN) ? null : ctx.queue();
            // A typed view of shared memory (README's), which a lean child holds as plainly.
            multiprocessing.sharedctypes.SharedInt counter = Boolean.getBoolean(LEAN)
                    ? multiprocessing.sharedctypes.RawValue.ofInt(0) : null;
            Process p = Boolean.getBoolean(LEAN) ? ctx.process(() -> {
                // What a forkserver context's child makes before its target (its context).
                Multiprocessing.getContext("forkserver");
                counter.addAndGet(1);
                String cmdline = Files.readString(Path.of("/proc/self/cmdline"),
                        StandardCharsets.ISO_8859_1);
                System.out.println("child " + cmdline.contains("\0-XX:AOTCache=")
                        + (cmdline.contains("-lean.aot\0") ? " lean" : ""));
            }) : ctx.process(() -> {
                String cmdline = Files.readString(Path.of("/proc/self/cmdline"),
                        StandardCharsets.ISO_8859_1);
                System.out.println(note.text() + cmdline.contains("\0-XX:AOTCache=")
                        + (cmdline.contains("-lean.aot\0") ? " lean" : ""));
                queue.put("queued");
            });
            if (queue != null) {
                // A daemon, as a pool's worker is: it watches its parent from the cache too.
                p.daemon(true);
            }
            p.start();
            if (queue != null && !"queued".equals(queue.get(java.time.Duration.ofSeconds(60)))) {
                throw new AssertionError("the child's item did not come");
            }
            p.join();
            if (queue != null) {
                queue.close();
            }
            if (p.exitCode() != 0) {
                throw new AssertionError("child exit code " + p.exitCode());
            }
            if (counter != null && counter.get() != 1) {
                throw new AssertionError("the child's count did not come: " + counter.get());
            }
            p.close();
            if (Boolean.getBoolean(LEAN)) {
                // A pool's worker of plain tasks holds a channel, and maps the lean cache too.
                try (multiprocessing.pool.Pool pool = ctx.pool(1)) {
                    System.out.println(pool.apply(() -> {
                        String cmdline = Files.readString(Path.of("/proc/self/cmdline"),
                                StandardCharsets.ISO_8859_1);
                        return "worker " + cmdline.contains("\0-XX:AOTCache=")
                                + (cmdline.contains("-channels.aot\0") ? " channels" : "")
                                + (multiprocessing.internal.reduction.Serialization.built()
                                        ? " built Fory" : "");
                    }));
                }
            }
        }
    }

    private static Path codeSource(String className) throws ClassNotFoundException,
            URISyntaxException {
        return Path.of(Class.forName(className).getProtectionDomain().getCodeSource()
                .getLocation().toURI());
    }

    /** Jars a directory of classes, or only the classes whose names start with a prefix. */
    private static void jarClasses(Path classes, String prefix, Path jar) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            addClasses(out, classes, prefix);
        }
    }

    private static void addClasses(JarOutputStream out, Path classes, String prefix)
            throws IOException {
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String name = classes.relativize(f).toString();
                if (name.startsWith(prefix)) {
                    out.putNextEntry(new JarEntry(name));
                    Files.copy(f, out);
                    out.closeEntry();
                }
            }
        }
    }

    /** The jars of Fory and its dependencies, as this test JVM found them. */
    private static List<String> dependencyJars() throws URISyntaxException {
        List<String> cp = new ArrayList<>();
        for (String c : List.of("org.apache.fory.Fory", "org.codehaus.janino.ClassBodyEvaluator",
                "org.codehaus.commons.compiler.CompileException")) {
            try {
                cp.add(codeSource(c).toString());
            } catch (ClassNotFoundException e) {
                // not a dependency of this build
            }
        }
        return cp;
    }

    /** Runs {@link EndToEnd} with {@code classPath}; returns what it printed. */
    private String endToEnd(List<String> classPath, boolean lean, String... childOptions)
            throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-D" + AotCache.DIR_PROPERTY + "=" + tmp.resolve("e2e-cache"),
                "-D" + EndToEnd.LEAN + "=" + lean,
                "-cp", String.join(":", classPath), EndToEnd.class.getName()));
        command.addAll(List.of(childOptions));
        java.lang.Process parent = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(parent.waitFor(60, TimeUnit.SECONDS)); // it has closed its output
        assertEquals(0, parent.exitValue(), output);
        return output;
    }

    @Test
    @Timeout(400) // waits for a training (see EndToEnd)
    void childWithItsClassesInADirectoryMapsTheCacheOfTheJars() throws Exception {
        assumeTrue(Runtime.version().feature() >= 25, "AOT caches need JDK 25");
        Path libraryClasses = codeSource("multiprocessing.Process");
        Path testClasses = codeSource(EndToEnd.class.getName());
        assumeTrue(Files.isDirectory(libraryClasses) && Files.isDirectory(testClasses));
        Path lib = tmp.resolve("lib.jar");
        jarClasses(libraryClasses, "", lib);
        // The application's classes in a directory, first, as an IDE or mvn exec:java has them.
        Path app = tmp.resolve("app-classes");
        String prefix = "multiprocessing/internal/spawn/AotCacheTest$EndToEnd";
        try (Stream<Path> files = Files.walk(testClasses)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String name = testClasses.relativize(f).toString();
                if (name.startsWith(prefix)) {
                    Files.createDirectories(app.resolve(name).getParent());
                    Files.copy(f, app.resolve(name));
                }
            }
        }
        List<String> cp = new ArrayList<>(List.of(app.toString(), lib.toString()));
        cp.addAll(dependencyJars());
        Path log = tmp.resolve("child-classes.log");
        String output = endToEnd(cp, false, "-Xlog:class+load=info:file=" + log);
        assertEquals("child false\nchild true\nok\n", output);
        String loaded = Files.readString(log);
        assertTrue(loaded.contains(" multiprocessing.internal.spawn.ChildMain source: shared objects"),
                "the library's classes come from the cache");
        assertTrue(loaded.contains(" org.apache.fory.Fory source: shared objects"));
        // The trainer's tour (Workout): a pool's worker, a manager's connections, FFM's linker,
        // and the lean tour's locks and shared values (the full cache is a waiting forkserver
        // JVM's: its processes read these from the jar).
        for (String c : List.of("multiprocessing.pool.Worker", "multiprocessing.connection.Listener",
                "jdk.internal.foreign.abi.AbstractLinker", "multiprocessing.internal.sync.ConditionSync",
                "multiprocessing.internal.sync.EventSync", "multiprocessing.internal.sync.BarrierSync",
                "multiprocessing.sharedctypes.SharedInt$Access",
                "multiprocessing.sharedmemory.ShareableList")) {
            assertTrue(loaded.contains(" " + c + " source: shared objects"),
                    c + " comes from the cache: " + loaded.lines().filter(l -> l.contains(c)).toList());
        }
        assertEquals(List.of(), loaded.lines().filter(l -> l.contains(" multiprocessing.")
                        && !l.contains("AotCacheTest$") && l.contains(" source: file:")).toList(),
                "the library's classes the child read from the jar");
        // Nor a class spun for a lambda of the library's: the cache keeps those its trainer
        // made, and a child's own paths (its end, a daemon's parent watcher) are classes.
        assertEquals(List.of(), loaded.lines().filter(l -> l.contains(" multiprocessing.")
                        && !l.contains("AotCacheTest$") && l.contains("$$Lambda")
                        && !l.contains(" source: shared objects")).toList(),
                "the library's lambdas the child spun");
        assertTrue(loaded.contains("AotCacheTest$EndToEnd source: file:" + app.toUri().getPath()),
                "the application's classes from its directory: " + loaded.lines()
                        .filter(l -> l.contains("EndToEnd")).toList());
    }

    @Test
    @Timeout(400) // waits for a training (see EndToEnd)
    void childStartedWithTheCacheRunsALambda() throws Exception {
        assumeTrue(Runtime.version().feature() >= 25, "AOT caches need JDK 25");
        Path libraryClasses = codeSource("multiprocessing.Process");
        Path testClasses = codeSource(EndToEnd.class.getName());
        assumeTrue(Files.isDirectory(libraryClasses) && Files.isDirectory(testClasses));
        // One jar with the library and the program both, as a fat jar has them: the program's
        // classes are told from the library's by more than the jar they come from.
        Path app = tmp.resolve("app.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(app))) {
            addClasses(out, libraryClasses, "");
            addClasses(out, testClasses, "multiprocessing/internal/spawn/AotCacheTest$EndToEnd");
        }
        List<String> cp = new ArrayList<>(List.of(app.toString()));
        cp.addAll(dependencyJars());
        Path log = tmp.resolve("child-classes.log");
        String output = endToEnd(cp, true, "-Xlog:class+load=info:file=" + log);
        assertEquals("child false\nworker false\nchild true lean\nworker true channels\nok\n",
                output, "the first child trains nothing itself, the second maps the lean cache "
                        + "and a pool's worker its own, and none prints anything of the JVM's");
        String loaded = Files.readString(log);
        assertTrue(loaded.contains(" multiprocessing.internal.spawn.ChildMain source: shared objects"),
                "the library's classes come from the lean cache");
        // The lean trainer's tour (Workout.leanTour): an event, the heap's blocks, FFM's linker.
        // And what only the child that the tour starts in it loads: the receipt of a shared
        // value's block, and the sleeping path of a wait that times out.
        for (String c : List.of("multiprocessing.synchronize.Event",
                "multiprocessing.internal.heap.Block", "jdk.internal.foreign.abi.AbstractLinker",
                "multiprocessing.internal.heap.Receipts", "multiprocessing.internal.wait.Parker",
                "multiprocessing.internal.posix.Futex",
                // The typed views of shared memory (README's RawValue.ofInt), which the tour
                // did not make: each child holding one read them from the jar.
                "multiprocessing.sharedctypes.SharedLong", "multiprocessing.sharedctypes.SharedDouble",
                "multiprocessing.sharedctypes.SharedIntArray",
                "multiprocessing.sharedctypes.SharedLongArray",
                "multiprocessing.sharedctypes.SharedDoubleArray",
                "multiprocessing.sharedctypes.SharedByteArray",
                // A ShareableList's, and the reducers of the other queues, likewise.
                "multiprocessing.sharedmemory.ShareableList", "multiprocessing.JoinableQueue$1",
                "multiprocessing.SimpleQueue$1", "multiprocessing.connection.Connections$Watched",
                "multiprocessing.internal.posix.Posix$NoWait")) {
            assertTrue(loaded.contains(" " + c + " source: shared objects"),
                    c + " comes from the cache: " + loaded.lines().filter(l -> l.contains(c)).toList());
        }
        assertFalse(loaded.contains("org.apache.fory.Fory "),
                "a child that captures only values loads no Fory, not even from the cache");
        // Every class of the library from the cache: one read from the jar has the child open
        // it and read its index (a forkserver context's settings did, at ~20 ms of CPU).
        assertEquals(List.of(), loaded.lines().filter(l -> l.contains(" multiprocessing.")
                        && !l.contains("AotCacheTest$") && l.contains(" source: file:")).toList(),
                "the library's classes the lean child read from the jar");
        assertTrue(loaded.contains("AotCacheTest$EndToEnd source: shared objects"),
                "the class of the first child's lambda, in the program's jar, is in the cache: "
                        + loaded.lines().filter(l -> l.contains("EndToEnd")).toList());
        try (Stream<Path> files = Files.list(tmp.resolve("e2e-cache"))) {
            Path list = files.filter(f -> f.toString().endsWith("-lean.aot" + AotCache.CLASSES))
                    .findFirst().orElseThrow(() -> new AssertionError("no class list"));
            assertEquals(List.of(EndToEnd.class.getName()), Files.readAllLines(list),
                    "the classes its trainer loaded, listed beside the cache");
        }
    }
}
