package multiprocessing.internal.cluster;

import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

/** Makes the library's one Hazelcast-serialized type by its number; any other number is refused. */
final class TaskFactory implements DataSerializableFactory {
    @Override
    public IdentifiedDataSerializable create(int classId) {
        if (classId == ChunkTask.CLASS_ID) {
            return new ChunkTask();
        }
        return null; // Hazelcast reports an unknown class id as a serialization error
    }
}
