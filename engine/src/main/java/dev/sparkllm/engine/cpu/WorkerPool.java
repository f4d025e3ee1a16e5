package dev.sparkllm.engine.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of threads that share the pieces of one section of work: the caller is worker 0,
 * {@code threads - 1} daemon threads are the others. Workers claim pieces one at a time, so a worker that the
 * operating system has not scheduled yet (this machine is shared) delays nothing: the others take its pieces,
 * and the caller waits only for pieces that were actually claimed. Workers spin briefly before parking,
 * because the next section of a step follows within microseconds.
 *
 * <p>Which worker runs which piece never changes a result: a piece always computes the same outputs with the
 * same arithmetic, whoever runs it.
 */
final class WorkerPool implements AutoCloseable {

    /** One piece of a section; {@code worker} in {@code [0, size())} names the caller's scratch space. */
    interface Section {
        void run(int piece, int pieces, int worker);
    }

    /** Spins before parking: enough to bridge the gap between two sections of a step, short enough not to
     *  steal much from other processes on a loaded machine. */
    private static final int SPINS = 2_000;

    /** One section in flight. A new one per section (three small objects), so a late worker can never
     *  confuse the pieces of two sections. */
    private static final class Task {
        final Section section;
        final int pieces;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Task(Section section, int pieces) {
            this.section = section;
            this.pieces = pieces;
        }
    }

    private final int size;
    private final Thread[] threads;
    private volatile Task task;
    private volatile Thread caller;
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

    /** Runs pieces {@code 0 .. pieces-1} of {@code section} across the workers; returns when all are done. */
    void run(int pieces, Section section) {
        if (closed) throw new IllegalStateException("the CPU backend's worker pool is closed");
        if (pieces <= 0) return;
        if (size == 1 || pieces == 1) {
            for (int p = 0; p < pieces; p++) section.run(p, pieces, 0);
            return;
        }
        Task t = new Task(section, pieces);
        caller = Thread.currentThread();
        task = t;
        for (Thread w : threads) LockSupport.unpark(w);
        runPieces(t, 0);
        for (int spin = 0; t.done.get() < pieces; spin++) {
            if (spin < SPINS) Thread.onSpinWait();
            else LockSupport.park(this);
        }
        Throwable f = t.failure;
        if (f instanceof RuntimeException re) throw re;
        if (f instanceof Error err) throw err;
        if (f != null) throw new IllegalStateException(f);
    }

    private void runPieces(Task t, int worker) {
        for (int p = t.next.getAndIncrement(); p < t.pieces; p = t.next.getAndIncrement()) {
            try {
                t.section.run(p, t.pieces, worker);
            } catch (Throwable e) {
                t.failure = e;
            }
            if (t.done.incrementAndGet() == t.pieces && worker != 0) LockSupport.unpark(caller);
        }
    }

    private void workLoop(int worker) {
        Task seen = null;
        while (true) {
            for (int spin = 0; task == seen && !closed; spin++) {
                if (spin < SPINS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (closed) return;
            seen = task;
            runPieces(seen, worker);
        }
    }

    /**
     * Where piece {@code piece} of {@code pieces} starts in {@code [0, n)}, at a multiple of {@code align}
     * (packed GPTQ columns come in groups, linears work in column tiles, and whole cache lines avoid false
     * sharing). The {@code ceil(n / align)} aligned units are shared out as evenly as whole units allow, so no
     * piece is more than one unit longer than another.
     */
    static int partStart(int n, int piece, int pieces, int align) {
        long units = ceilDiv(n, align);
        return (int) Math.min(n, units * piece / pieces * align);
    }

    static int partEnd(int n, int piece, int pieces, int align) {
        return partStart(n, piece + 1, pieces, align);
    }

    /**
     * How many pieces to cut {@code n} columns of a {@code rows}-row linear into, none narrower than
     * {@code align}. Single-stream steps (fewer than four rows) get one piece per worker: their pieces are so
     * small that per-piece costs (gathering activations, building a row's product tables) and handing pieces
     * over would eat the gain of finer balance. Larger batches get four per worker, so that a worker the
     * operating system runs late costs little.
     */
    int piecesFor(int n, int align, int rows) {
        if (size == 1) return 1;
        int perWorker = rows < 4 ? 1 : 4;
        return Math.max(1, Math.min(perWorker * size, ceilDiv(n, align)));
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
