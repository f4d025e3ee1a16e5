package dev.sparkllm.engine.backend;

import dev.sparkllm.engine.sampling.Sampler;

import java.util.Collections;
import java.util.List;

/**
 * The result of one step, one entry per chunk of the {@link StepInput}, in the same order, in each list.
 *
 * @param logits  per chunk: {@code null} for {@link StepInput.Logits#NONE} and for a chunk that carried a
 *                {@link StepInput.SamplingRequest}; {@code [vocab]} for {@link StepInput.Logits#LAST};
 *                {@code [tokens * vocab]} row-major for {@link StepInput.Logits#ALL}. Raw model output, before any
 *                sampling adjustment.
 * @param sampled per chunk: the token chosen for a chunk that carried a sampling request, otherwise
 *                {@code null}. A backend that samples nothing may pass {@code null} for the whole list.
 */
public record StepOutput(List<float[]> logits, List<SampledToken> sampled) {

    public StepOutput {
        if (sampled == null) sampled = Collections.nCopies(logits.size(), null);
        if (sampled.size() != logits.size()) {
            throw new IllegalArgumentException(logits.size() + " logits entries but " + sampled.size() + " sampled entries");
        }
    }

    /** Logits only: what a backend that does not sample returns. */
    public StepOutput(List<float[]> logits) {
        this(logits, null);
    }

    /**
     * The next token a backend chose for one chunk, or why it could not: exactly one of the two is set.
     *
     * @param choice the token and, when the request asked for them, its log-probabilities; what
     *               {@link Sampler#choose} returns
     * @param error  the message of the exception {@link Sampler#choose} would have thrown for this row (NaN
     *               logits, every token suppressed, ...); the engine ends that request with an error and goes on
     */
    public record SampledToken(Sampler.Choice choice, String error) {
        public SampledToken {
            if ((choice == null) == (error == null)) {
                throw new IllegalArgumentException("a sampled token has either a choice or an error, got " + choice + " and " + error);
            }
        }

        public static SampledToken chosen(Sampler.Choice choice) { return new SampledToken(choice, null); }

        public static SampledToken failed(String error) { return new SampledToken(null, error); }
    }
}
