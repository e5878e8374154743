package mptest;

import multiprocessing.Multiprocessing;
import multiprocessing.Process;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;

/**
 * A program whose library is on the module path (it lives outside the library's packages,
 * which a named module would hide from the class path): it starts a child and prints what the
 * child reports.
 */
public final class ModulePathHarness {
    private ModulePathHarness() {}

    public static void main(String[] args) throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection child = pipe.right();
            Process p = new Process(() -> {
                child.send(Multiprocessing.currentProcess().name()
                        + " in module " + Process.class.getModule().getName());
                child.send(modules() + " from " + System.getProperty("jdk.module.path"));
            });
            p.start();
            System.out.println("child said: " + pipe.left().recv());
            System.out.println("child modules: " + pipe.left().recv());
            System.out.println("parent modules: " + modules());
            // A child's own options may name a module of the module path the parent never
            // resolved: it must be found there (review 53).
            Process q = Multiprocessing.getContext("spawn")
                    .withJvmOptions("--add-modules=org.codehaus.janino")
                    .process(() -> child.send(modules()));
            q.start();
            System.out.println("janino child modules: " + pipe.left().recv());
            q.join();
            p.join();
            System.out.println("exit " + p.exitCode());
        }
    }

    /** The boot layer's modules that are not the JDK's, by name. */
    static String modules() {
        return ModuleLayer.boot().configuration().modules().stream()
                .filter(m -> !m.reference().location().map(u -> u.getScheme().equals("jrt"))
                        .orElse(false))
                .map(java.lang.module.ResolvedModule::name).sorted().toList().toString();
    }
}
