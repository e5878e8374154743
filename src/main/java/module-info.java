/**
 * Python's {@code multiprocessing} for Java: processes on fresh JVMs, pipes and connections,
 * on the Foreign Function and Memory API with no JNI.
 */
module multiprocessing {
    requires org.apache.fory.core;
    requires java.logging;
    // The parent's module options are passed on to a child started on the module path.
    requires java.management;
    // multiprocessing.cluster only; an application without Hazelcast uses everything else.
    requires static com.hazelcast.core;

    exports multiprocessing;
    exports multiprocessing.connection;
    exports multiprocessing.synchronize;
    exports multiprocessing.sharedmemory;
    exports multiprocessing.sharedctypes;
    exports multiprocessing.pool;
    exports multiprocessing.managers;
    exports multiprocessing.dummy;
    exports multiprocessing.cluster;
}
