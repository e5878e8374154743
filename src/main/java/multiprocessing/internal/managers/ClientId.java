package multiprocessing.internal.managers;

import java.util.HexFormat;

import multiprocessing.internal.util.Urandom;

/**
 * This JVM's name as a manager's client: its pid and a random part (pids are reused), from the
 * kernel's source ({@link Urandom}): a {@code SecureRandom} set up the security providers in
 * every JVM whose first manager call this was.
 */
final class ClientId {
    private ClientId() {}

    static final String ID = ProcessHandle.current().pid() + "-"
            + HexFormat.of().toHexDigits(Urandom.nextLong());
}
