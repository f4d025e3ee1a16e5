package dev.sparkllm.engine.core;

import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepOutput;
import dev.sparkllm.engine.model.LlamaConfig;

import java.util.concurrent.Semaphore;

/** Wraps a backend so a test decides when each step may run: one permit per step. */
final class GatedBackend implements ModelBackend {

    private final ModelBackend inner;
    private final Semaphore permits = new Semaphore(0);
    volatile boolean closed;

    GatedBackend(ModelBackend inner) {
        this.inner = inner;
    }

    /** Lets {@code steps} more steps run. */
    void allow(int steps) { permits.release(steps); }

    /** Lets every step run from now on. */
    void open() { permits.release(Integer.MAX_VALUE / 2); }

    /** Waits until the engine thread is blocked at the gate (a step is scheduled and waiting). */
    void awaitWaitingStep() throws InterruptedException {
        while (!permits.hasQueuedThreads()) Thread.sleep(1);
    }

    @Override public LlamaConfig config() { return inner.config(); }
    @Override public int kvBlockSize() { return inner.kvBlockSize(); }
    @Override public int kvBlockCount() { return inner.kvBlockCount(); }
    @Override public String describe() { return "gated " + inner.describe(); }

    @Override
    public StepOutput execute(StepInput input) {
        permits.acquireUninterruptibly();
        return inner.execute(input);
    }

    @Override
    public void close() {
        closed = true;
        inner.close();
    }
}
