package multiprocessing.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import multiprocessing.NoLeftoverSharedMemory;
import multiprocessing.Process;
import multiprocessing.connection.Pipe;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A pool's worker reaches its JVM without the serializer (Fory) when its initializer is a
 * plain lambda or none, as a process's lambda does: the first byte of the payload says how it
 * was written ('C': the plain stream, holding a channel; 'F': Fory).
 */
@ExtendWith(NoLeftoverSharedMemory.class)
class WorkerPayloadTest {

    private static byte written(Worker worker) throws Exception {
        Handles sent = Handles.spawning();
        byte[] data = Serialization.serializeForStart(new Process(worker), sent);
        int[] fds = sent.fds().clone();
        for (int i = 0; i < fds.length; i++) {
            fds[i] = Posix.dup(fds[i]); // the child's own copies, as it receives them
        }
        sent.runAfterSend();
        Object back = Serialization.deserializeAtStart(data, Handles.received(fds));
        assertInstanceOf(Process.class, back);
        // The rebuilt worker's connections own the copies: closed by it, once. (Closed here
        // by number instead, they were closed again by its cleaner later, by then another
        // test's descriptors of the same numbers: that test's pipe broke.)
        java.lang.reflect.Field target = Process.class.getDeclaredField("target");
        target.setAccessible(true);
        Worker rebuilt = (Worker) target.get(back);
        for (String end : new String[] {"tasks", "results"}) {
            java.lang.reflect.Field conn = Worker.class.getDeclaredField(end);
            conn.setAccessible(true);
            ((multiprocessing.connection.Connection) conn.get(rebuilt)).close();
        }
        return data[0];
    }

    /**
     * A worker is the library's own target, in the AOT caches already: not noted as a program
     * class (a cache whose list lacked it was trained again for it).
     */
    @Test
    void aWorkerIsNoProgramClass() throws Exception {
        try (Pipe tasks = Pipe.open(false); Pipe results = Pipe.open(false)) {
            Process worker = Process.builder()
                    .target(new Worker(tasks.left(), results.right(), null, 0)).build();
            org.junit.jupiter.api.Assertions.assertNull(
                    multiprocessing.internal.spawn.ProcessAccess.get().programClass(worker));
            Process program = new Process(() -> { });
            assertEquals(WorkerPayloadTest.class.getName(),
                    multiprocessing.internal.spawn.ProcessAccess.get().programClass(program));
            worker.close();
            program.close();
        }
    }

    /**
     * Written without Fory, and marked as holding only pipes read with the JDK's I/O ('J'): its
     * child neither builds Fory nor links the libc layer ahead ('C' would have it link).
     */
    @Test
    void aWorkerWithNoInitializerOrAPlainOneIsWrittenWithoutFory() throws Exception {
        try (Pipe tasks = Pipe.open(false); Pipe results = Pipe.open(false)) {
            assertEquals('J', written(new Worker(tasks.left(), results.right(), null, 0)));
            String name = "init";
            int count = 3;
            assertEquals('J', written(new Worker(tasks.left(), results.right(),
                    () -> System.setProperty(name, String.valueOf(count)), 5)));
            try (Pipe duplex = Pipe.open()) {
                // A socket's receiver links the layer for it at once.
                assertEquals('C', written(new Worker(duplex.left(), duplex.right(), null, 0)));
            }
        }
    }

    /**
     * A map of a plain lambda over plain items travels without Fory: the function as a payload
     * is ('I': only immutable values in it), the task and the results as plain values ('V'); a
     * worker in this JVM runs such tasks and a failing one as a pool expects (its rehearsal
     * throws otherwise).
     */
    @Test
    void aTaskOfAPlainFunctionOverPlainItemsIsWrittenWithoutFory() throws Exception {
        int step = 2;
        multiprocessing.SerializableFunction<Integer, Integer> fn = x -> x + step;
        assertEquals(5, applied('I', fn, 3));
        byte[] task = Worker.task(1L, Job.MAP, Serialization.serializeFunction(fn),
                new ArrayList<>(List.of(1, 2)), true);
        assertEquals('V', task[0]);
        assertEquals('V', Serialization.serialize(new ArrayList<>(List.of(3, 4)))[0]);
        // A function holding a list of plain values is plain too (a list of the program's
        // files); one holding an object of another class goes by Fory, and arrives as well.
        List<String> held = new ArrayList<>(List.of("x"));
        assertEquals("x1", applied('P', (multiprocessing.SerializableFunction<Integer, String>)
                x -> held.get(0) + x, 1));
        StringBuilder builder = new StringBuilder("y");
        assertEquals("y1", applied('F', (multiprocessing.SerializableFunction<Integer, String>)
                x -> builder.toString() + x, 1));
        Worker.rehearse(false);
        Worker.rehearse(true);
    }

    /**
     * A function of immutable values is written once and sent again (an apply is a job of its
     * own each time); one holding a library object (whose reducer may count each send) or an
     * array (which may change) is written for each job, and not marked immutable.
     */
    @Test
    void onlyAFunctionOfImmutableValuesIsWrittenOnce() throws Exception {
        multiprocessing.SerializableFunction<Integer, Integer> same = x -> x;
        assertSame(Serialization.serializeFunction(same), Serialization.serializeFunction(same));
        assertTrue(Serialization.immutable(Serialization.serializeFunction(same)));
        multiprocessing.synchronize.Lock lock = new multiprocessing.synchronize.Lock();
        int[] array = {0};
        List<Object> holders = List.of(
                (multiprocessing.SerializableFunction<Integer, Boolean>) x -> lock.acquire(false),
                (multiprocessing.SerializableFunction<Integer, Integer>) x -> array[0] + x,
                (multiprocessing.SerializableFunction<Integer, Integer>)
                        x -> List.of(array).size() + x);
        for (Object holding : holders) {
            byte[] first = Serialization.serializeFunction(holding);
            assertEquals('P', (char) first[0]);
            assertFalse(Serialization.immutable(first));
            assertNotSame(first, Serialization.serializeFunction(holding));
        }
    }

    /** {@code fn} sent as a job's function (in {@code format}) and applied to {@code x}. */
    @SuppressWarnings("unchecked")
    private static <R> R applied(char format,
            multiprocessing.SerializableFunction<Integer, R> fn, int x) throws Exception {
        byte[] bytes = Serialization.serializeFunction(fn);
        assertEquals(format, (char) bytes[0]);
        return ((multiprocessing.SerializableFunction<Integer, R>)
                Serialization.deserializeFunction(bytes)).apply(x);
    }

    @Test
    void aWorkerWhoseInitializerHoldsAnObjectIsWrittenByFory() throws Exception {
        StringBuilder name = new StringBuilder("x");
        try (Pipe tasks = Pipe.open(false); Pipe results = Pipe.open(false)) {
            assertEquals('F', written(new Worker(tasks.left(), results.right(),
                    () -> System.setProperty("n", name.toString()), 0)));
        }
    }
}
