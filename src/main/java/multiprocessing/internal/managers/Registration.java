package multiprocessing.internal.managers;

import java.util.List;
import java.util.Map;

import multiprocessing.SerializableCallable;
import multiprocessing.SerializableFunction;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.spawn.ClassReach;

/**
 * A type registered with a manager (Python's {@code BaseManager.register}): how the server makes
 * an object of it, which interfaces its proxies implement, which methods clients may call
 * ({@code exposed}, null for every public method), the methods whose results are themselves
 * shared objects of another type ({@code methodToTypeId}) and whether clients may create it
 * ({@code createMethod}). It travels to the server process with the rest of the registry.
 *
 * @param callable a {@link SerializableCallable}, a {@link SerializableFunction} of the
 *        arguments ({@code Object[]}), or null for a type only a client knows
 */
public record Registration(String typeId, Object callable, List<Class<?>> interfaces,
        List<String> exposed, Map<String, String> methodToTypeId, boolean createMethod) {

    static {
        // A standard type (StandardTypes) is written as its id alone; any other as names and
        // lists of strings (no Class, no Map), so that a registry of plain callables is a
        // payload PlainStream writes: a manager's server process then starts without building
        // Fory (bench/RESULTS.md, eighteenth session).
        Serialization.register(Registration.class, new Reducer<Registration>() {
            @Override
            public void reduce(Registration r, Out out) {
                boolean standard = StandardTypes.isStandard(r);
                out.writeBoolean(standard);
                if (standard) {
                    out.writeObject(r.typeId);
                    return;
                }
                for (Object o : carried(r)) {
                    out.writeObject(o);
                }
                out.writeBoolean(r.createMethod);
            }

            @Override
            @SuppressWarnings("unchecked")
            public Registration rebuild(In in) {
                if (in.readBoolean()) {
                    return StandardTypes.named((String) in.readObject());
                }
                String typeId = (String) in.readObject();
                Object callable = in.readObject();
                List<Class<?>> interfaces = ((List<String>) in.readObject()).stream()
                        .<Class<?>>map(Serialization::loadReceived).toList();
                List<String> exposed = (List<String>) in.readObject();
                List<String> pairs = (List<String>) in.readObject();
                Map<String, String> methodToTypeId = new java.util.HashMap<>();
                for (int i = 0; i + 1 < pairs.size(); i += 2) {
                    methodToTypeId.put(pairs.get(i), pairs.get(i + 1));
                }
                return new Registration(typeId, callable, interfaces, exposed, methodToTypeId,
                        in.readBoolean());
            }

            @Override
            public List<Object> carried(Registration r) {
                if (StandardTypes.isStandard(r)) {
                    return List.of(r.typeId);
                }
                List<String> pairs = new java.util.ArrayList<>();
                r.methodToTypeId.forEach((method, type) -> {
                    pairs.add(method);
                    pairs.add(type);
                });
                return java.util.Arrays.asList(r.typeId, r.callable,
                        r.interfaces.stream().map(Class::getName).toList(), r.exposed,
                        List.copyOf(pairs));
            }
        });
    }

    public Registration {
        interfaces = List.copyOf(interfaces);
        exposed = exposed == null ? null : List.copyOf(exposed);
        methodToTypeId = methodToTypeId == null ? Map.of() : Map.copyOf(methodToTypeId);
    }

    /**
     * Notes where this type's classes come from, so that the server process, started with
     * the class path and class server a process gets, finds them (see {@link ClassReach});
     * returns why no other process could load one of them, or null when each can be.
     */
    public String reach() {
        List<Class<?>> classes = new java.util.ArrayList<>(interfaces);
        if (callable != null) {
            classes.add(0, callable.getClass());
        }
        for (Class<?> c : classes) {
            String problem = ClassReach.unreachable(c);
            if (problem != null) {
                return "type '" + typeId + "': " + problem;
            }
            ClassReach.note(c);
        }
        return null;
    }

    /** Makes a new object of this type. */
    @SuppressWarnings("unchecked")
    Object make(Object[] args) throws Exception {
        if (callable instanceof SerializableCallable<?> c) {
            if (args.length > 0) {
                throw new IllegalArgumentException("type '" + typeId + "' is made by a callable "
                        + "that takes no arguments, but " + args.length + " were given");
            }
            return c.call();
        }
        if (callable instanceof SerializableFunction<?, ?> f) {
            try {
                return ((SerializableFunction<Object[], ?>) f).apply(args);
            } catch (ClassCastException | ArrayIndexOutOfBoundsException e) {
                // Arguments of the wrong type or number, as Python's TypeError says.
                throw new IllegalArgumentException("type '" + typeId + "' cannot be made from "
                        + "the arguments " + java.util.Arrays.toString(args) + ": " + e, e);
            }
        }
        throw new IllegalArgumentException("type '" + typeId + "' was registered without a "
                + "callable in the manager's server: it cannot be created there");
    }
}
