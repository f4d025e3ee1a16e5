package dev.sparkllm.engine.api;

import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A running model that generates for many requests at once (continuous batching). Thread-safe: any number of
 * threads submit; one engine thread runs the model. What Spark tasks, the CLI and notebooks talk to.
 */
public interface GenerationEngine extends AutoCloseable {

    /** The model's shape. */
    LlamaConfig config();

    /** The model's tokenizer. */
    Tokenizer tokenizer();

    /** Context window in tokens (prompt plus generation). */
    int contextLength();

    /**
     * Queues a request. Blocks while the engine's queue is full (back-pressure) and throws
     * {@link IllegalStateException} once the engine is closed or failed.
     *
     * @param listener receives tokens as they are produced; may be null
     */
    RequestHandle submit(GenerationRequest request, TokenListener listener) throws InterruptedException;

    /** Counters and gauges for progress reports. */
    EngineMetrics metrics();

    /** Stops the engine thread; requests still running end with finish reason CANCELLED. */
    @Override
    void close();

    /** Blocking convenience: generates all requests together and returns results in the same order. */
    default List<GenerationResult> generate(List<GenerationRequest> requests) throws InterruptedException {
        List<RequestHandle> handles = new ArrayList<>(requests.size());
        for (GenerationRequest r : requests) handles.add(submit(r, null));
        List<GenerationResult> results = new ArrayList<>(handles.size());
        for (RequestHandle h : handles) results.add(h.await());
        return results;
    }
}
