package multiprocessing.connection;

/** For tests of waits: a message that comes after the wait has begun. */
public final class SendLater {
    private SendLater() {}

    /**
     * Sends {@code message} on {@code c} from a thread of its own after {@code millis}
     * milliseconds; join the thread returned once the message is received.
     */
    public static Thread send(Connection c, Object message, long millis) {
        return Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(millis);
                c.send(message);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
