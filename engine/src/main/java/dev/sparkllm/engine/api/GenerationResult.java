package dev.sparkllm.engine.api;

import java.util.List;

/**
 * The outcome of one {@link GenerationRequest}.
 *
 * @param id             the request's id
 * @param text           generated text (stop string excluded)
 * @param tokenIds       generated token ids (a matched stop string's tokens included, EOS excluded)
 * @param promptTokenIds the prompt's ids
 * @param finishReason   why it ended
 * @param logprobs       per generated token: its log-probability and the top alternatives; null unless asked
 * @param error          what went wrong when finishReason is ERROR, else null
 */
public record GenerationResult(
        String id,
        String text,
        int[] tokenIds,
        int[] promptTokenIds,
        FinishReason finishReason,
        List<TokenLogprob> logprobs,
        String error) {

    /**
     * Log-probability of one generated token under the model's raw distribution (log-softmax of the logits
     * before any sampling adjustment), with the most likely alternatives at that position.
     *
     * @param tokenId  the chosen token
     * @param logprob  its log-probability
     * @param topIds   ids of the most likely tokens, most likely first (empty when only the chosen one was asked)
     * @param topLogprobs their log-probabilities
     */
    public record TokenLogprob(int tokenId, float logprob, int[] topIds, float[] topLogprobs) {
    }
}
