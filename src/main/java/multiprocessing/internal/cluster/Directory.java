package multiprocessing.internal.cluster;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;

import multiprocessing.AuthenticationError;
import multiprocessing.internal.util.LibraryThreads;

/**
 * The members that run workers now, as one node sees them: those in the workers map whose
 * record carries the key, and are members of the cluster now. A member appears only once its
 * workers are started and its key is the cluster's (a member with another key never records
 * itself, and its record would not open), and disappears when it leaves, whether or not its
 * record was removed. Watchers (the pools' placements) are told of every change.
 *
 * <p>Hazelcast's listeners only mark the view stale; it is read again on a thread of its own,
 * since a remote call on Hazelcast's event thread would hold up its other events.
 */
final class Directory {

    /** A member that runs workers. */
    record Target(Member member, String address, int workers, long pid) {}

    private final HazelcastInstance hz;
    private final Seal seal;
    /** Of Object: a peer without the key may have put anything there (refused on read). */
    private final IMap<Object, Object> records;
    private final Set<Runnable> watchers = new CopyOnWriteArraySet<>();
    private final ExecutorService refresher;
    private final AtomicBoolean refreshQueued = new AtomicBoolean();
    private volatile Map<UUID, Target> targets = Map.of();
    private volatile boolean stopped;
    private UUID membershipListener;
    private UUID entryListener;
    private final Set<UUID> warned = java.util.concurrent.ConcurrentHashMap.newKeySet();

    Directory(HazelcastInstance hz, Seal seal) {
        this.hz = hz;
        this.seal = seal;
        this.records = hz.getMap(Configs.WORKERS);
        this.refresher = Executors.newSingleThreadExecutor(r -> {
            Thread t = LibraryThreads.unstarted("multiprocessing-cluster-directory", r);
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        membershipListener = hz.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                refreshLater();
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                refreshLater();
            }
        });
        entryListener = records.addEntryListener(new Changes(), false);
        refresh();
    }

    private final class Changes implements EntryAddedListener<Object, Object>,
            EntryRemovedListener<Object, Object>, EntryUpdatedListener<Object, Object> {
        @Override
        public void entryAdded(EntryEvent<Object, Object> e) {
            refreshLater();
        }

        @Override
        public void entryRemoved(EntryEvent<Object, Object> e) {
            refreshLater();
        }

        @Override
        public void entryUpdated(EntryEvent<Object, Object> e) {
            refreshLater();
        }
    }

    private void refreshLater() {
        if (refreshQueued.compareAndSet(false, true)) {
            try {
                refresher.execute(() -> {
                    refreshQueued.set(false);
                    refresh();
                });
            } catch (RejectedExecutionException stopped) {
                refreshQueued.set(false);
            }
        }
    }

    /**
     * Reads the records again and tells the watchers. One read at a time: the opening read and
     * a listener's, side by side, could end in either order, and an older view without a member
     * that had just joined was kept (review 50); in turn, the later read starts after the
     * earlier one's view is set, and sees at least as much.
     */
    void refresh() {
        synchronized (reading) {
            if (!read()) {
                return;
            }
        }
        for (Runnable w : watchers) {
            w.run();
        }
    }

    private final Object reading = new Object();

    /** Reads the records into {@link #targets}; false if the instance is going down. */
    private boolean read() {
        Map<UUID, Target> now = new HashMap<>();
        try {
            Map<UUID, Member> members = new HashMap<>();
            for (Member m : hz.getCluster().getMembers()) {
                members.put(m.getUuid(), m);
            }
            for (Map.Entry<Object, Object> e : records.entrySet()) {
                UUID uuid;
                try {
                    uuid = UUID.fromString((String) e.getKey());
                } catch (IllegalArgumentException | ClassCastException notOurs) {
                    continue;
                }
                Member m = members.get(uuid);
                if (m == null) {
                    continue;
                }
                try {
                    WorkerRecord r = WorkerRecord.of(seal.open(WorkerRecord.CONTEXT, e.getValue(),
                            "the record of member " + HazelcastNode.address(m),
                            Seal.utf8((String) e.getKey())));
                    now.put(uuid, new Target(m, HazelcastNode.address(m), r.workers(), r.pid()));
                } catch (AuthenticationError | IOException refused) {
                    if (warned.add(uuid)) {
                        System.getLogger("multiprocessing.cluster").log(Level.WARNING,
                                "member " + HazelcastNode.address(m) + " is not used: "
                                + refused.getMessage());
                    }
                }
            }
        } catch (RuntimeException down) {
            // The instance is shutting down: the view stays as it was, and pools end with it.
            if (!stopped && hz.getLifecycleService().isRunning()) {
                System.getLogger("multiprocessing.cluster").log(Level.WARNING,
                        "cannot read the cluster's workers: " + down);
            }
            return false;
        }
        targets = Map.copyOf(now);
        return true;
    }

    Map<UUID, Target> targets() {
        return targets;
    }

    int totalWorkers() {
        int n = 0;
        for (Target t : targets.values()) {
            n += t.workers();
        }
        return n;
    }

    void watch(Runnable watcher) {
        watchers.add(watcher);
    }

    void unwatch(Runnable watcher) {
        watchers.remove(watcher);
    }

    List<String> addresses() {
        return targets.values().stream().map(Target::address).sorted().toList();
    }

    void stop() {
        stopped = true;
        refresher.shutdownNow();
        try {
            if (membershipListener != null) {
                hz.getCluster().removeMembershipListener(membershipListener);
            }
            if (entryListener != null) {
                records.removeEntryListener(entryListener);
            }
        } catch (RuntimeException alreadyDown) {
            // the instance is gone with its listeners
        }
    }
}
