package multiprocessing.managers;

import java.util.List;

/** The proxy of a SharedMemoryManager's record of its segments (not for applications). */
interface SegmentTrackerProxy extends BaseProxy {
    void track(String name);

    void untrack(String name);

    List<String> names();
}
