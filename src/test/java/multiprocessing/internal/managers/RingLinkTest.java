package multiprocessing.internal.managers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.connection.Address;
import multiprocessing.connection.Client;
import multiprocessing.connection.Connection;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.SharedMemoryCalls;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.managers.DictProxy;
import multiprocessing.managers.SyncManager;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** A manager's rings under a client that does not play by the rules. */
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RingLinkTest {

    /**
     * A client that shrinks its rings' memory after the handshake (a page the server then
     * touches is gone: InternalError, not an exception) is dropped as a client that went: its
     * objects are released and the others are still served. The error escaped the server's
     * clean-up, and the client's objects stayed.
     */
    @Test
    void aClientThatShrinksItsRingsIsDroppedAndItsObjectsReleased() throws Exception {
        try (SyncManager manager = Multiprocessing.manager()) {
            DictProxy<String, Integer> d = manager.dict();
            d.put("k", 1);
            int before = manager.numberOfObjects();
            Address address = manager.address();
            Connection c = Client.connect(address, Keys.forAddress(address));
            RingLink.Offer offer = RingLink.offer(c);
            try {
                c.send(new Messages.Hello("a client that shrinks its rings", offer.fd(),
                        RingLink.BYTES));
                assertEquals(Boolean.TRUE, c.recv());
                offer.link().send(new Messages.Request(1, 1, Messages.CREATE, null, "dict",
                        null, Serialization.serialize(new Object[0])));
                Messages.Response created = (Messages.Response) offer.link()
                        .receive(TimeUnit.SECONDS.toNanos(30));
                assertTrue(created.ok());
                assertEquals(before + 1, manager.numberOfObjects());
                SharedMemoryCalls.ftruncate(offer.fd(), 0);
                Thread.sleep(RingLink.IDLE_CHECK_MILLIS * 2); // the server's reader meets it
            } finally {
                offer.withdraw(); // unmaps without a touch: the memory is gone here too
                Posix.closeQuietly(offer.fd());
                c.close();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (manager.numberOfObjects() > before && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(before, manager.numberOfObjects(), "the client's dict was released");
            d.put("k", 2);
            assertEquals(2, d.get("k"));
        }
    }

    private static long largeMessages() throws java.io.IOException {
        try (java.util.stream.Stream<java.nio.file.Path> files =
                java.nio.file.Files.list(java.nio.file.Path.of("/dev/shm"))) {
            return files.filter(f -> f.getFileName().toString().startsWith("mpq_")).count();
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start()
                .waitFor());
    }

    /**
     * A server killed while a client's large requests wait in its ring, unread: once the
     * client's links learn it, the messages' shared-memory objects go, not at the program's
     * end (attack of the sixteenth session: 4 of 16 stayed).
     */
    @Test
    void aServerKilledUnderLargeSendsLeavesNoMessageInDevShm() throws Exception {
        SyncManager manager = Multiprocessing.manager();
        long server = manager.process().pid();
        java.util.concurrent.ExecutorService senders =
                java.util.concurrent.Executors.newCachedThreadPool();
        try {
            multiprocessing.managers.ListProxy<byte[]> list = manager.list();
            // The connections the senders will use, made while the server answers: a stopped
            // server would not take a new one.
            ManagerClient client = ManagerClient.of(manager.address());
            for (int round = 0; round < 50 && client.connectionCount() < 2; round++) {
                java.util.List<java.util.concurrent.Future<?>> warm = new java.util.ArrayList<>();
                for (int k = 0; k < 8; k++) {
                    warm.add(senders.submit(() -> {
                        for (int j = 0; j < 200; j++) {
                            list.size();
                        }
                    }));
                }
                for (java.util.concurrent.Future<?> f : warm) {
                    f.get(30, TimeUnit.SECONDS);
                }
            }
            signal("STOP", server);
            java.util.List<java.util.concurrent.Future<?>> sends = new java.util.ArrayList<>();
            for (int i = 0; i < 256; i++) {
                int size = i < 40 ? 14_000 : i < 240 ? 100 : 1 << 20; // fill, then large ones
                sends.add(senders.submit(() -> list.add(new byte[size])));
                if (i == 39 || i == 239) {
                    Thread.sleep(500);
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (largeMessages() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(largeMessages() > 0, "large messages wait in the stopped server's ring");
            Thread.sleep(500);
            signal("KILL", server);
            for (java.util.concurrent.Future<?> f : sends) {
                try {
                    f.get(30, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException expected) {
                    // the server died under the call
                }
            }
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (largeMessages() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(0, largeMessages(), "no large message left while the program runs");
        } finally {
            senders.shutdownNow();
            if (ProcessHandle.of(server).isPresent()) {
                signal("KILL", server); // never leave it stopped: its shutdown would wait
            }
            manager.shutdown();
        }
    }
}
