/**
 * Python's {@code multiprocessing.synchronize}: locks, semaphores, conditions, events and
 * barriers shared by processes and threads alike, as futex words in shared memory, all built on
 * one synchronizer. A lock whose owner process died raises
 * {@link multiprocessing.synchronize.OwnerDeadException} instead of hanging its next taker.
 */
package multiprocessing.synchronize;
