package multiprocessing.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Registered;
import jdk.jfr.Threshold;

/** {@code multiprocessing.QueueGet}: a get that waited for an item (see {@link QueueWaitEvent}). */
@Name("multiprocessing.QueueGet")
@Label("Queue Get")
@Category("multiprocessing")
@Description("A Queue get that waited for an item: the queue was empty")
@Threshold("10 ms")
@Registered(false)
public final class QueueGetEvent extends QueueWaitEvent {
    QueueGetEvent() {}
}
