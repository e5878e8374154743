/**
 * Python's {@code multiprocessing.connection}: {@link multiprocessing.connection.Pipe}s of
 * {@link multiprocessing.connection.Connection}s, {@link multiprocessing.connection.Listener}s
 * and {@link multiprocessing.connection.Client}s with CPython's framing and HMAC handshake (a
 * Java end talks to a Python end), and {@link multiprocessing.connection.Connections#await}
 * (Python's {@code wait}) over connections, listeners and process sentinels.
 *
 * <h2>Examples</h2>
 * {@code Pipe.open()} gives two connected connections; one captured by a child's lambda works
 * in the child, and {@code send}/{@code recv} carry objects.
 * {@snippet lang="java" :
 * import multiprocessing.Process;
 * import multiprocessing.connection.Connection;
 * import multiprocessing.connection.Pipe;
 *
 * public class Echo {
 *     record Greeting(String text, int count) {}
 *
 *     public static void main(String[] args) throws Exception {
 *         try (Pipe pipe = Pipe.open()) {
 *             Connection child = pipe.right();
 *             Process p = new Process(() -> {
 *                 Greeting g = (Greeting) child.recv();
 *                 child.send(new Greeting(g.text().toUpperCase(), g.count() + 1));
 *             });
 *             p.start();
 *             pipe.left().send(new Greeting("hi", 1));
 *             System.out.println(pipe.left().recv()); // Greeting[text=HI, count=2]
 *             p.join();
 *         }
 *     }
 * }
 * }
 *
 * <p>A {@link multiprocessing.connection.Client} speaks CPython's framing and handshake, so the
 * other end may be Python's {@code Listener}.
 * {@snippet lang="java" :
 * import multiprocessing.connection.Address;
 * import multiprocessing.connection.Client;
 * import multiprocessing.connection.Connection;
 *
 * public class TalkToPython {
 *     // In Python: Listener(('127.0.0.1', 6000), authkey=b'secret') ... conn.recv_bytes()
 *     public static void main(String[] args) throws Exception {
 *         try (Connection c = Client.connect(Address.inet("127.0.0.1", 6000), null, "secret".getBytes())) {
 *             c.sendBytes("hello from Java".getBytes());
 *             System.out.println(new String(c.recvBytes()));
 *         }
 *     }
 * }
 * }
 */
package multiprocessing.connection;
