package multiprocessing.internal.cluster;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.internal.util.AtExit;

/** The nodes of this JVM not yet closed: they leave their clusters at exit. */
final class Nodes {
    private Nodes() {}

    private static final Set<Node> OPEN = ConcurrentHashMap.newKeySet();
    private static boolean hooked;

    static synchronized void opened(Node node) {
        OPEN.add(node);
        if (!hooked) {
            hooked = true;
            AtExit.register(AtExit.Stage.LEAVE, Nodes::closeAll);
        }
    }

    static void closed(Node node) {
        OPEN.remove(node);
    }

    private static void closeAll() {
        for (Node n : List.copyOf(OPEN)) {
            n.close();
        }
    }
}
