package multiprocessing.internal.cluster;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;
import java.util.function.BiFunction;

import com.hazelcast.map.IMap;

import multiprocessing.AuthenticationError;
import multiprocessing.internal.util.LibraryLog;

/**
 * A cluster-wide {@link ConcurrentMap} on a Hazelcast {@link IMap} of sealed bytes. Keys are
 * sealed for the dict, values for the dict and their key, so a value cannot be moved under
 * another key; both are checked before they are deserialized. Keys are compared by their
 * serialized bytes, as Hazelcast compares them: use keys whose bytes equal objects share
 * (strings, numbers, records of them), not ones such as a {@code HashSet} whose serialized
 * order may differ. Values are compared with {@code equals}: the conditional methods
 * ({@code replace(k, old, new)}, {@code remove(k, v)}) read the stored bytes, compare what they
 * hold with the value given, and swap on those very bytes with the IMap's own compare-and-set
 * (review 50: comparing the given value's bytes made again, a {@code Set.of} read in another
 * JVM or a {@code HashSet} that once was larger never matched, and {@code merge} spun for
 * good). {@code merge}, {@code compute}, {@code computeIfPresent} and {@code replaceAll} swap on the stored bytes
 * with no comparison at all, so they are atomic cluster-wide for any value, a {@code byte[]}
 * too ({@code computeIfAbsent} is ConcurrentMap's, over {@code putIfAbsent}); views are
 * snapshots whose {@code remove} writes through.
 */
final class SealedDict<K, V> extends AbstractMap<K, V> implements ConcurrentMap<K, V> {
    /** Of Object: what a peer without the key put there may be of any type (refused on read). */
    private final IMap<Object, Object> map;
    private final Sealer sealer;
    private final String name;
    private final byte[] bound;

    SealedDict(IMap<Object, Object> map, Sealer sealer, String name) {
        this.map = map;
        this.sealer = sealer;
        this.name = name;
        this.bound = Seal.utf8(name);
    }

    private byte[] key(Object k) {
        return sealer.seal("dict-key", k, bound);
    }

    private byte[] value(byte[] key, Object v) {
        return sealer.seal("dict-value", v, bound, key);
    }

    @SuppressWarnings("unchecked")
    private K keyOf(Object k) {
        return (K) sealer.open("dict-key", k, "a key of dict '" + name + "'", bound);
    }

    private V valueOf(byte[] key, Object v) {
        return v == null ? null : sealer.open("dict-value", v, "a value of dict '" + name + "'", bound, key);
    }

    /**
     * The previous value a write returns ({@code put}, {@code remove}, {@code replace}); null,
     * with a warning, when a peer without the key wrote it: the write is done, and throwing
     * told the caller it was not (attack 32).
     */
    private V previous(byte[] key, Sealer.Read<Object, RuntimeException> write) {
        try {
            return valueOf(key, read(write));
        } catch (AuthenticationError e) {
            LibraryLog.get().log(System.Logger.Level.WARNING, "a write to dict '" + name
                    + "' replaced or removed an entry that is not read: " + e.getMessage());
            return null;
        }
    }

    /** What the IMap returns, or AuthenticationError for what Hazelcast cannot read at all. */
    private <T> T read(Sealer.Read<T, RuntimeException> call) {
        return Sealer.reading("an entry of dict '" + name + "'", call);
    }

    @Override
    public V get(Object k) {
        if (k == null) {
            return null;
        }
        byte[] key = key(k);
        return valueOf(key, read(() -> map.get(key)));
    }

    @Override
    public boolean containsKey(Object k) {
        return k != null && map.containsKey(key(k));
    }

    @Override
    public V put(K k, V v) {
        byte[] key = key(k);
        byte[] value = value(key, v);
        return previous(key, () -> map.put(key, value));
    }

    @Override
    public V remove(Object k) {
        if (k == null) {
            return null;
        }
        byte[] key = key(k);
        return previous(key, () -> map.remove(key));
    }

    @Override
    public V putIfAbsent(K k, V v) {
        byte[] key = key(k);
        byte[] value = value(key, v);
        return valueOf(key, read(() -> map.putIfAbsent(key, value)));
    }

    @Override
    public boolean remove(Object k, Object v) {
        if (k == null || v == null) {
            return false;
        }
        byte[] key = key(k);
        while (true) {
            Object stored = read(() -> map.get(key));
            if (stored == null || !v.equals(valueOf(key, stored))) {
                return false;
            }
            if (map.remove(key, stored)) {
                return true;
            }
            // written meanwhile: look again (another write succeeded)
        }
    }

