package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.api.RequestHandle;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** The caller's side of a {@link Sequence}: its future result, and cancellation handed to the engine thread. */
final class SequenceHandle implements RequestHandle {

    private final String id;
    private final CompletableFuture<GenerationResult> result;
    private final Sequence sequence;          // null for a request rejected at submit
    private final Consumer<Sequence> cancel;  // queues the cancellation and wakes the engine

    SequenceHandle(Sequence sequence, Consumer<Sequence> cancel) {
        this.id = sequence.requestId();
        this.result = sequence.result;
        this.sequence = sequence;
        this.cancel = cancel;
    }

    /** A handle whose result is already known (a request rejected before it reached the queue). */
    SequenceHandle(String id, GenerationResult done) {
        this.id = id;
        this.result = CompletableFuture.completedFuture(done);
        this.sequence = null;
        this.cancel = null;
    }

    @Override
    public String id() { return id; }

    @Override
    public CompletableFuture<GenerationResult> result() { return result; }

    @Override
    public void cancel() {
        if (sequence == null || result.isDone() || sequence.cancelRequested) return;
        sequence.cancelRequested = true;
        cancel.accept(sequence);
    }

    @Override
    public String toString() { return "request " + id + (result.isDone() ? " (done)" : " (pending)"); }
}
