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
 * @param samplingThreads    threads that choose tokens from a large batch's logits (results do not depend on
 *                           it); 0 means half the machine's cores, 1 to 8; default 0
 */
public record EngineOptions(
        int maxBatchSequences,
        int maxStepTokens,
        int prefillChunkTokens,
        int queueCapacity,
        boolean prefixCaching,
        int contextLength,
        int samplingThreads) {

    public EngineOptions {
        if (maxBatchSequences < 1) throw new IllegalArgumentException("maxBatchSequences must be at least 1, got " + maxBatchSequences);
        if (maxStepTokens < maxBatchSequences) {
            throw new IllegalArgumentException("maxStepTokens (" + maxStepTokens + ") must be at least maxBatchSequences ("
                    + maxBatchSequences + "), or a full batch could not decode one token each per step");
        }
        if (prefillChunkTokens < 1) throw new IllegalArgumentException("prefillChunkTokens must be at least 1, got " + prefillChunkTokens);
        if (queueCapacity < 1) throw new IllegalArgumentException("queueCapacity must be at least 1, got " + queueCapacity);
        if (contextLength < 0) throw new IllegalArgumentException("contextLength must be 0 (the model's) or positive, got " + contextLength);
        if (samplingThreads < 0) throw new IllegalArgumentException("samplingThreads must be 0 (automatic) or positive, got " + samplingThreads);
        if (samplingThreads == 0) samplingThreads = Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors() / 2));
    }

    /** Options with the given batching limits and the defaults for the rest. */
    public EngineOptions(int maxBatchSequences, int maxStepTokens, int prefillChunkTokens, int queueCapacity,
                         boolean prefixCaching, int contextLength) {
        this(maxBatchSequences, maxStepTokens, prefillChunkTokens, queueCapacity, prefixCaching, contextLength, 0);
    }

    /** The defaults listed above. */
    public static EngineOptions defaults() {
        return new EngineOptions(256, 2048, 512, 1024, true, 0, 0);
    }

    public EngineOptions withMaxBatchSequences(int n) {
        return new EngineOptions(n, Math.max(maxStepTokens, n), prefillChunkTokens, queueCapacity, prefixCaching, contextLength, samplingThreads);
    }

    public EngineOptions withMaxStepTokens(int n) {
        return new EngineOptions(maxBatchSequences, n, prefillChunkTokens, queueCapacity, prefixCaching, contextLength, samplingThreads);
    }

    public EngineOptions withPrefillChunkTokens(int n) {
        return new EngineOptions(maxBatchSequences, maxStepTokens, n, queueCapacity, prefixCaching, contextLength, samplingThreads);
    }

    public EngineOptions withQueueCapacity(int n) {
        return new EngineOptions(maxBatchSequences, maxStepTokens, prefillChunkTokens, n, prefixCaching, contextLength, samplingThreads);
    }

    public EngineOptions withPrefixCaching(boolean on) {
        return new EngineOptions(maxBatchSequences, maxStepTokens, prefillChunkTokens, queueCapacity, on, contextLength, samplingThreads);
    }

    public EngineOptions withSamplingThreads(int n) {
        return new EngineOptions(maxBatchSequences, maxStepTokens, prefillChunkTokens, queueCapacity, prefixCaching, contextLength, n);
    }

    public EngineOptions withContextLength(int n) {
        return new EngineOptions(maxBatchSequences, maxStepTokens, prefillChunkTokens, queueCapacity, prefixCaching, n, samplingThreads);
    }
}
