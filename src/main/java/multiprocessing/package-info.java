/**
 * Python's {@code multiprocessing} for Java: processes on fresh JVMs ({@link multiprocessing.Process}),
 * the module-level functions ({@link multiprocessing.Multiprocessing}), start methods and their
 * factories ({@link multiprocessing.Context}), queues between processes
 * ({@link multiprocessing.Queue}, {@link multiprocessing.SimpleQueue},
 * {@link multiprocessing.JoinableQueue}), {@link multiprocessing.ProcessPoolExecutor}, the
 * serializable functional interfaces that carry code to another process, and the exceptions.
 *
 * <p>Sub-packages mirror Python's modules: {@code connection}, {@code synchronize},
 * {@code sharedctypes}, {@code sharedmemory}, {@code managers}, {@code pool} and {@code dummy}.
 * Everything under
 * {@code multiprocessing.internal} is implementation: one layer over libc
 * ({@code internal.posix}, over jextract's bindings in {@code internal.libc}), the spawn of child
 * JVMs ({@code internal.spawn}), the one serialization configuration ({@code internal.reduction}),
 * the one message framing ({@code internal.framing}), the one futex synchronizer
 * ({@code internal.sync}), the shared heap ({@code internal.heap}), the queues' ring
 * ({@code internal.queue}), the managers' server and connections ({@code internal.managers})
 * and the resource tracker ({@code internal.tracker}).
 */
package multiprocessing;
