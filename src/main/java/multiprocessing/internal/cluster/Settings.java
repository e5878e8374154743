package multiprocessing.internal.cluster;

import java.util.List;

/**
 * A {@code ClusterConfig} as the engine needs it.
 *
 * @param portAutoIncrement whether a taken port may be replaced by the next free one (the
 *                          default port only)
 */
public record Settings(String name, List<String> members, String bind, int port,
        boolean portAutoIncrement, byte[] authKey, int workers) {
    public Settings {
        members = List.copyOf(members);
        authKey = authKey.clone();
    }
}
