package multiprocessing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A parent JVM for tests that need to watch a parent die or exit: started by the tests with
 * ProcessBuilder so that its standard streams and its death are under the test's control.
 */
public final class ParentHarness {
    private ParentHarness() {}

    /**
     * Starts {@code p}, waits for it to set {@code ready} (and {@code settleMillis} more),
     * prints its pid for the test, and waits to be killed.
     */
    /**
     * Prints {@code waiting} and the pids of the JVMs waiting in the fork servers, once there
     * is one if {@code awaitOne} (30 s at most).
     */
    private static void printWaitingJvms(boolean awaitOne) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (awaitOne && multiprocessing.internal.forkserver.ForkServer.waitingPids().isEmpty()
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        System.out.println("waiting " + multiprocessing.internal.forkserver.ForkServer
                .waitingPids().stream().map(String::valueOf)
                .collect(java.util.stream.Collectors.joining(" ")));
        System.out.flush();
    }

    private static void startAndReport(Process p, multiprocessing.synchronize.Event ready,
            String never, long settleMillis) throws InterruptedException {
        p.start();
        if (!ready.await(java.time.Duration.ofSeconds(60))) {
            throw new IllegalStateException(never);
        }
        Thread.sleep(settleMillis);
        System.out.println("child " + p.pid());
        System.out.flush();
        Thread.sleep(60_000);
    }

    /**
     * Writes a frame of {@code size} bytes into the pipe's right end by hand, pausing after its
     * first 1000 bytes so that the left end's receive waits in the middle of it; what the
     * receive got.
     */
    /** Segments that fill a small /dev/shm to its last page, largest first. */
    private static List<multiprocessing.sharedmemory.SharedMemory> fillDevShm() {
        List<multiprocessing.sharedmemory.SharedMemory> filler = new ArrayList<>();
        for (long size = 8 << 20; size >= 4096; ) {
            try {
                filler.add(multiprocessing.sharedmemory.SharedMemory.create(size));
            } catch (java.io.IOException full) {
                size /= 2;
            }
        }
        return filler;
    }

