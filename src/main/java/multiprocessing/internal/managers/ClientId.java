package multiprocessing.internal.managers;

import java.security.SecureRandom;
import java.util.HexFormat;

/** This JVM's name as a manager's client: its pid and a random part (pids are reused). */
final class ClientId {
    private ClientId() {}

    static final String ID = ProcessHandle.current().pid() + "-"
            + HexFormat.of().toHexDigits(new SecureRandom().nextLong());
}
