package multiprocessing.internal.cluster;

import java.io.IOException;
import java.util.concurrent.Callable;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

/**
 * A pool's chunk on its way to a member's executor: the sealed bytes of the task as a worker
 * reads it, and nothing else. Hazelcast makes it through {@link TaskFactory} by number and reads
 * one byte array into it, so no class name and no object graph of the sender's is ever read
 * by Hazelcast for it; the member checks the seal before the bytes go anywhere (see
 * {@link MemberService#run}). Its answer is a byte array too ({@link Answer}).
 */
final class ChunkTask implements Callable<byte[]>, IdentifiedDataSerializable, HazelcastInstanceAware {
    static final int CLASS_ID = 1;

    private byte[] sealed;
    /**
     * The node that sent it (a member or a client), whose chunks stop when it leaves: not
     * sealed, since a peer that claims another's can only have its own chunk stopped.
     */
    private java.util.UUID sender;
    private transient HazelcastInstance instance;

    ChunkTask() {}

    ChunkTask(byte[] sealed, java.util.UUID sender) {
        this.sealed = sealed;
        this.sender = sender;
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance instance) {
        this.instance = instance;
    }

    @Override
    public byte[] call() {
        Object service = instance == null ? null
                : instance.getUserContext().get(MemberService.CONTEXT_KEY);
        if (!(service instanceof MemberService member)) {
            return Answer.unavailable("it runs no workers (it is not a member of this library, or "
                    + "is still starting)");
        }
        return member.run(sealed, sender);
    }

    @Override
    public int getFactoryId() {
        return Configs.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return CLASS_ID;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeByteArray(sealed);
        out.writeLong(sender.getMostSignificantBits());
        out.writeLong(sender.getLeastSignificantBits());
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        sealed = in.readByteArray();
        sender = new java.util.UUID(in.readLong(), in.readLong());
    }
}
