package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.FinishReason;
import dev.sparkllm.engine.sampling.Sampler;
import dev.sparkllm.engine.sampling.StopConditions;

/**
 * The update half of a step for one sequence: picks its next token from the logits, checks the stop
 * conditions, streams the token to its listener and ends the sequence when it is done.
 *
 * <p>The sampler's randomness is keyed by (request seed, token index), so the token chosen here does not
 * depend on the step, the batch or a preemption before it. EOS ends a sequence without becoming part of it
 * (not in the result's token ids, not streamed, unless {@code ignoreEos}).
 */
final class TokenSampling {

    /** Ends a sequence (frees its blocks, completes its result). */
    interface Finisher {
        void finish(Sequence s, FinishReason reason, String error);
    }

    private final Sampler sampler;
    private final int[] eosIds;
    private final Finisher finisher;

    TokenSampling(int vocabSize, int[] eosIds, Finisher finisher) {
        this.sampler = new Sampler(vocabSize, eosIds);
        this.eosIds = eosIds.clone();
        this.finisher = finisher;
    }

    /**
     * Samples the sequence's next token from {@code logits} ({@code [vocab]}, may be overwritten).
     * A failure that belongs to this request (the sampler rejecting its parameters, its listener throwing)
     * ends it with ERROR; the engine goes on.
     */
    void advance(Sequence s, float[] logits, int contextLength) {
        Sampler.Choice choice;
        StopConditions.Step step;
        try {
            choice = sampler.choose(logits, s.params, s.seed, s.prompt, s.output, s.outputLength);
            step = s.stop.accept(choice.tokenId());
        } catch (IllegalArgumentException | IllegalStateException e) {
            finisher.finish(s, FinishReason.ERROR, "sampling failed for request " + s.requestId() + ": " + e.getMessage());
            return;
        }
        int token = choice.tokenId();
        boolean endsAsEos = step.finished() && step.reason() == FinishReason.STOP && !s.params.ignoreEos() && isEos(token);
        if (!endsAsEos) {
            s.append(token);
            if (s.logprobs != null && choice.logprob() != null) s.logprobs.add(choice.logprob());
        }
        if (s.listener != null && (!endsAsEos || !step.textDelta().isEmpty())) {
            try {
                s.listener.onToken(s.requestId(), token, step.textDelta());
            } catch (RuntimeException e) {
                finisher.finish(s, FinishReason.ERROR, "token listener of request " + s.requestId() + " threw " + e);
                return;
            }
        }
        if (step.finished()) {
            finisher.finish(s, step.reason(), null);
        } else if (s.outputLength >= s.params.maxNewTokens() || s.length >= contextLength) {
            finisher.finish(s, FinishReason.LENGTH, null);
        }
    }

    private boolean isEos(int token) {
        for (int e : eosIds) if (e == token) return true;
        return false;
    }
}