    @Override
    public boolean replace(K k, V oldValue, V newValue) {
        byte[] key = key(k);
        byte[] replacement = value(key, newValue);
        while (true) {
            Object stored = read(() -> map.get(key));
            if (stored == null || !java.util.Objects.equals(valueOf(key, stored), oldValue)) {
                return false;
            }
            if (map.replace(key, stored, replacement)) {
                return true;
            }
            // written meanwhile: look again (another write succeeded)
        }
    }

    /*
     * The compound methods swap on the stored bytes themselves, with no equals: ConcurrentMap's
     * own loops go through replace(k, old, new), which compares with equals, and for a value
     * whose class keeps Object's (a byte[], an int[], most plain classes) a copy read back
     * never equals another, so merge and compute spun for good (attack 51). Here the function
     * runs again only when another write came first, as in ConcurrentMap's.
     */

    @Override
    public V compute(K k, BiFunction<? super K, ? super V, ? extends V> f) {
        Objects.requireNonNull(f);
        byte[] key = key(k);
        return swapping(key, false, stored -> f.apply(k, valueOf(key, stored)));
    }

    @Override
    public V computeIfPresent(K k, BiFunction<? super K, ? super V, ? extends V> f) {
        Objects.requireNonNull(f);
        byte[] key = key(k);
        return swapping(key, true, stored -> f.apply(k, valueOf(key, stored)));
    }

    @Override
    public V merge(K k, V v, BiFunction<? super V, ? super V, ? extends V> f) {
        Objects.requireNonNull(v);
        Objects.requireNonNull(f);
        byte[] key = key(k);
        return swapping(key, false,
                stored -> stored == null ? v : f.apply(valueOf(key, stored), v));
    }

    @Override
    public void replaceAll(BiFunction<? super K, ? super V, ? extends V> f) {
        Objects.requireNonNull(f);
        for (K k : new ArrayList<>(keySet())) {
            byte[] key = key(k);
            swapping(key, true, stored -> Objects.requireNonNull(
                    f.apply(k, valueOf(key, stored)), "replaceAll's function returned null"));
        }
    }

    /**
     * Reads what {@code key} holds, has {@code next} make its new value from those bytes
     * (null: absent), and swaps it in unless another write came first; again until a swap
     * holds. With {@code ifPresent}, an absent key stays so, and null is returned.
     */
    private V swapping(byte[] key, boolean ifPresent,
            java.util.function.Function<Object, ? extends V> next) {
        while (true) {
            Object stored = read(() -> map.get(key));
            if (stored == null && ifPresent) {
                return null;
            }
            V made = next.apply(stored);
            if (swap(key, stored, made)) {
                return made;
            }
        }
    }

    /**
     * Sets {@code key} from {@code stored} (null: absent) to {@code made} (null: absent), if
     * it still holds those very bytes; false if another write came first.
     */
    private boolean swap(byte[] key, Object stored, V made) {
        if (stored == null) {
            return made == null || map.putIfAbsent(key, value(key, made)) == null;
        }
        return made == null ? map.remove(key, stored) : map.replace(key, stored, value(key, made));
    }

    @Override
    public V replace(K k, V v) {
        byte[] key = key(k);
        byte[] value = value(key, v);
        return previous(key, () -> map.replace(key, value));
    }

    @Override
    public int size() {
        return map.size();
    }

    @Override
    public boolean isEmpty() {
        return map.isEmpty();
    }

    @Override
    public void clear() {
        map.clear();
    }

    @Override
    public void putAll(Map<? extends K, ? extends V> m) {
        Map<byte[], byte[]> sealed = new java.util.HashMap<>();
        for (Map.Entry<? extends K, ? extends V> e : m.entrySet()) {
            byte[] key = key(e.getKey());
            sealed.put(key, value(key, e.getValue()));
        }
        map.putAll(sealed);
    }

    /** The entries now (one call); an entry's {@code setValue} and the iterator's {@code remove} write through. */
    @Override
    public Set<Map.Entry<K, V>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Map.Entry<K, V>> iterator() {
                return new SnapshotIterator<Map.Entry<Object, Object>, Map.Entry<K, V>>(
                        read(() -> new ArrayList<>(map.entrySet())), e -> {
                            K k = keyOf(e.getKey()); // refused unless sealed bytes
                            byte[] key = (byte[]) e.getKey();
                            return new SimpleEntry<>(k, valueOf(key, e.getValue())) {
                                private static final long serialVersionUID = 1L;

                                @Override
                                public V setValue(V v) {
                                    V old = super.setValue(v);
                                    map.put(key, value(key, v));
                                    return old;
                                }
                            };
                        }, e -> map.remove(e.getKey()));
            }

            @Override
            public int size() {
                return map.size();
            }
        };
    }

    @Override
    public String toString() {
        return "<cluster dict '" + name + "'>";
    }
}
