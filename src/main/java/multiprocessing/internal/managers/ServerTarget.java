package multiprocessing.internal.managers;

import java.util.Arrays;
import java.util.List;

import multiprocessing.SerializableRunnable;
import multiprocessing.connection.Address;
import multiprocessing.connection.Connection;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;

/**
 * The target of a manager's server process ({@code BaseManager.start}): serves the registered
 * types at an address with a key, after the initializer, reporting to its creator on a pipe
 * ({@link ManagerServer#serveInChild}).
 *
 * <p>A class of the library's with a reducer, not a lambda: a lambda target is rebuilt in the
 * child by its capturing class's {@code $deserializeLambda$}, which spins the lambda's class in
 * every server process (the AOT cache keeps no class spun for a deserialized lambda).
 *
 * @param registry the registered types
 * @param address where to listen (null: a fresh Unix socket)
 * @param authKey the key clients must know
 * @param initializer what the server process runs first, or null
 * @param creator the pipe end the server reports on and hears its shutdown from
 */
public record ServerTarget(List<Registration> registry, Address address, byte[] authKey,
        SerializableRunnable initializer, Connection creator) implements SerializableRunnable {
    private static final long serialVersionUID = 1L;

    static {
        Serialization.register(ServerTarget.class, new Reducer<ServerTarget>() {
            @Override
            public void reduce(ServerTarget t, Out out) {
                for (Object o : carried(t)) {
                    out.writeObject(o);
                }
            }

            @Override
            @SuppressWarnings("unchecked")
            public ServerTarget rebuild(In in) {
                return new ServerTarget((List<Registration>) in.readObject(),
                        (Address) in.readObject(), (byte[]) in.readObject(),
                        (SerializableRunnable) in.readObject(), (Connection) in.readObject());
            }

            @Override
            public List<Object> carried(ServerTarget t) {
                return Arrays.asList(t.registry, t.address, t.authKey, t.initializer, t.creator);
            }
        });
    }

    /**
     * Writes and reads back a server's target as a start does, with no process: for the AOT
     * caches' tours (Workout), so that the classes a server's payload needs are in the cache.
     * Loaded from the jar in each server instead, they cost more than the lambda they replace.
     */
    public static void rehearse() {
        byte[] data = Serialization.serializeForStart(
                new ServerTarget(StandardTypes.SYNC, null, new byte[1], null, null),
                Handles.refusing("a rehearsal holds no descriptor"));
        if (!(Serialization.deserializeAtStart(data, Handles.received(new int[0]))
                instanceof ServerTarget)) {
            throw new IllegalStateException("a server's target did not read back");
        }
    }

    @Override
    public void run() throws Exception {
        ManagerServer.serveInChild(registry, address, authKey, initializer, creator);
    }
}
