/**
 * Python's {@code multiprocessing.managers}: a server process holding shared objects, and
 * proxies through which any process calls them.
 *
 * <p>{@link multiprocessing.managers.BaseManager} registers types and starts, serves or
 * connects to a server; {@link multiprocessing.managers.SyncManager} adds Python's shared
 * types (dict, list, namespace, queues, locks, values); {@link
 * multiprocessing.managers.SharedMemoryManager} hands out shared memory it unlinks at shutdown.
 * A proxy is a {@link java.lang.reflect.Proxy} of the registered interface and of {@link
 * multiprocessing.managers.BaseProxy}.
 *
 * <p>Beyond Python: a process keeps a few connections to a manager however many proxies and
 * threads use it, and calls from many threads travel over them at once; a shared dict's and
 * list's compound methods ({@code merge}, {@code compute}, {@code removeIf}...) run in the
 * server atomically; iteration works on a snapshot taken by one call. The internals are in
 * {@code multiprocessing.internal.managers}.
 */
package multiprocessing.managers;
