package multiprocessing.internal.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static multiprocessing.internal.posix.Errno.arg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.NoLeftoverProcesses;
import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.Queue;
import multiprocessing.connection.Pipe;
import multiprocessing.sharedctypes.Value;
import multiprocessing.synchronize.Lock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The layer's one downcall ({@link Errno#call}): what it passes and returns, which descriptors
 * it refuses, and that a child using the common shared objects links no more than it.
 */
@Timeout(120)
@ExtendWith({NoLeftoverProcesses.class, NoLeftoverSharedMemory.class})
class DowncallTest {
    @TempDir
    Path tmp;

    @Test
    void anIntResultIsNarrowedAndANegativeArgumentArrivesWhole() {
        Errno.Function close = Errno.function(
                multiprocessing.internal.libc.Libc.close$address(),
                multiprocessing.internal.libc.Libc.close$descriptor());
        MemorySegment st = Errno.state();
        long raw = Errno.call(close, st, arg(-1));
        // close(-1): -1 as an int (the upper half of the register is not the caller's to read)
        // and EBADF, which close sets only if it got -1, not 0xffffffff or garbage.
        assertEquals(-1, (int) raw);
        assertEquals(Posix.EBADF, Errno.errno(st));
        assertEquals(ProcessHandle.current().pid(), Posix.getpid());
    }

