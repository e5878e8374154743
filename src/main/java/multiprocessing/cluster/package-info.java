/**
 * Across machines: Python's {@code multiprocessing.pool.Pool} and shared structures on a
 * cluster of JVMs (as Ray's {@code ray.util.multiprocessing.Pool} keeps Python's Pool API on a
 * cluster), on Hazelcast, an optional dependency. {@link multiprocessing.cluster.Cluster} joins
 * or connects; {@link multiprocessing.cluster.ClusterConfig} says how;
 * {@link multiprocessing.cluster.Member} is the command that runs a member on another machine.
 * The internals are in {@code multiprocessing.internal.cluster}.
 */
package multiprocessing.cluster;
