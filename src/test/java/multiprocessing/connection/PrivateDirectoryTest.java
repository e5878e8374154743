package multiprocessing.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import multiprocessing.NoLeftoverProcesses;
import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.Process;
import multiprocessing.internal.posix.ProcessIdentity;
import multiprocessing.internal.util.TempDir;

/** A process's private directory for socket files lives exactly as long as the process. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@ExtendWith(NoLeftoverProcesses.class)
class PrivateDirectoryTest {
    @Test
    void aChildsDirectoryIsGoneWhenItExits() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection child = pipe.right();
            Process p = new Process(() -> {
                // Left open on purpose: the exit removes the directory and what is in it.
                Listener listener = new Listener();
                child.send(listener.address().path());
                child.recv();
            });
            p.start();
            try {
                Path socket = Path.of((String) pipe.left().recv());
                assertTrue(Files.exists(socket), socket.toString());
                assertTrue(socket.getParent().getFileName().toString()
                        .startsWith("jmp-" + p.pid()), socket.toString());
                pipe.left().send("exit");
                p.join();
                assertEquals(0, p.exitCode());
                assertFalse(Files.exists(socket.getParent()), socket.getParent() + " outlived "
                        + "its process");
            } finally {
                if (p.isAlive()) {
                    p.kill();
                }
                p.join();
                p.close();
            }
        }
    }

    /**
     * A child killed (SIGKILL: no exit hook runs) leaves its directory, which its parent
     * removes as it reaps it. The directory has the one name the parent looks for, its pid and
     * start time and the own part, so that the reap looks it up rather than listing the
     * temporary directory (which cost ~1 ms per thousand entries there at every reap).
     */
    @Test
    void aKilledChildsDirectoryHasItsOwnNameAndGoesWhenTheChildIsReaped() throws Exception {
        killAndReap(Multiprocessing.getContext("spawn"), TempDir.base());
    }

    /**
     * The same for a child given a temporary directory of its own ({@code -Djava.io.tmpdir}
     * in its options): its parent looks there, not in its own.
     */
    @Test
    void aKilledChildsDirectoryInATemporaryDirectoryOfItsOwnGoesWhenItIsReaped(
            @org.junit.jupiter.api.io.TempDir Path own) throws Exception {
        killAndReap(Multiprocessing.getContext("spawn")
                .withJvmOptions("-Djava.io.tmpdir=" + own), own);
    }

    private static void killAndReap(Context context, Path base) throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection child = pipe.right();
            Process p = context.process(() -> {
                Listener listener = new Listener();
                child.send(listener.address().path());
                child.send(ProcessIdentity.START);
                Thread.sleep(600_000);
                listener.close();
            });
            p.start();
            try {
                Path socket = Path.of((String) pipe.left().recv());
                long start = (Long) pipe.left().recv();
                assertEquals(base.resolve("jmp-" + p.pid() + "-" + start + "-h"
                        + ProcessIdentity.HOST + "-0"), socket.getParent());
                p.kill();
                p.join();
                assertEquals(-9, p.exitCode());
                assertFalse(Files.exists(socket.getParent()), socket.getParent() + " outlived "
                        + "its process's reap");
            } finally {
                if (p.isAlive()) {
                    p.kill();
                }
                p.join();
                p.close();
            }
        }
    }
}
