package multiprocessing.internal.managers;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;

/**
 * The object behind a manager's list: an {@link ArrayList} with Python's {@code reverse()},
 * which {@code ListProxy.reverse()} calls in the server as one step. It never leaves the server
 * as itself: a copy of it ({@code getValue()}) is a plain ArrayList ({@link #plain}).
 *
 * @param <E> the type of the elements
 */
final class ServerList<E> extends ArrayList<E> {
    private static final long serialVersionUID = 1L;

    ServerList() {}

    ServerList(Collection<? extends E> elements) {
        super(elements);
    }

    /** Python's {@code list.reverse()}. */
    public void reverse() {
        Collections.reverse(this);
    }

    /** {@code object}, or a plain ArrayList of its elements if it is a ServerList. */
    static Object plain(Object object) {
        return object instanceof ServerList<?> l ? new ArrayList<>(l) : object;
    }
}
