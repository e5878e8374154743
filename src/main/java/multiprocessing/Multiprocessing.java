package multiprocessing;
public final class Multiprocessing { private Multiprocessing() {} }
