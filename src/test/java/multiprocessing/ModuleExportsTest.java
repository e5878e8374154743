package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The compiled module exports exactly the public packages: every package outside
 * {@code multiprocessing.internal}, to everyone, and nothing of {@code multiprocessing.internal},
 * not even to a named module.
 */
class ModuleExportsTest {

    private static Path classes() throws URISyntaxException {
        return Path.of(Process.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static ModuleDescriptor descriptor() throws Exception {
        try (InputStream in = Files.newInputStream(classes().resolve("module-info.class"))) {
            return ModuleDescriptor.read(in);
        }
    }

    /** Packages that hold a class, from the compiled classes (the descriptor's own list may lag). */
    private static Set<String> packagesWithClasses() throws URISyntaxException, IOException {
        Path root = classes();
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(f -> f.toString().endsWith(".class")
                            && !f.getFileName().toString().equals("module-info.class"))
                    .map(f -> root.relativize(f.getParent()).toString().replace('/', '.'))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static boolean internal(String pkg) {
        return pkg.equals("multiprocessing.internal") || pkg.startsWith("multiprocessing.internal.");
    }

    @Test
    void exportsEveryPublicPackageAndNoInternalOne() throws Exception {
        ModuleDescriptor module = descriptor();
        assertEquals("multiprocessing", module.name());
        Set<String> exported = new TreeSet<>();
        for (ModuleDescriptor.Exports e : module.exports()) {
            assertTrue(!internal(e.source()), "module-info exports an internal package: " + e);
            assertTrue(!e.isQualified(), "module-info exports a package to chosen modules only: " + e);
            exported.add(e.source());
        }
        Set<String> publicPackages = new TreeSet<>();
        for (String pkg : packagesWithClasses()) {
            if (!internal(pkg)) {
                publicPackages.add(pkg);
            }
        }
        assertTrue(publicPackages.contains("multiprocessing.connection"), "found the classes: " + publicPackages);
        assertEquals(publicPackages, exported,
                "the module exports exactly the packages outside multiprocessing.internal");
    }

    @Test
    void opensNothing() throws Exception {
        ModuleDescriptor module = descriptor();
        assertTrue(!module.isOpen(), "an open module would open its internals to reflection");
        assertEquals(Set.of(), module.opens(), "module-info opens packages");
    }
}
