package dev.sparkllm.engine.sampling;

import java.util.List;
import java.util.Objects;

/**
 * How to pick the next tokens of one request, and when to stop. Semantics follow Hugging Face
 * {@code generate} (temperature, top-k, top-p, min-p, repetition penalty) and vLLM (presence and frequency
 * penalties, stop strings, per-request seed, log-probabilities).
 *
 * @param temperature        0 means greedy (argmax); otherwise logits are divided by it
 * @param topK               keep the k most likely tokens; 0 disables
 * @param topP               keep the smallest set whose probability reaches p; 1 disables
 * @param minP               drop tokens below minP times the top probability; 0 disables
 * @param repetitionPenalty  Hugging Face's: logits of tokens seen in prompt or output divided (if positive) or
 *                           multiplied (if negative) by it; 1 disables
 * @param presencePenalty    subtracted once from logits of tokens present in the output; 0 disables
 * @param frequencyPenalty   subtracted per occurrence in the output; 0 disables
 * @param maxNewTokens       hard limit on generated tokens (finish reason "length")
 * @param minNewTokens       end-of-sequence and stop ids are suppressed until this many tokens exist
 * @param stop               stop strings: generation ends before the first match, which is not included
 * @param stopTokenIds       further ids that end generation (the model's EOS always does unless ignoreEos)
 * @param ignoreEos          keep generating past EOS (benchmarks)
 * @param seed               randomness is keyed by (seed, token index); null means a seed drawn per request
 * @param logprobs           -1: none; 0: log-probability of each chosen token; n: also the n most likely tokens
 */
public record SamplingParams(
        double temperature,
        int topK,
        double topP,
        double minP,
        double repetitionPenalty,
        double presencePenalty,
        double frequencyPenalty,
        int maxNewTokens,
        int minNewTokens,
        List<String> stop,
        int[] stopTokenIds,
        boolean ignoreEos,
        Long seed,
        int logprobs) {

    public SamplingParams {
        stop = List.copyOf(Objects.requireNonNull(stop, "stop"));
        stopTokenIds = stopTokenIds == null ? new int[0] : stopTokenIds.clone();
    }

    /** Greedy decoding of up to {@code maxNewTokens} tokens, nothing else set. */
    public static SamplingParams greedy(int maxNewTokens) {
        return new SamplingParams(0, 0, 1, 0, 1, 0, 0, maxNewTokens, 0, List.of(), new int[0], false, null, -1);
    }

    public boolean isGreedy() { return temperature == 0; }

    public SamplingParams withSeed(Long newSeed) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty,
                frequencyPenalty, maxNewTokens, minNewTokens, stop, stopTokenIds, ignoreEos, newSeed, logprobs);
    }

    public SamplingParams withMaxNewTokens(int n) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty,
                frequencyPenalty, n, minNewTokens, stop, stopTokenIds, ignoreEos, seed, logprobs);
    }
}
