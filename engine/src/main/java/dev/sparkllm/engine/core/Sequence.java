package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.api.GenerationResult.TokenLogprob;
import dev.sparkllm.engine.api.TokenListener;
import dev.sparkllm.engine.kv.KvBlockTable;
import dev.sparkllm.engine.sampling.SamplingParams;
import dev.sparkllm.engine.sampling.StopConditions;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One request inside the engine. There is no prefill or decode state: a sequence is its tokens (prompt then
 * generated) and how many of them have their KV computed. It wants the next token's logits once every token
 * is computed. Preemption only resets {@link #computed}; the tokens, the stop conditions' state and the
 * sampler's seed stay, so a resumed sequence continues exactly where it was.
 *
 * <p>Owned by the engine thread, except {@link #cancelRequested}, which any thread may set.
 */
final class Sequence {

    enum Status { QUEUED, RUNNING, PREEMPTED, FINISHED }

    final long id;
    final GenerationRequest request;
    final SamplingParams params;   // with the seed resolved
    final long seed;
    final int[] prompt;            // [promptLength]
    final int[] tokens;            // [promptLength + maxNewTokens]: prompt, then generated tokens
    int length;                    // valid entries of tokens
    final int[] output;            // [maxNewTokens]: generated tokens only (what the sampler's penalties see)
    int outputLength;
    int computed;                  // tokens whose KV is in the cache
    final KvBlockTable blocks = new KvBlockTable();
    final StopConditions stop;
    final TokenListener listener;  // may be null
    final List<TokenLogprob> logprobs;   // null unless asked
    final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    volatile boolean cancelRequested;
    Status status = Status.QUEUED;
    long admissionOrder;           // larger = admitted more recently
    long scheduledInStep = -1;     // the step that last scheduled it (so preemption skips it)

    Sequence(long id, GenerationRequest request, SamplingParams params, long seed, StopConditions stop, TokenListener listener) {
        this.id = id;
        this.request = request;
        this.params = params;
        this.seed = seed;
        this.prompt = request.promptTokenIds().clone();
        this.tokens = new int[prompt.length + params.maxNewTokens()];
        System.arraycopy(prompt, 0, tokens, 0, prompt.length);
        this.length = prompt.length;
        this.output = new int[params.maxNewTokens()];
        this.stop = stop;
        this.listener = listener;
        this.logprobs = params.logprobs() >= 0 ? new ArrayList<>() : null;
    }

    /** Tokens still to compute before the next token can be sampled. */
    int uncomputed() { return length - computed; }

    /** A running sequence whose only uncomputed token is the one it just generated. */
    boolean isDecoding() { return computed > 0 && length - computed == 1 && outputLength > 0; }

    void append(int tokenId) {
        tokens[length++] = tokenId;
        output[outputLength++] = tokenId;
    }

    int[] outputTokens() { return java.util.Arrays.copyOf(output, outputLength); }

    String requestId() { return request.id(); }
}
