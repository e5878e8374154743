package multiprocessing.internal.managers.proxies;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.ListIterator;
import java.util.Spliterator;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import multiprocessing.managers.ListProxy;

/** The proxy class of {@link ListProxy}, written out (see {@link StandardProxy}). */
@SuppressWarnings({"rawtypes", "unchecked"})
final class ListProxyObject extends StandardProxy implements ListProxy {
    private static final Method M0 = method(List.class, "add", Object.class);
    private static final Method M1 = method(List.class, "add", int.class, Object.class);
    private static final Method M2 = method(List.class, "addAll", int.class, Collection.class);
    private static final Method M3 = method(List.class, "addAll", Collection.class);
    private static final Method M4 = method(List.class, "addFirst", Object.class);
    private static final Method M5 = method(List.class, "addLast", Object.class);
    private static final Method M6 = method(List.class, "clear");
    private static final Method M7 = method(List.class, "contains", Object.class);
    private static final Method M8 = method(List.class, "containsAll", Collection.class);
    private static final Method M9 = method(Iterable.class, "forEach", Consumer.class);
    private static final Method M10 = method(List.class, "get", int.class);
    private static final Method M11 = method(List.class, "getFirst");
    private static final Method M12 = method(List.class, "getLast");
    private static final Method M13 = method(List.class, "indexOf", Object.class);
    private static final Method M14 = method(List.class, "isEmpty");
    private static final Method M15 = method(List.class, "iterator");
    private static final Method M16 = method(List.class, "lastIndexOf", Object.class);
    private static final Method M17 = method(List.class, "listIterator");
    private static final Method M18 = method(List.class, "listIterator", int.class);
    private static final Method M19 = method(Collection.class, "parallelStream");
    private static final Method M20 = method(List.class, "remove", Object.class);
    private static final Method M21 = method(List.class, "remove", int.class);
    private static final Method M22 = method(List.class, "removeAll", Collection.class);
    private static final Method M23 = method(List.class, "removeFirst");
    private static final Method M24 = method(Collection.class, "removeIf", Predicate.class);
    private static final Method M25 = method(ListProxy.class, "removeIf", ListProxy.Filter.class);
    private static final Method M26 = method(List.class, "removeLast");
    private static final Method M27 = method(List.class, "replaceAll", UnaryOperator.class);
    private static final Method M28 =
            method(ListProxy.class, "replaceAll", ListProxy.Operator.class);
    private static final Method M29 = method(List.class, "retainAll", Collection.class);
    private static final Method M30 = method(List.class, "reversed");
    private static final Method M31 = method(List.class, "set", int.class, Object.class);
    private static final Method M32 = method(List.class, "size");
    private static final Method M33 = method(List.class, "sort", Comparator.class);
    private static final Method M34 = method(ListProxy.class, "sort", ListProxy.Order.class);
    private static final Method M35 = method(List.class, "spliterator");
    private static final Method M36 = method(Collection.class, "stream");
    private static final Method M37 = method(List.class, "subList", int.class, int.class);
    private static final Method M38 = method(List.class, "toArray");
    private static final Method M39 = method(List.class, "toArray", Object[].class);
    private static final Method M40 = method(Collection.class, "toArray", IntFunction.class);
    private static final Method M41 = method(ListProxy.class, "reverse");

    ListProxyObject(InvocationHandler handler) {
        super(handler, ListProxy.class);
    }

    @Override
    public boolean add(Object a0) {
        return (Boolean) call(M0, new Object[] {a0});
    }

    @Override
    public void add(int a0, Object a1) {
        call(M1, new Object[] {a0, a1});
    }

    @Override
    public boolean addAll(int a0, Collection a1) {
        return (Boolean) call(M2, new Object[] {a0, a1});
    }

    @Override
    public boolean addAll(Collection a0) {
        return (Boolean) call(M3, new Object[] {a0});
    }

    @Override
    public void addFirst(Object a0) {
        call(M4, new Object[] {a0});
    }

    @Override
    public void addLast(Object a0) {
        call(M5, new Object[] {a0});
    }

    @Override
    public void clear() {
        call(M6, null);
    }

    @Override
    public void reverse() {
        call(M41, null);
    }

    @Override
    public boolean contains(Object a0) {
        return (Boolean) call(M7, new Object[] {a0});
    }

    @Override
    public boolean containsAll(Collection a0) {
        return (Boolean) call(M8, new Object[] {a0});
    }

    @Override
    public void forEach(Consumer a0) {
        call(M9, new Object[] {a0});
    }

    @Override
    public Object get(int a0) {
        return call(M10, new Object[] {a0});
    }

    @Override
    public Object getFirst() {
        return call(M11, null);
    }

    @Override
    public Object getLast() {
        return call(M12, null);
    }

    @Override
    public int indexOf(Object a0) {
        return (Integer) call(M13, new Object[] {a0});
    }

    @Override
    public boolean isEmpty() {
        return (Boolean) call(M14, null);
    }

    @Override
    public Iterator iterator() {
        return (Iterator) call(M15, null);
    }

    @Override
    public int lastIndexOf(Object a0) {
        return (Integer) call(M16, new Object[] {a0});
    }

    @Override
    public ListIterator listIterator() {
        return (ListIterator) call(M17, null);
    }

    @Override
    public ListIterator listIterator(int a0) {
        return (ListIterator) call(M18, new Object[] {a0});
    }

    @Override
    public Stream parallelStream() {
        return (Stream) call(M19, null);
    }

    @Override
    public boolean remove(Object a0) {
        return (Boolean) call(M20, new Object[] {a0});
    }

    @Override
    public Object remove(int a0) {
        return call(M21, new Object[] {a0});
    }

    @Override
    public boolean removeAll(Collection a0) {
        return (Boolean) call(M22, new Object[] {a0});
    }

    @Override
    public Object removeFirst() {
        return call(M23, null);
    }

    @Override
    public boolean removeIf(Predicate a0) {
        return (Boolean) call(M24, new Object[] {a0});
    }

    @Override
    public boolean removeIf(ListProxy.Filter a0) {
        return (Boolean) call(M25, new Object[] {a0});
    }

    @Override
    public Object removeLast() {
        return call(M26, null);
    }

    @Override
    public void replaceAll(UnaryOperator a0) {
        call(M27, new Object[] {a0});
    }

    @Override
    public void replaceAll(ListProxy.Operator a0) {
        call(M28, new Object[] {a0});
    }

    @Override
    public boolean retainAll(Collection a0) {
        return (Boolean) call(M29, new Object[] {a0});
    }

    @Override
    public List reversed() {
        return (List) call(M30, null);
    }

    @Override
    public Object set(int a0, Object a1) {
        return call(M31, new Object[] {a0, a1});
    }

    @Override
    public int size() {
        return (Integer) call(M32, null);
    }

    @Override
    public void sort(Comparator a0) {
        call(M33, new Object[] {a0});
    }

    @Override
    public void sort(ListProxy.Order a0) {
        call(M34, new Object[] {a0});
    }

    @Override
    public Spliterator spliterator() {
        return (Spliterator) call(M35, null);
    }

    @Override
    public Stream stream() {
        return (Stream) call(M36, null);
    }

    @Override
    public List subList(int a0, int a1) {
        return (List) call(M37, new Object[] {a0, a1});
    }

    @Override
    public Object[] toArray() {
        return (Object[]) call(M38, null);
    }

    @Override
    public Object[] toArray(Object[] a0) {
        return (Object[]) call(M39, new Object[] {a0});
    }

    @Override
    public Object[] toArray(IntFunction a0) {
        return (Object[]) call(M40, new Object[] {a0});
    }
}
