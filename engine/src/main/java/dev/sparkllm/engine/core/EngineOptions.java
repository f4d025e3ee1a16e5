package dev.sparkllm.engine.core;

/**
 * How an {@link Engine} batches work. The KV cache's block size and block count are not options: they come
 * from the backend, which sized the cache to its memory.
 *
 * @param maxBatchSequences  most sequences running at once (the batch's capacity); default 256
 * @param maxStepTokens      most tokens computed in one step, prefill and decode together (the per-step token
 *                           budget that keeps a long prompt from stalling running decodes); default 2048
 * @param prefillChunkTokens most prompt tokens of one sequence computed in one step; longer prompts are
 *                           prefilled in chunks beside the running decodes; default 512
 * @param queueCapacity      most requests waiting for admission; {@code submit} blocks while it is full
 *                           (back-pressure); default 1024
 * @param prefixCaching      share the KV blocks of common prompt prefixes between sequences; default on
 * @param contextLength      most tokens per sequence (prompt plus generation); 0 means the model's
 *                           {@code max_position_embeddings}; default 0
 */
public record EngineOptions(
        int maxBatchSequences,
        int maxStepTokens,
        int prefillChunkTokens,
        int queueCapacity,
        boolean prefixCaching,
        int contextLength) {

    public EngineOptions {
        if (maxBatchSequences < 1) throw new IllegalArgumentException("maxBatchSequences must be at least 1, got " + maxBatchSequences);
        if (maxStepTokens < maxBatchSequences) {
            throw new IllegalArgumentException("maxStepTokens (" + maxStepTokens + ") must be at least maxBatchSequences ("
                    + maxBatchSequences + "), or a full batch could not decode one token each per step");
        }
        if (prefillChunkTokens < 1) throw new IllegalArgumentException("prefillChunkTokens must be at least 1, got " + prefillChunkTokens);
        if (queueCapacity < 1) throw new IllegalArgumentException("queueCapacity must be at least 1, got " + queueCapacity);
        if (contextLength < 0) throw new IllegalArgumentException("contextLength must be 0 (the model's) or positive, got " + contextLength);
    }

    /** The defaults listed above. */
    public static EngineOptions defaults() {
        return new EngineOptions(256, 2048, 512, 1024, true, 0);
    }

    public EngineOptions withMaxBatchSequences(int n) {
        return new EngineOptions(n, Math.max(maxStepTokens, n), prefillChunkTokens, queueCapacity, prefixCaching, contextLength);
    }

    public EngineOptions withMaxStepTokens(int n) {
        return new EngineOptions(maxBatchSequences, n, prefillChunkTokens, queueCapacity, prefixCaching, contextLength);
    }

    public EngineOptions withPrefillChunkTokens(int n) {
        return new EngineOptions(maxBatchSequences, maxStepTokens, n, queueCapacity, prefixCaching, contextLength);
    }

    public EngineOptions withQueueCapacity(int n) {
        return new EngineOptions(maxBatchSequences, maxStepTokens, prefillChunkTokens, n, prefixCaching, contextLength);
    }

    public EngineOptions withPrefixCaching(boolean on) {
        return new EngineOptions(maxBatchSequences, maxStepTokens, prefillChunkTokens, queueCapacity, on, contextLength);
    }

    public EngineOptions withContextLength(int n) {
        return new EngineOptions(maxBatchSequences, maxStepTokens, prefillChunkTokens, queueCapacity, prefixCaching, n);
    }
}
