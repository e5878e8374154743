package multiprocessing.internal.managers;

/**
 * Marks a server-side object whose methods the server calls from many threads at once, as its
 * blocking methods need (a queue's get waiting while another client puts). Every other shared
 * object is called one call at a time (see {@link ObjectTable.Entry#concurrent()}).
 */
public interface Concurrent {}