    /**
     * What {@code call} returns, or throws (its type, and "/dev/shm" if its causes name it), or
     * "hung" after 20 s.
     */
    private static String outcome(java.util.concurrent.Callable<Object> call) throws Exception {
        java.util.concurrent.FutureTask<Object> task = new java.util.concurrent.FutureTask<>(call);
        Thread t = new Thread(task);
        t.setDaemon(true);
        t.start();
        try {
            return String.valueOf(task.get(20, java.util.concurrent.TimeUnit.SECONDS));
        } catch (java.util.concurrent.TimeoutException e) {
            return "hung";
        } catch (java.util.concurrent.ExecutionException e) {
            boolean shm = false;
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                shm |= String.valueOf(c.getMessage()).contains("/dev/shm");
            }
            return e.getCause().getClass().getSimpleName() + (shm ? " naming /dev/shm" : "")
                    + ": " + e.getCause().getMessage();
        }
    }

    private static String pausedFrame(multiprocessing.connection.Pipe pipe, int size)
            throws Exception {
        int out = pipe.right().fileno();
        java.lang.foreign.MemorySegment frame = java.lang.foreign.Arena.ofAuto()
                .allocate(4 + size);
        frame.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(
                java.nio.ByteOrder.BIG_ENDIAN), 0, size);
        for (int i = 0; i < size; i++) {
            frame.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 4 + i, (byte) (i * 31));
        }
        Thread sender = Thread.ofPlatform().start(() -> {
            try {
                long done = 0;
                boolean paused = false;
                while (done < 4 + size) {
                    if (!paused && done >= 1000) {
                        Thread.sleep(500); // the receiver waits mid-frame
                        paused = true;
                    }
                    long n = multiprocessing.internal.posix.Posix.write(out, frame.asSlice(done),
                            paused ? 4 + size - done : 1000 - done);
                    if (n < 0) {
                        Thread.sleep(1);
                    } else {
                        done += n;
                    }
                }
            } catch (Exception e) {
                System.out.println("sender failed " + e);
            }
        });
        String outcome;
        try {
            byte[] got = pipe.left().recvBytes();
            outcome = got.length == size && java.lang.foreign.MemorySegment.mismatch(
                    java.lang.foreign.MemorySegment.ofArray(got), 0, size, frame, 4, 4 + size) == -1
                    ? "received whole" : "received other bytes";
        } catch (Exception e) {
            outcome = "receive failed " + e;
        }
        sender.join();
        return outcome;
    }

    /** Takes 1.5 s to serialize (a start's first part). */
    static final class SlowToSend implements java.io.Serializable {
        private Object writeReplace() throws java.io.ObjectStreamException {
            try {
                Thread.sleep(1_500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "sent";
        }
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("no-flight-recorder")) {
            // Run without the jdk.jfr module: a contended lock and a process start go on.
            multiprocessing.synchronize.Lock lock = Multiprocessing.getContext().lock();
            lock.acquire();
            Thread other = Thread.ofPlatform().start(() -> {
                lock.acquire();
                lock.release();
            });
            Thread.sleep(200);
            lock.release();
            other.join();
            Process p = new Process(() -> { });
            p.start();
            p.join();
            System.out.println("events " + multiprocessing.internal.events.Recorder.inUse()
                    + ", exit " + p.exitCode());
            return;
        }
        if (args[0].equals("context-then-set")) {
            // A library's getContext(method) leaves the program free to set its own default.
            Context library = Multiprocessing.getContext("forkserver");
            Multiprocessing.setStartMethod("forkserver");
            System.out.println(library.getStartMethod() + " " + Multiprocessing.getStartMethod()
                    + " " + (Multiprocessing.getContext("forkserver") == Multiprocessing.getContext()));
            return;
        }
        // The start method under test (-Dharness.method=forkserver), "spawn" by default.
        Multiprocessing.setStartMethod(System.getProperty("harness.method", "spawn"));
        switch (args[0]) {
            case "daemon-child" -> {
                // Starts a daemon child that would sleep for a minute, prints its pid (and,
                // with forkserver, the JVMs that wait for the next process), then waits to be
                // killed by the test.
                Process p = Process.builder().daemon(true).target(() -> Thread.sleep(60_000)).build();
                p.start();
                System.out.println("child " + p.pid());
                printWaitingJvms(Multiprocessing.getStartMethod().equals("forkserver"));
                Thread.sleep(60_000);
            }
            case "hung-forkserver-jvm" -> {
                // A forkserver context whose JVMs wait for a debugger before they run anything
                // (so does the process spawned meanwhile, killed): prints the JVMs that wait in
                // the fork server, never warmed up, then exits normally.
                multiprocessing.Context ctx = Multiprocessing.getContext("forkserver")
                        .withJvmOptions("-agentlib:jdwp=transport=dt_socket,server=y,suspend=y,"
                                + "address=127.0.0.1:0");
                Process p = ctx.process(() -> { });
                p.daemon(true);
                p.start(); // spawned, as no JVM waits yet; one is booted once it is past its start
                p.kill();
                p.join();
                printWaitingJvms(true);
            }
            case "daemon-child-interrupted" -> {
                // A daemon child whose target interrupts every other thread of its JVM (the
                // parent watcher among them) and then sleeps; its pid is printed once it has.
                multiprocessing.synchronize.Event done = new multiprocessing.synchronize.Event();
                Process p = Process.builder().daemon(true).target(() -> {
                    for (Thread t : Thread.getAllStackTraces().keySet()) {
                        if (t != Thread.currentThread()) {
                            t.interrupt();
                        }
                    }
                    done.set();
                    Thread.sleep(60_000);
                }).build();
                startAndReport(p, done, "the child did not interrupt its threads",
                        200); // the interrupted watcher wakes and looks again, or ends
            }
            case "daemon-child-reading" -> {
                // A daemon child with a thread blocked in a receive nobody answers (a native
                // wait of the library's); its pid is printed once it is blocked.
                multiprocessing.synchronize.Event ready = new multiprocessing.synchronize.Event();
                Process p = Process.builder().daemon(true).target(() -> {
                    var pipe = multiprocessing.connection.Pipe.open();
                    Thread reader = new Thread(() -> {
                        try {
                            pipe.left().recvBytes();
                        } catch (java.io.IOException | RuntimeException ignored) {
                            // the JVM ends
                        }
                    });
                    reader.start();
                    while (reader.getState() != Thread.State.RUNNABLE) {
                        Thread.sleep(10);
                    }
                    Thread.sleep(200); // in the kernel by now
                    ready.set();
                    Thread.sleep(60_000);
                }).build();
                startAndReport(p, ready, "the child's reader never blocked", 0);
            }
            case "non-daemon-child" -> {
                // Returns from main while a non-daemon child still works: the JVM's exit must
                // wait for it, as Python's does.
                Path marker = Path.of(args[1]);
                Process p = new Process(() -> {
                    Thread.sleep(800);
                    Files.writeString(marker, "done");
                });
                p.start();
                System.out.println("child " + p.pid());
                System.out.flush();
            }
            case "start-in-shutdown-hook" -> {
                // A program's own shutdown hook starts and joins a process, as Python's atexit
                // handlers may (attack 47: refused once the exit handler had begun).
                Path marker = Path.of(args[1]);
                Process first = new Process(() -> { });
                first.start();
                first.join();
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        Process last = new Process(() -> Files.writeString(marker, "done"));
                        last.start();
                        last.join();
                    } catch (Exception e) {
                        System.out.println("hook failed " + e);
                    }
                }));
                System.out.println("child " + first.pid());
                System.out.flush();
            }
            case "exit-while-a-start-runs" -> {
                // System.exit while another thread's start is under way (its target takes 1.5 s
                // to serialize) and the exit handler joins a first child: the second child must
                // be joined too, not left to outlive this JVM (attack 46).
                Path marker = Path.of(args[1]);
                Process first = new Process(() -> Thread.sleep(2_000));
                first.start();
                Object slow = new SlowToSend(); // arrives as what it is replaced by
                Thread starter = new Thread(() -> {
                    Process second = new Process(() -> {
                        Thread.sleep(slow.toString().isEmpty() ? 0 : 3_000);
                        Files.writeString(marker, "done");
                    });
                    second.start();
                    System.out.println("child " + second.pid());
                    System.out.flush();
                });
                starter.start();
                Thread.sleep(500);
                System.exit(0);
            }
            case "shared-after-main-slow" -> {
                // As shared-after-main, but the child waits before it uses them: the test kills
                // this JVM meanwhile, while its exit joins the child.
                Path marker = Path.of(args[1]);
                multiprocessing.synchronize.Lock lock = new multiprocessing.synchronize.Lock();
                multiprocessing.sharedctypes.Value value =
                        multiprocessing.sharedctypes.Value.of("i", 41);
                Process p = new Process(() -> {
                    Thread.sleep(3000);
                    lock.lock();
                    try {
                        value.value((Integer) value.value() + 1);
                    } finally {
                        lock.unlock();
                    }
                    Files.writeString(marker, String.valueOf(value.value()));
                });
                p.start();
                System.out.println("child " + p.pid());
                System.out.flush();
            }
            case "shared-after-main" -> {
                // Returns from main right after starting a child that uses a Lock and a Value
                // made here: the child maps them after main has returned, while the exit joins it.
                Path marker = Path.of(args[1]);
                multiprocessing.synchronize.Lock lock = new multiprocessing.synchronize.Lock();
                multiprocessing.sharedctypes.Value value =
                        multiprocessing.sharedctypes.Value.of("i", 41);
                Process p = new Process(() -> {
                    lock.lock();
                    try {
                        value.value((Integer) value.value() + 1);
                    } finally {
                        lock.unlock();
                    }
                    Files.writeString(marker, String.valueOf(value.value()));
                });
                p.start();
                System.out.println("child " + p.pid());
                System.out.flush();
            }
            case "dropped-objects" -> {
                // Run on a small /dev/shm: objects made and dropped, many times what it holds;
                // a GC finds the dropped ones before a new one is refused.
                String made = "ok";
                try {
                    for (int i = 0; i < 12; i++) {
                        new Queue<Object>().close(); // 4 MiB of ring each
                    }
                    for (int i = 0; i < 200; i++) {
                        multiprocessing.sharedctypes.RawArray.of("b", 100_000);
                    }
                } catch (IllegalStateException e) {
                    made = e.getMessage();
                }
                System.out.println("dropped: " + made);
            }
            case "arena-after-full" -> {
                // Run on a small /dev/shm: small objects refused while it is full are made
                // again once there is room (failed creations doubled the next arena's size,
                // until none fit beside anything).
                long free = new java.io.File("/dev/shm").getUsableSpace();
                multiprocessing.sharedmemory.SharedMemory filler =
                        multiprocessing.sharedmemory.SharedMemory.create(free - (256 << 10));
                int refused = 0;
                for (int i = 0; i < 6; i++) {
                    try {
                        multiprocessing.sharedctypes.RawValue.ofInt(1);
                    } catch (IllegalStateException e) {
                        refused++;
                    }
                }
                System.out.println("refused " + refused);
                filler.close();
                filler.unlink();
                try {
                    multiprocessing.sharedctypes.RawValue.ofInt(1).set(7);
                    System.out.println("then: ok");
                } catch (IllegalStateException e) {
                    System.out.println("then: " + e.getMessage());
                }
                // Room for an arena as small as the first, not for the next, larger one: the
                // small objects go there.
                long room = new java.io.File("/dev/shm").getUsableSpace();
                multiprocessing.sharedmemory.SharedMemory most =
                        multiprocessing.sharedmemory.SharedMemory.create(room - (1280 << 10));
                List<Object> kept = new ArrayList<>();
                String smaller = "ok";
                try {
                    for (int i = 0; i < 8; i++) {
                        kept.add(multiprocessing.sharedctypes.RawArray.of("b", 128 << 10));
                    }
                } catch (IllegalStateException e) {
                    smaller = e.getMessage();
                }
                System.out.println("smaller: " + smaller + " (" + kept.size() + " made)");
                most.close();
                most.unlink();
            }
            case "manager-full-shm" -> {
                // Run on a small /dev/shm: a manager's reply and a request too large for its
                // ring that find no room fail alone, saying so; the connection, and the lock
                // this process holds through it, stay.
                try (multiprocessing.managers.SyncManager m = Multiprocessing.manager()) {
                    multiprocessing.managers.DictProxy<String, Object> d = m.dict();
                    d.put("big", new byte[200_000]);
                    multiprocessing.managers.AcquirerProxy lock = m.lock();
                    lock.acquire();
                    List<multiprocessing.sharedmemory.SharedMemory> filler = fillDevShm();
                    System.out.println("put: " + outcome(() -> d.put("big2", new byte[200_000])));
                    System.out.println("get: " + outcome(() -> ((byte[]) d.get("big")).length));
                    System.out.println("small: " + outcome(() -> d.containsKey("big")));
                    for (multiprocessing.sharedmemory.SharedMemory f : filler) {
                        f.close();
                        f.unlink();
                    }
                    System.out.println("release: " + outcome(() -> {
                        lock.release();
                        return "ok";
                    }));
                    System.out.println("after: " + outcome(() -> ((byte[]) d.get("big")).length));
                }
            }
            case "full-shm" -> {
                // Run on a small /dev/shm: what does not fit must fail, saying so, at creation
                // or put, and never as a SIGBUS at a later access.
                try (multiprocessing.sharedmemory.SharedMemory shm =
                        multiprocessing.sharedmemory.SharedMemory.create(16 << 20)) {
                    System.out.println("shm: created " + shm);
                } catch (java.io.IOException e) {
                    System.out.println("shm: " + e.getClass().getSimpleName() + ": " + e.getMessage());
                }
                try {
                    multiprocessing.sharedctypes.RawArray.of("b", 16 << 20);
                    System.out.println("heap: created");
                } catch (IllegalStateException e) {
                    System.out.println("heap: " + e.getClass().getSimpleName() + ": " + e.getMessage());
                }
                Queue<Object> q = new Queue<>();
                try {
                    q.put(new byte[6 << 20]);
                    System.out.println("queue: put");
                } catch (RuntimeException e) {
                    Throwable t = e;
                    while (t.getCause() != null && !t.getMessage().contains("/dev/shm")) {
                        t = t.getCause();
                    }
                    System.out.println("queue: " + e.getClass().getSimpleName() + ": " + t.getMessage());
                }
                q.put("small");
                System.out.println("after: " + q.get());
                q.close();
                // Full to the last page: a Lock still travels to a child and works there. The
                // sender and the receiver cannot write their receipts; they go on without them
                // (the lock's block is then kept until its owner exits).
                multiprocessing.synchronize.Lock lock = new multiprocessing.synchronize.Lock();
                List<multiprocessing.sharedmemory.SharedMemory> filler = fillDevShm();
                try (multiprocessing.connection.Pipe pipe = multiprocessing.connection.Pipe.open()) {
                    multiprocessing.connection.Connection there = pipe.right();
                    Process p = new Process(() -> {
                        multiprocessing.synchronize.Lock l =
                                (multiprocessing.synchronize.Lock) there.recv();
                        l.lock();
                        l.unlock();
                        there.send("ok");
                    });
                    p.start();
                    pipe.left().send(lock);
                    System.out.println("receipts: " + pipe.left().recv());
                    p.join();
                } finally {
                    for (multiprocessing.sharedmemory.SharedMemory m : filler) {
                        m.close();
                        m.unlink();
                    }
                }
            }
            case "daemon-at-exit" -> {
                // Returns from main while a daemon child sleeps: the child must be terminated.
                Process p = Process.builder().daemon(true).target(() -> Thread.sleep(60_000)).build();
                p.start();
                System.out.println("child " + p.pid());
                System.out.flush();
            }
            case "stderr-gone" -> {
                // Run with its standard error already closed by the test, and an option that
                // makes each child's launcher write to standard error before the child runs:
                // the joins must see children that ran.
                for (int i = 0; i < 2; i++) {
                    Process p = Multiprocessing.getContext()
                            .withJvmOptions("-XX:+UseCompressedClassPointers")
                            .process(() -> System.out.println("ran"));
                    p.start();
                    p.join();
                    System.out.println("exit " + p.exitCode());
                }
            }
            case "logged" -> {
                Multiprocessing.logToStderr();
                Process p = Process.builder().name("logged").target(() -> { }).build();
                p.start();
                p.join();
                System.out.println("exit " + p.exitCode());
            }
            case "traceback" -> {
                Process p = Process.builder().name("failing").target(() -> {
                    throw new IllegalStateException("boom in the child");
                }).build();
                p.start();
                p.join();
                System.out.println("exit " + p.exitCode());
            }
            case "full-table-receive" -> {
                // Run under a low RLIMIT_NOFILE: a receive that must wait in the middle of a
                // frame once the descriptor table is full (no eventfd to be had for its wait).
                try (multiprocessing.connection.Pipe pipe =
                        multiprocessing.connection.Pipe.open(true);
                        multiprocessing.connection.Pipe before =
                                multiprocessing.connection.Pipe.open(true)) {
                    // Once with room on another pipe, so that every class the receive needs is
                    // loaded (a class loaded from a directory needs a descriptor too), and the
                    // pipe under test has never waited (a connection keeps its eventfd).
                    String warm = pausedFrame(before, 1 << 16);
                    multiprocessing.connection.Pipe.open(false).close();
                    try {
                        multiprocessing.internal.posix.Posix.close(-1);
                    } catch (multiprocessing.internal.posix.ErrnoException expected) {
                        // loaded
                    }
                    List<AutoCloseable> filler = new ArrayList<>();
                    try {
                        while (true) {
                            filler.add(multiprocessing.connection.Pipe.open(false));
                        }
                    } catch (RuntimeException full) {
                        try {
                            while (true) {
                                filler.add(new java.io.FileInputStream("/dev/null"));
                            }
                        } catch (java.io.IOException none) {
                            // the table is full
                        }
                    }
                    String outcome = pausedFrame(pipe, 4 << 20);
                    for (AutoCloseable c : filler) {
                        c.close();
                    }
                    System.out.println(warm.equals(outcome) ? outcome : warm + ", " + outcome);
                }
            }
            case "refused-start" -> {
                // Run under a low RLIMIT_NOFILE: fills this JVM's descriptors, then starts
                // children until the machine refuses one, and checks the started ones still run.
                Process first = new Process(() -> { });
                first.start(); // the resource tracker and the like, before the table is full
                first.join();
                List<multiprocessing.connection.Pipe> filler = new ArrayList<>();
                try {
                    while (true) {
                        filler.add(multiprocessing.connection.Pipe.open(false));
                    }
                } catch (RuntimeException full) {
                    for (int i = 0; i < 4; i++) {
                        filler.remove(filler.size() - 1).close();
                    }
                }
                List<Process> started = new ArrayList<>();
                String refused = null;
                while (refused == null && started.size() < 20) {
                    Process p = new Process(() -> Thread.sleep(1000));
                    try {
                        p.start();
                        started.add(p);
                    } catch (RuntimeException e) {
                        refused = e.getClass().getSimpleName() + ": " + e.getMessage();
                    }
                }
                List<Integer> exits = new ArrayList<>();
                for (Process p : started) {
                    p.join();
                    exits.add(p.exitCode());
                }
                System.out.println("refused " + refused);
                System.out.println("exits " + exits);
                System.out.flush();
            }
            case "refused-nproc" -> {
                // The test lowers this JVM's RLIMIT_NPROC between two lines on standard input:
                // children started before must run to the end, a start meanwhile must be
                // refused with the limit named and nothing of it left open, and starts must
                // work again once the limit is back.
                java.io.BufferedReader in = new java.io.BufferedReader(
                        new java.io.InputStreamReader(System.in));
                multiprocessing.synchronize.Event go = new multiprocessing.synchronize.Event();
                Process warm = new Process(() -> { }); // the resource tracker and the like
                warm.start();
                warm.join();
                List<Process> started = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    Process p = new Process(() -> {
                        if (!go.await(java.time.Duration.ofMinutes(2))) {
                            throw new IllegalStateException("no go");
                        }
                    });
                    p.start();
                    started.add(p);
                }
                System.out.println("ready " + ProcessHandle.current().pid());
                System.out.flush();
                in.readLine();
                int fdsBefore = new java.io.File("/proc/self/fd").list().length;
                String refused = null;
                for (int i = 0; i < 5 && refused == null; i++) {
                    Process p = new Process(() -> { });
                    try {
                        p.start();
                        started.add(p);
                    } catch (RuntimeException | Error e) {
                        refused = e.getClass().getSimpleName() + ": " + e.getMessage();
                    }
                }
                int fdsAfter = new java.io.File("/proc/self/fd").list().length;
                System.out.println("refused " + refused);
                System.out.println("descriptors left " + (fdsAfter - fdsBefore));
                System.out.println("limited");
                System.out.flush();
                in.readLine();
                go.set();
                List<Integer> exits = new ArrayList<>();
                for (Process p : started) {
                    p.join();
                    exits.add(p.exitCode());
                }
                Process again = new Process(() -> { });
                again.start();
                again.join();
                System.out.println("exits " + exits);
                System.out.println("again " + again.exitCode());
                System.out.flush();
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }
}
