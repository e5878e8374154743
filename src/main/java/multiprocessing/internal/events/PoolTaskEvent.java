package multiprocessing.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Registered;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * {@code multiprocessing.PoolTask}: one task of a {@code Pool} (a chunk of a map, or one
 * apply), from its submission to the delivery of its result, with how long it waited for a
 * worker and how long the worker ran it.
 *
 * <h2>Where it is recorded, and why there</h2>
 * In the process that owns the pool, by the thread that delivers the result (a worker thread of
 * a {@code ThreadPool}). A worker process's own events appear only in a recording of that
 * worker's JVM, which a user profiling a program rarely has; the parent's recording is the one
 * they look at, and only the parent sees a task from submission to result. So a worker process
 * measures its part and sends it back: when this event is recorded, each task the parent sends
 * asks for it, and the worker sends the {@link System#nanoTime()} at which it began the task and
 * at which its result was ready, just before the result. {@code nanoTime} is
 * {@code CLOCK_MONOTONIC} on Linux, one clock for every process of the machine, so the worker's
 * readings and the parent's submission time compare directly. Tasks sent while the event is not
 * recorded ask for nothing: the worker then measures nothing and sends nothing extra.
 *
 * <p>The queue wait is the time from submission until the worker began the task (in the pool's
 * queue, in the pipe to the worker, behind the worker's earlier tasks); the run time is the
 * worker's, from the task decoded to its result serialized (the function's first
 * deserialization in that worker included). The rest of the event's duration is the trip back
 * and the parent's handling of the result. A task whose worker died, or that the pool failed
 * before a worker began it, has neither (N/A); nor has a task of a cluster's pool, whose worker
 * is the member it ran on (its address and its JVM's pid), on a machine of another clock.
 */
@Name("multiprocessing.PoolTask")
@Label("Pool Task")
@Category("multiprocessing")
@Description("A Pool task (one chunk of a map, or one apply) from submission to result, with"
        + " its wait for a worker and its run time in the worker")
@StackTrace(false)
@Registered(false)
public final class PoolTaskEvent extends jdk.jfr.Event {
    @Label("Worker")
    @Description("The worker process's name (SpawnPoolWorker-3), the worker thread's, or the"
            + " cluster member's address")
    String worker;

    @Label("Worker Process Id")
    long workerPid;

    @Label("Job")
    @Description("The job (one map, apply or imap call) the task belongs to, numbered by the"
            + " pool")
    long job;

    @Label("First Item")
    @Description("The position in the job's input of the task's first item")
    long firstItem;

    @Label("Items")
    int items;

    @Label("Queue Wait")
    @Timespan
    @Description("From submission until the worker began the task")
    long queueWait;

    @Label("Run Time")
    @Timespan
    @Description("The worker's time on the task")
    long runTime;

    @Label("Failed")
    @Description("Whether the task threw, or its worker died, or the pool failed it")
    boolean failed;

    private final transient long submittedNanos = System.nanoTime();
    private transient boolean timed;
    private transient long startNanos;
    private transient long endNanos;

    private PoolTaskEvent() {}

    /**
     * The event of a task submitted now, or null when its type is not enabled; only once
     * {@link Recorder#inUse} has said yes (before, no event class is loaded).
     */
    public static PoolTaskEvent submitted(long job, long firstItem, int items) {
        PoolTaskEvent e = new PoolTaskEvent();
        if (!e.isEnabled()) {
            return null;
        }
        e.begin();
        e.job = job;
        e.firstItem = firstItem;
        e.items = items;
        return e;
    }

    /** The task was handed to {@code worker}, of process {@code pid}. */
    public void sentTo(String worker, long pid) {
        this.worker = worker;
        this.workerPid = pid;
    }

    /** The worker began the task at {@code startNanos} and was done at {@code endNanos}. */
    public void ran(long startNanos, long endNanos) {
        this.timed = true;
        this.startNanos = startNanos;
        this.endNanos = endNanos;
    }

    /** The result (or failure) was delivered: commits the event. */
    public void finished(boolean failed) {
        end();
        if (shouldCommit()) {
            this.queueWait = timed ? Math.max(0, startNanos - submittedNanos) : Long.MIN_VALUE;
            this.runTime = timed ? Math.max(0, endNanos - startNanos) : Long.MIN_VALUE;
            this.failed = failed;
            commit();
        }
    }
}
