/**
 * Python's {@code multiprocessing.sharedctypes}: C values and arrays in shared memory with
 * Python's typecodes or a {@link java.lang.foreign.MemoryLayout}, their lock-carrying
 * {@code Value}/{@code Array} forms, and typed views ({@code SharedInt}, {@code SharedLong},
 * {@code SharedDouble}, typed arrays) whose updates are atomic across processes.
 */
package multiprocessing.sharedctypes;
