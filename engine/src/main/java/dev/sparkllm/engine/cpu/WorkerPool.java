package dev.sparkllm.engine.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of threads that run one piece of work together and wait for each other: the caller is worker 0,
 * {@code threads - 1} daemon threads are the rest. A forward step has a few dozen such sections (one per
 * group of linears, one per attention), so a section must cost microseconds: workers spin briefly before
 * parking, and nothing is allocated per section.
 *
 * <p>Which worker computes which part never changes a result: every caller splits work so that each output
 * value is computed by exactly one worker with the same arithmetic, whatever the split.
 */
final class WorkerPool implements AutoCloseable {

    /** Work for one section; {@code worker} in {@code [0, workers)}. */
    interface Section {
        void run(int worker, int workers);
    }

    /** Spins before parking: long enough to bridge the gap between two sections of one step. */
    private static final int SPINS = 2_000;

    private final int size;
    private final Thread[] threads;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Section current;
    private volatile int generation;
    private volatile Thread caller;
    private volatile Throwable failure;
    private volatile boolean closed;

    WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        this.size = threads;
        this.threads = new Thread[threads - 1];
        for (int i = 1; i < threads; i++) {
            int worker = i;
            Thread t = new Thread(() -> workLoop(worker), "sparkllm-cpu-worker-" + i);
            t.setDaemon(true);
            this.threads[i - 1] = t;
            t.start();
        }
    }

    int size() {
        return size;
    }

    /** Runs {@code section} on every worker and returns when all are done; rethrows the first failure. */
    void run(Section section) {
        if (closed) throw new IllegalStateException("the CPU backend's worker pool is closed");
        if (size == 1) {
            section.run(0, 1);
            return;
        }
        failure = null;
        caller = Thread.currentThread();
        current = section;
        pending.set(size - 1);
        generation++; // volatile write: publishes the fields above to the workers
        for (Thread t : threads) LockSupport.unpark(t);
        try {
            section.run(0, size);
        } catch (Throwable e) {
            failure = e;
        }
        for (int spin = 0; pending.get() > 0; spin++) {
            if (spin < SPINS) Thread.onSpinWait();
            else LockSupport.park(this);
        }
        Throwable f = failure;
        if (f instanceof RuntimeException re) throw re;
        if (f instanceof Error err) throw err;
        if (f != null) throw new IllegalStateException(f);
    }

    private void workLoop(int worker) {
        int seen = 0;
        while (true) {
            for (int spin = 0; generation == seen && !closed; spin++) {
                if (spin < SPINS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (closed) return;
            seen = generation;
            try {
                current.run(worker, size);
            } catch (Throwable e) {
                failure = e;
            }
            if (pending.decrementAndGet() == 0) LockSupport.unpark(caller);
        }
    }

    /**
     * The part {@code [start, end)} of {@code [0, n)} that {@code worker} owns, cut at multiples of
     * {@code align} (packed GPTQ columns come in groups, and whole cache lines avoid false sharing).
     */
    static int partStart(int n, int worker, int workers, int align) {
        int per = ceilDiv(ceilDiv(n, workers), align) * align;
        return Math.min(n, worker * per);
    }

    static int partEnd(int n, int worker, int workers, int align) {
        return partStart(n, worker + 1, workers, align);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : threads) LockSupport.unpark(t);
    }
}
