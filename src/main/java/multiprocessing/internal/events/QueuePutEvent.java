package multiprocessing.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Registered;
import jdk.jfr.Threshold;

/** {@code multiprocessing.QueuePut}: a put that waited for room (see {@link QueueWaitEvent}). */
@Name("multiprocessing.QueuePut")
@Label("Queue Put")
@Category("multiprocessing")
@Description("A Queue put that waited for room: the queue held maxsize items, or its ring was"
        + " full")
@Threshold("10 ms")
@Registered(false)
public final class QueuePutEvent extends QueueWaitEvent {
    QueuePutEvent() {}
}
