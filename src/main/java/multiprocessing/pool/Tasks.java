package multiprocessing.pool;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import multiprocessing.RemoteTraceback;
import multiprocessing.SerializableBiFunction;
import multiprocessing.SerializableFunction;

/** Running a chunk, the same way in a worker process and in a pool thread. */
final class Tasks {
    private Tasks() {}

    @SuppressWarnings({"unchecked", "rawtypes"})
    static ArrayList<Object> run(int kind, Object fn, List<?> items) throws Throwable {
        switch (kind) {
            case Job.APPLY -> {
                ArrayList<Object> out = new ArrayList<>(1);
                out.add(((Callable<?>) fn).call());
                return out;
            }
            case Job.MAP -> {
                SerializableFunction f = (SerializableFunction) fn;
                ArrayList<Object> out = new ArrayList<>(items.size());
                for (Object item : items) {
                    out.add(f.apply(item));
                }
                return out;
            }
            case Job.STAR -> {
                SerializableBiFunction f = (SerializableBiFunction) fn;
                ArrayList<Object> out = new ArrayList<>(items.size());
                for (Object item : items) {
                    Object[] pair = (Object[]) item;
                    out.add(f.apply(pair[0], pair[1]));
                }
                return out;
            }
            default -> throw new IllegalStateException("unknown task kind " + kind);
        }
    }

    static String traceback(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    /** The exception as the caller sees it: the worker's, with its traceback text attached. */
    static Throwable withTraceback(Throwable error, String traceback) {
        if (traceback != null) {
            error.addSuppressed(new RemoteTraceback(traceback));
        }
        return error;
    }
}
