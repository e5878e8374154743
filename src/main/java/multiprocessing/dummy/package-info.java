/**
 * Python's {@code multiprocessing.dummy}: the module's API on threads, through the context
 * {@link multiprocessing.dummy.Dummy#context()}.
 */
package multiprocessing.dummy;
