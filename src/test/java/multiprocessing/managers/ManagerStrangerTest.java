package multiprocessing.managers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.connection.Address;
import multiprocessing.internal.managers.ManagerServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A manager that listens on a TCP port (a remote manager) serves its clients while strangers
 * hold connections to it without ever answering the authentication challenge: each connection
 * is authenticated on its own thread. The server took clients one at a time, the handshake
 * included, so one silent connection held every client back for the handshake timeout (20 s
 * by default; a slowloris that reconnects holds them back for good).
 */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ManagerStrangerTest {
    private static final byte[] KEY = "manager-key".getBytes();

    @Test
    void silentStrangersDoNotHoldBackAClient() throws Exception {
        SyncManager manager = startManager();
        List<Socket> strangers = new ArrayList<>();
        try {
            int port = manager.address().port();
            for (int i = 0; i < 3; i++) {
                strangers.add(new Socket("127.0.0.1", port)); // connects, then says nothing
            }
            Thread.sleep(300);
            aClientGetsThrough(manager);
            for (Socket s : strangers) {
                // Its challenge may be there to read; end of file would mean it was let go.
                s.setSoTimeout(50);
                try {
                    while (true) {
                        assertTrue(s.getInputStream().read() >= 0, "a stranger was let go");
                    }
                } catch (java.net.SocketTimeoutException stillWaiting) {
                    // its handshake is still pending, as it should be
                }
            }
        } finally {
            for (Socket s : strangers) {
                s.close();
            }
            manager.shutdown();
        }
    }

    /**
     * More silent strangers than may wait for their handshake at once: each newcomer pushes the
     * oldest out once that one has had 5 seconds, so a client still gets through. The newcomer
     * was closed instead, so that 64 silent connections held every client off for the
     * handshake timeout.
     */
    @Test
    void aFloodOfSilentStrangersPushesTheOldestOutAndLetsAClientThrough() throws Exception {
        SyncManager manager = startManager();
        List<Socket> strangers = new ArrayList<>();
        int extra = 5;
        try {
            int port = manager.address().port();
            for (int i = 0; i < multiprocessing.internal.util.HandshakeSlots.MAX + extra; i++) {
                strangers.add(new Socket("127.0.0.1", port));
            }
            Thread.sleep(500);
            aClientGetsThrough(manager);
            assertTrue(letGo(strangers.get(0)), "the oldest stranger was pushed out");
            assertTrue(letGo(strangers.get(extra - 1)), "so was the last of the first " + extra);
            assertFalse(letGo(strangers.get(strangers.size() - 1)), "the newest still waits");
        } finally {
            for (Socket s : strangers) {
                s.close();
            }
            manager.shutdown();
        }
    }

    /**
     * A manager on TCP whose handshake timeout is longer than the test: only serving clients
     * apart can pass these tests.
     */
    private static SyncManager startManager() {
        SyncManager manager = new SyncManager(Address.inet("127.0.0.1", 0), KEY,
                Multiprocessing.getContext("spawn").withJvmOptions(
                        "-Dmultiprocessing.connection.handshakeTimeoutMillis=600000"));
        manager.start();
        return manager;
    }

    private static void aClientGetsThrough(SyncManager manager) {
        SyncManager client = new SyncManager(manager.address(), KEY);
        client.connect();
        NamespaceProxy ns = client.namespace();
        ns.set("x", 42);
        assertEquals(42, ns.get("x"));
    }

    /** Whether the server has closed {@code s} (read to its end, its challenge skipped). */
    private static boolean letGo(Socket s) throws java.io.IOException {
        s.setSoTimeout(2000);
        try {
            while (s.getInputStream().read() >= 0) {
                // the challenge it was sent
            }
            return true;
        } catch (java.net.SocketTimeoutException stillWaiting) {
            return false;
        } catch (java.net.SocketException reset) {
            return true; // closed with our unread bytes: a reset
        }
    }
}
