package multiprocessing.internal.cluster;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * What a member that runs workers tells the cluster about itself, in the workers map under its
 * uuid, sealed for that uuid: its address, how many workers it runs, its JVM's pid. Written by
 * hand rather than serialized: it is read before anything tells who wrote it.
 */
record WorkerRecord(String address, int workers, long pid) {
    static final String CONTEXT = "worker";

    byte[] bytes() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) {
            out.writeUTF(address);
            out.writeInt(workers);
            out.writeLong(pid);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    static WorkerRecord of(byte[] bytes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        WorkerRecord r = new WorkerRecord(in.readUTF(), in.readInt(), in.readLong());
        if (r.workers < 1 || in.available() != 0) {
            throw new IOException("not a worker record");
        }
        return r;
    }
}
