package multiprocessing.internal.posix;

import java.util.List;
import java.util.concurrent.Callable;

import multiprocessing.Process;
import multiprocessing.Queue;
import multiprocessing.connection.Pipe;
import multiprocessing.sharedctypes.Value;
import multiprocessing.sharedmemory.SharedMemory;
import multiprocessing.synchronize.Lock;

/**
 * A JVM that pretends to run on another platform ({@code -Dos.arch}, {@code -Dos.name}) and
 * tries what a program does first: one line per attempt, {@code <what> <exception class>:
 * <its message>: <its cause's> ...}, then the children it has.
 */
public final class PlatformHarness {
    private PlatformHarness() {}

    public static void main(String[] args) {
        List<Object[]> attempts = List.of(
                new Object[] {"process", (Callable<?>) () -> {
                    Process p = new Process(() -> { });
                    p.start();
                    return p;
                }},
                new Object[] {"lock", (Callable<?>) Lock::new},
                new Object[] {"pipe", (Callable<?>) Pipe::open},
                new Object[] {"value", (Callable<?>) () -> Value.of("i", 1)},
                new Object[] {"queue", (Callable<?>) Queue::new},
                new Object[] {"sharedMemory", (Callable<?>) () -> SharedMemory.create(4096)},
                // Again: a class whose initializer met the refusal fails by name the next time.
                new Object[] {"queue", (Callable<?>) Queue::new},
                new Object[] {"lock", (Callable<?>) Lock::new},
                new Object[] {"process", (Callable<?>) () -> {
                    Process p = new Process(() -> { });
                    p.start();
                    return p;
                }});
        for (Object[] attempt : attempts) {
            String outcome;
            try {
                ((Callable<?>) attempt[1]).call();
                outcome = "no failure";
            } catch (Throwable t) {
                StringBuilder chain = new StringBuilder(t.getClass().getName());
                for (Throwable c = t; c != null; c = c.getCause()) {
                    chain.append(": ").append(c.getMessage());
                }
                outcome = chain.toString();
            }
            System.out.println(attempt[0] + " " + outcome.replace('\n', ' '));
        }
        System.out.println("children " + ProcessHandle.current().children().count());
        System.out.flush();
    }
}
