package multiprocessing.dummy;

import java.time.Duration;

import multiprocessing.Process;
import multiprocessing.SerializableRunnable;
import multiprocessing.connection.Pipe;

/**
 * A "process" that is a thread of this JVM (Python's {@code multiprocessing.dummy.DummyProcess}):
 * the {@link Process} interface over a {@link Thread}. Its {@link #pid()} is this JVM's; its exit
 * code is 0, or 1 when the target threw (the stack trace is printed to standard error, as a
 * process prints it); {@link #terminate()} and {@link #kill()} cannot kill a thread: they
 * interrupt it. Its {@link #sentinel()} becomes readable when the thread ends, so it works with
 * {@code Connections.await}. Nothing is serialized: the target may capture anything.
 */
public class DummyProcess extends Process {
    private static final long serialVersionUID = 1L;

    private final transient SerializableRunnable target;
    private transient Thread thread;
    private transient volatile Integer exitCode;
    private transient Pipe sentinel;
    private transient boolean closed;

    /**
     * A thread-backed process that runs {@code target}; nothing of it is serialized.
     *
     * @param target what the thread runs
     */
    public DummyProcess(SerializableRunnable target) {
        this.target = target;
    }

    @Override
    public void run() {
        if (target != null) {
            try {
                target.run();
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }
    }

    @Override
    public synchronized void start() {
        check();
        if (thread != null) {
            throw new IllegalStateException("cannot start a process twice");
        }
        Pipe s = Pipe.open(false);
        Thread started = new Thread(() -> {
            int code = 0;
            try {
                run();
            } catch (Throwable t) {
                code = 1;
                System.err.println("Process " + name() + ":");
                t.printStackTrace();
            } finally {
                exitCode = code;
                s.right().close();
            }
        }, name());
        started.setDaemon(daemon());
        try {
            started.start();
        } catch (RuntimeException | OutOfMemoryError noThread) {
            // Not started (no thread to be had): not alive, and startable again, as a Python
            // Thread whose start failed.
            s.close();
            throw noThread;
        }
        sentinel = s;
        thread = started;
    }

    /** Sets the daemon flag; only before {@link #start()} (a thread's cannot change after). */
    @Override
    public synchronized void daemon(boolean daemon) {
        if (thread != null) {
            throw new IllegalStateException("process has already started");
        }
        super.daemon(daemon);
    }

    private synchronized Thread started() {
        check();
        if (thread == null) {
            throw new IllegalStateException("can only join a started process");
        }
        if (thread == Thread.currentThread()) {
            // Thread.join on itself waits for ever (Python: "cannot join current thread").
            throw new IllegalStateException("a process cannot join itself");
        }
        return thread;
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("process object is closed");
        }
    }

    @Override
    public void join() throws InterruptedException {
        started().join();
    }

    @Override
    public void join(Duration timeout) throws InterruptedException {
        Thread t = started();
        if (multiprocessing.internal.util.Durations.nanos(timeout) > 0) {
            t.join(timeout);
        }
    }

    @Override
    public synchronized boolean isAlive() {
        check();
        return thread != null && exitCode == null;
    }

    @Override
    public synchronized Integer exitCode() {
        check();
        return exitCode;
    }

    @Override
    public synchronized Long pid() {
        check();
        return thread == null ? null : ProcessHandle.current().pid();
    }

    /** Interrupts the thread (a thread cannot be killed). */
    @Override
    public synchronized void terminate() {
        check();
        if (thread != null) {
            thread.interrupt();
        }
    }

    /** Interrupts the thread (a thread cannot be killed). */
    @Override
    public synchronized void kill() {
        terminate();
    }

    @Override
    public synchronized int sentinel() {
        check();
        if (thread == null) {
            throw new IllegalStateException("process not started");
        }
        return sentinel.left().fileno();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        if (thread != null && exitCode == null) {
            throw new IllegalStateException("cannot close a process while it is still running");
        }
        if (sentinel != null) {
            sentinel.close();
        }
        closed = true;
    }

    @Override
    public synchronized String toString() {
        String state = thread == null ? "initial" : exitCode == null ? "started" : "stopped exitcode=" + exitCode;
        return "<DummyProcess name='" + name() + "' " + state + (daemon() ? " daemon" : "") + ">";
    }

}
