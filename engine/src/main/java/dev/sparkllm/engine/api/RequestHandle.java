package dev.sparkllm.engine.api;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/** A submitted request: its future result, and a way to cancel it. */
public interface RequestHandle {

    /** The request's id. */
    String id();

    /**
     * Completes with the result (finish reason STOP, LENGTH, CANCELLED or ERROR for a request-level failure);
     * completes exceptionally when the engine itself failed (device error, engine closed by a fault), which is
     * not the request's fault and should be retried elsewhere.
     */
    CompletableFuture<GenerationResult> result();

    /** Cancels the request; its KV blocks are freed at the next step. The result completes as CANCELLED. */
    void cancel();

    /** Waits for the result; an engine failure is rethrown as {@link EngineFailedException}. */
    default GenerationResult await() throws InterruptedException {
        try {
            return result().get();
        } catch (ExecutionException e) {
            throw new EngineFailedException("engine failed while generating request " + id(), e.getCause());
        }
    }
}
