package multiprocessing.internal.cluster;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.Lock;

import multiprocessing.pool.Pool;

/**
 * A JVM's place in a cluster, member or client, as {@code multiprocessing.cluster.Cluster}
 * uses it: an interface of the library's own types only, so that {@code Cluster} links without
 * Hazelcast on the class path.
 */
public interface Node extends AutoCloseable {
    String address();

    List<String> members();

    Pool pool();

    <E> BlockingQueue<E> queue(String name);

    <K, V> ConcurrentMap<K, V> dict(String name);

    Lock lock(String name);

    /**
     * Waits until this node has left the cluster; returns why if it was made to leave (its
     * cluster connection ended it), null if it was closed.
     */
    String awaitEnd() throws InterruptedException;

    @Override
    void close();
}
