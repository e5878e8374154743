package multiprocessing.internal.cluster;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Iterates a snapshot of a sealed structure's raw entries, opening each as it is reached, with
 * a {@code remove()} that removes the last raw entry from the live structure.
 */
final class SnapshotIterator<R, T> implements Iterator<T> {
    private final Iterator<R> raw;
    private final Function<R, T> open;
    private final Consumer<R> removeFromStructure;
    private R last;

    SnapshotIterator(List<R> snapshot, Function<R, T> open, Consumer<R> removeFromStructure) {
        this.raw = snapshot.iterator();
        this.open = open;
        this.removeFromStructure = removeFromStructure;
    }

    @Override
    public boolean hasNext() {
        return raw.hasNext();
    }

    @Override
    public T next() {
        if (!raw.hasNext()) {
            throw new NoSuchElementException();
        }
        last = raw.next();
        return open.apply(last);
    }

    @Override
    public void remove() {
        if (last == null) {
            throw new IllegalStateException("next() first");
        }
        removeFromStructure.accept(last);
        last = null;
    }
}