    @Test
    void aPointerArgumentIsPassedAndAHeapSegmentIsRefused() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            int[] fds = Posix.pipe(0);
            try {
                MemorySegment out = arena.allocateFrom("abc");
                assertEquals(3, Posix.write(fds[1], out, 3));
                MemorySegment in = arena.allocate(3);
                assertEquals(3, Posix.read(fds[0], in, 3));
                assertEquals("abc", new String(in.toArray(JAVA_BYTE)));
                MemorySegment heap = MemorySegment.ofArray(new byte[3]);
                // A bug of the layer, as with a typed handle: the linker refuses it before the call.
                AssertionError refused = assertThrows(AssertionError.class,
                        () -> Posix.write(fds[1], heap, 3));
                assertTrue(refused.getCause() instanceof IllegalArgumentException, refused::toString);
            } finally {
                Posix.close(fds[0]);
                Posix.close(fds[1]);
            }
        }
    }

    @Test
    void aDescriptorTheDowncallCannotCallIsRefusedAtOnce() {
        Errno.Function getpid = Errno.function("getpid", FunctionDescriptor.of(JAVA_INT));
        assertEquals(ProcessHandle.current().pid(), (int) Errno.call(getpid, Errno.state()));
        assertThrows(IllegalArgumentException.class, () -> Errno.function("sqrt",
                FunctionDescriptor.of(JAVA_DOUBLE, JAVA_DOUBLE)));
        assertThrows(IllegalArgumentException.class, () -> Errno.function("syscall",
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                        JAVA_LONG, JAVA_LONG, JAVA_LONG)));
        assertThrows(IllegalArgumentException.class, () -> Errno.function("getpid",
                FunctionDescriptor.of(JAVA_INT, MemoryLayout.structLayout(JAVA_INT, JAVA_INT))));
        // A result narrower than an int: (int) would not narrow it.
        assertThrows(IllegalArgumentException.class, () -> Errno.function("getpid",
                FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_SHORT)));
        assertThrows(UnsatisfiedLinkError.class, () -> Errno.function("no_such_function_here",
                FunctionDescriptor.of(JAVA_INT, ADDRESS)));
    }

    @Test
    void aCallWithTheWrongNumberOfArgumentsIsRefused() {
        Errno.Function close = Errno.function(
                multiprocessing.internal.libc.Libc.close$address(),
                multiprocessing.internal.libc.Libc.close$descriptor());
        assertEquals(1, close.arity());
        assertThrows(AssertionError.class, () -> Errno.call(close, Errno.state()));
        assertThrows(AssertionError.class,
                () -> Errno.call(close, Errno.state(), arg(-1), arg(0)));
    }

    /**
     * A poll of one descriptor sits on the latency path of every spinning receive: once
     * compiled, its small integer arguments come from a table and it allocates nothing.
     */
    @Test
    void pollingOneDescriptorAllocatesNothing() throws Exception {
        // com.sun.management's ThreadMXBean, reached through its MBean: this module does not
        // read jdk.management.
        var server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        var threading = new javax.management.ObjectName("java.lang:type=Threading");
        long id = Thread.currentThread().threadId();
        java.util.function.LongSupplier allocated = () -> {
            try {
                return (long) server.invoke(threading, "getThreadAllocatedBytes",
                        new Object[] {id}, new String[] {"long"});
            } catch (javax.management.JMException e) {
                throw new AssertionError(e);
            }
        };
        int[] fds = Posix.pipe(0);
        try {
            for (int i = 0; i < 200_000; i++) {
                Posix.pollOne(fds[1], Posix.POLLOUT, 0);
            }
            allocated.getAsLong();
            long before = allocated.getAsLong();
            for (int i = 0; i < 100_000; i++) {
                Posix.pollOne(fds[1], Posix.POLLOUT, 0);
            }
            long after = allocated.getAsLong();
            long perCall = (after - before) / 100_000;
            // 80 bytes a call when each integer argument was a new segment.
            assertTrue(perCall < 8, perCall + " bytes allocated per poll");
        } finally {
            Posix.close(fds[0]);
            Posix.close(fds[1]);
        }
    }

    /**
     * Every function of the layer goes through one linked handle, so a child that uses a Lock,
     * a Queue, a Value and a Pipe, sleeps on an Event and wakes the parent asleep in its get
     * (both futex calls), generates one
     * downcall stub: that handle. With a handle per function it generated 11, each
     * milliseconds of its start; with one for the futex call (the variadic syscall), 2.
     */
    @Test
    void aChildUsingTheCommonObjectsLinksOneDowncall() throws Exception {
        Path log = tmp.resolve("classes.log");
        Context ctx = Multiprocessing.getContext("spawn")
                .withJvmOptions("-Xlog:class+load=info:file=" + log);
        try (Queue<Object> queue = ctx.queue(); Pipe pipe = ctx.pipe()) {
            Lock lock = ctx.lock();
            Value value = ctx.value("i", 0);
            multiprocessing.synchronize.Event never = ctx.event();
            Process p = ctx.process(() -> {
                never.await(Duration.ofMillis(1)); // a futex wait that times out
                lock.acquire();
                lock.release();
                value.acquire();
                value.getObj().value((Integer) value.getObj().value() + 1);
                value.release();
                queue.put("put");
                pipe.right().send("sent");
            });
            p.start();
            assertEquals("put", queue.get(Duration.ofSeconds(60)));
            assertEquals("sent", pipe.left().recv());
            p.join(Duration.ofSeconds(60));
            assertEquals(0, p.exitCode());
            p.close();
            assertEquals(1, value.getObj().value());
        }
        assertEquals(1, stubs(log), "downcall stubs in the child");
    }

    @Test
    void aPointerFieldHoldsTheAddressAndRefusesAHeapSegment() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment struct = arena.allocate(16);
            MemorySegment target = arena.allocate(8);
            Errno.setPointer(struct, 8, target);
            assertEquals(target.address(), struct.get(JAVA_LONG, 8));
            assertThrows(IllegalArgumentException.class,
                    () -> Errno.setPointer(struct, 0, MemorySegment.ofArray(new byte[8])));
        }
    }

    /**
     * A child that sends a message makes no var handle of a pointer field: setting the message
     * header's pointers through their address layouts (jextract's setters) adapted a var handle
     * in every fresh child, ~3 ms of method handle forms the AOT cache does not keep.
     */
    @Test
    void aChildSendingAMessageMakesNoPointerVarHandle() throws Exception {
        Path log = tmp.resolve("classes.log");
        Context ctx = Multiprocessing.getContext("spawn")
                .withJvmOptions("-Xlog:class+load=info:file=" + log);
        try (Pipe pipe = ctx.pipe()) {
            Process p = ctx.process(() -> pipe.right().send("sent"));
            p.start();
            assertEquals("sent", pipe.left().recv());
            p.join(Duration.ofSeconds(60));
            assertEquals(0, p.exitCode());
            p.close();
        }
        try (var lines = Files.lines(log)) {
            assertEquals(0, lines.filter(l -> l.contains("java.lang.invoke.IndirectVarHandle "))
                    .count(), "an adapted var handle was made in the child");
        }
    }

    private static long stubs(Path log) throws IOException {
        try (var lines = Files.lines(log)) {
            return lines.filter(l -> l.contains("jdk.internal.foreign.abi.DowncallStub")).count();
        }
    }
}
