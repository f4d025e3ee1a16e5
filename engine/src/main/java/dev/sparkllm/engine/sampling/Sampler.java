package dev.sparkllm.engine.sampling;

import dev.sparkllm.engine.api.GenerationResult;

import java.util.Arrays;

/**
 * Chooses the next token of a sequence from the model's logits. The choice depends only on the logits, the
 * parameters, the sequence so far, the seed and the token index: never on the batch, on other sequences or on
 * earlier calls, so retried Spark tasks regenerate identical text.
 *
 * <p>Processing order (Hugging Face {@code generate}, plus vLLM's penalties):
 * <ol>
 *   <li>log-probabilities of the raw logits, when asked ({@link RawLogprobs});</li>
 *   <li>repetition penalty over prompt and output tokens (Hugging Face);</li>
 *   <li>frequency and presence penalties over output tokens (vLLM);</li>
 *   <li>before {@code minNewTokens} tokens exist, EOS and stop ids are set to -infinity;</li>
 *   <li>greedy ({@code temperature == 0}): argmax, lowest id on ties; otherwise the warpers temperature, top-k,
 *       top-p, min-p and the seeded inverse-CDF draw, exactly as {@link TokenDraw} documents.</li>
 * </ol>
 * Instances hold no per-call state and may be shared between threads.
 */
public final class Sampler {

    private final int vocabSize;
    private final int[] eosTokenIds;

    /**
     * @param vocabSize   number of real tokens; logits arrays may be longer (padded lm_head), the rest is ignored
     * @param eosTokenIds the model's end-of-sequence ids (suppressed before min_new_tokens)
     */
    public Sampler(int vocabSize, int[] eosTokenIds) {
        if (vocabSize <= 0) throw new IllegalArgumentException("vocabSize must be > 0, got " + vocabSize);
        this.vocabSize = vocabSize;
        this.eosTokenIds = eosTokenIds == null ? new int[0] : eosTokenIds.clone();
    }

    /**
     * Chooses the next token. {@code logits} ([vocabSize], raw model output) may be overwritten.
     * {@code promptTokenIds + outputTokenIds[0..outputLength)} is the sequence so far; {@code outputLength} is
     * also the token index that keys the random number.
     */
    public Choice choose(float[] logits, SamplingParams params, long seed,
                         int[] promptTokenIds, int[] outputTokenIds, int outputLength) {
        if (logits.length < vocabSize) {
            throw new IllegalArgumentException("logits has " + logits.length + " entries, fewer than the vocabulary size " + vocabSize);
        }
        if (outputLength < 0 || outputLength > outputTokenIds.length) {
            throw new IllegalArgumentException("outputLength " + outputLength + " outside 0.." + outputTokenIds.length);
        }
        LogitAdjustments.requireNoNaN(logits, vocabSize);
        RawLogprobs raw = params.logprobs() >= 0 ? new RawLogprobs(logits, vocabSize) : null;

        LogitAdjustments.repetitionPenalty(logits, vocabSize, (float) params.repetitionPenalty(),
                promptTokenIds, outputTokenIds, outputLength);
        LogitAdjustments.presenceAndFrequencyPenalties(logits, vocabSize, (float) params.presencePenalty(),
                (float) params.frequencyPenalty(), outputTokenIds, outputLength);
        if (outputLength < params.minNewTokens()) {
            if (!params.ignoreEos()) LogitAdjustments.suppress(logits, vocabSize, eosTokenIds);
            LogitAdjustments.suppress(logits, vocabSize, params.stopTokenIds());
        }

        int token;
        if (params.isGreedy()) {
            token = LogitAdjustments.argmax(logits, vocabSize);
        } else {
            LogitAdjustments.topK(logits, vocabSize, params.topK());
            long[] weights = TokenDraw.weights(logits, vocabSize, params.temperature());
            TokenDraw.topP(weights, params.topP());
            TokenDraw.minP(weights, vocabSize, params.minP());
            token = TokenDraw.inverseCdf(weights, TokenDraw.splitMix64(seed, outputLength));
        }
        return new Choice(token, raw == null ? null : raw.describe(token, params.logprobs()));
    }

    public int vocabSize() { return vocabSize; }

    public int[] eosTokenIds() { return eosTokenIds.clone(); }

    /**
     * @param tokenId the chosen token
     * @param logprob its raw log-probability and the top alternatives; null unless {@code params.logprobs() >= 0}
     */
    public record Choice(int tokenId, GenerationResult.TokenLogprob logprob) {
    }

    @Override
    public String toString() {
        return "Sampler[vocabSize=" + vocabSize + ", eos=" + Arrays.toString(eosTokenIds) + "]";
    }
}
