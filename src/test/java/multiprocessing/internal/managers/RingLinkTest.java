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
}
