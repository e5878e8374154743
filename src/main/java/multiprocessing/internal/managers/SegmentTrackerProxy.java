package multiprocessing.internal.managers;

import java.util.List;

import multiprocessing.managers.BaseProxy;

/**
 * The proxy of a SharedMemoryManager's record of its segments (not for applications). Public, in
 * a package the module does not export: a proxy of a non-public interface can only be rebuilt
 * by the loader that defined the interface, and other processes rebuild proxies through the
 * library's resolving loader.
 */
public interface SegmentTrackerProxy extends BaseProxy {
    void track(String name);

    void untrack(String name);

    List<String> names();
}
