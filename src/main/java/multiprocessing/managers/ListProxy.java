package multiprocessing.managers;

import java.io.Serializable;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A shared list ({@link SyncManager#list()}): a {@link List} whose elements live in the
 * manager's server. Each method is one call, done atomically there; {@code replaceAll},
 * {@code removeIf}, {@code sort} and {@code reverse} run in the server as one step, with a function that must
 * therefore be serializable (the overloads here take such types). Iterating
 * ({@code iterator}, {@code stream}, {@code forEach}, {@code toArray}), {@code subList} (a
 * copy, not a view), {@code equals}, {@code hashCode} and {@code toString} work on a
 * read-only snapshot of the whole list taken by one call.
 *
 * @param <E> the type of the elements
 */
public interface ListProxy<E> extends List<E>, BaseProxy {
    /**
     * A {@link UnaryOperator} that can travel to the server.
     *
     * @param <T> the type of the elements
     */
    @FunctionalInterface
    interface Operator<T> extends UnaryOperator<T>, Serializable {}

    /**
     * A {@link Predicate} that can travel to the server.
     *
     * @param <T> the type of the elements
     */
    @FunctionalInterface
    interface Filter<T> extends Predicate<T>, Serializable {}

    /**
     * A {@link Comparator} that can travel to the server.
     *
     * @param <T> the type of the elements
     */
    @FunctionalInterface
    interface Order<T> extends Comparator<T>, Serializable {}

    /**
     * {@link List#replaceAll}, run in the server as one step.
     *
     * @param operator makes each element's new value
     */
    void replaceAll(Operator<E> operator);

    /**
     * {@link java.util.Collection#removeIf}, run in the server as one step.
     *
     * @param filter true for the elements to remove
     * @return whether any element was removed
     */
    boolean removeIf(Filter<? super E> filter);

    /**
     * {@link List#sort}, run in the server as one step.
     *
     * @param order the order, or null for the elements' natural order
     */
    void sort(Order<? super E> order);

    /**
     * Reverses the list in place, in the server as one step (Python's {@code list.reverse()};
     * {@code Collections.reverse} on a proxy would make a call per element, and another process
     * could change the list between them).
     */
    void reverse();
}
