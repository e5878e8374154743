package multiprocessing.internal.spawn;

import java.io.File;
import java.lang.module.ResolvedModule;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The modules of this JVM's boot layer that came from its module path, for a child started on
 * the module path: it gets these and no other, so that its module graph is this JVM's.
 *
 * <p>A child used to get the whole module path with {@code --add-modules ALL-MODULE-PATH},
 * which opened and resolved every jar there, the ones this JVM never resolved too. A build
 * tool puts a library's declared dependencies on the module path whether or not it runs them:
 * Fory's are Janino's two jars (Fory carries a shaded copy), and Janino's is signed, so the
 * JVM checked its signature at every child's start: about 130 ms of a child's ~520 (bench
 * /RESULTS.md, thirty-ninth session). The boot layer already holds every module this JVM
 * resolved, the providers of the services its modules use included (the boot layer is
 * resolved with service binding), so the child resolves the same ones.
 */
public final class BootModules {
    private BootModules() {}

    /**
     * The boot layer's modules from the module path: the files they were found in, as a
     * module path, and their names, as roots for {@code --add-modules}.
     */
    public record Selection(String modulePath, String names) {}

    private static volatile Selection selected;
    private static volatile boolean looked;

    /**
     * Whether a child's own options ({@code withJvmOptions}) name modules: one this JVM never
     * resolved must be found on the child's module path (review 53: {@code --add-modules}
     * of such a module stopped the child), so such a child gets the whole module path.
     */
    static boolean nameModules(java.util.List<String> childOptions) {
        for (String o : childOptions) {
            if (o.startsWith("--add-") || o.startsWith("--limit-modules")
                    || o.startsWith("--patch-module") || o.startsWith("--upgrade-module-path")
                    || o.startsWith("--module-path") || o.equals("-p")
                    || o.startsWith("--enable-native-access")) {
                return true;
            }
        }
        return false;
    }

    /**
     * This JVM's boot modules from its module path, or null if it has no module path or they
     * cannot all be named by a file (then the child gets the whole module path).
     */
    public static Selection fromModulePath() {
        if (!looked) {
            selected = select();
            looked = true;
        }
        return selected;
    }

    private static Selection select() {
        String modulePath = System.getProperty("jdk.module.path");
        if (modulePath == null || modulePath.isEmpty() || Spawner.parentModuleOptions().stream()
                .anyMatch(o -> o.startsWith("--upgrade-module-path")
                        || o.startsWith("--patch-module"))) {
            // An upgraded or patched module is found by options the child gets as they are
            // (read from the command line: the JVM removes jdk.module.patch.N at its start).
            return null;
        }
        List<String> files = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (ResolvedModule m : ModuleLayer.boot().configuration().modules()) {
            URI location = m.reference().location().orElse(null);
            if (location == null) {
                return null;
            }
            if (location.getScheme().equals("jrt")) {
                continue; // the JDK's own: ALL-DEFAULT and the requires find them
            }
            if (!location.getScheme().equals("file")) {
                return null;
            }
            files.add(Path.of(location).toString());
            names.add(m.name());
        }
        if (names.isEmpty()) {
            return null;
        }
        java.util.Collections.sort(names);
        return new Selection(String.join(File.pathSeparator, files), String.join(",", names));
    }
}
