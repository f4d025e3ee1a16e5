package dev.sparkllm.engine.backend;

import dev.sparkllm.engine.sampling.SamplingParams;

import java.util.List;

/**
 * One engine step's work: a chunk of new tokens for each scheduled sequence.
 *
 * @param chunks the sequences computed in this step, in any order; each at most once
 */
public record StepInput(List<SequenceChunk> chunks) {

    public StepInput {
        chunks = List.copyOf(chunks);
    }

    /** Total tokens computed in this step (prefill and decode together). */
    public int tokenCount() {
        int n = 0;
        for (SequenceChunk c : chunks) n += c.tokenIds().length;
        return n;
    }

    /** Which logits a chunk wants back. */
    public enum Logits {
        /** None: a prefill chunk that is not the last of its prompt. */
        NONE,
        /** The last position only: the next token is sampled from it. */
        LAST,
        /** Every position of the chunk: perplexity and prompt log-probabilities. */
        ALL
    }

    /**
     * New tokens of one sequence.
     *
     * @param sequenceId    the engine's id for the sequence (for the backend's bookkeeping and errors only)
     * @param tokenIds      the tokens to compute, at positions {@code startPosition ..}
     * @param startPosition position of {@code tokenIds[0]}; positions before it are already in the KV cache
     * @param blockTable    physical KV block ids for logical blocks {@code 0 .. }; covers every position up to
     *                      {@code startPosition + tokenIds.length - 1}
     * @param logits        which logits to return
     * @param sampling      null: return logits as {@code logits} asks. Otherwise (only with {@link Logits#LAST},
     *                      only to a backend whose {@link ModelBackend#samplesTokens()} is true): choose the next
     *                      token from the last position's logits on the device and return it instead of them
     */
    public record SequenceChunk(long sequenceId, int[] tokenIds, int startPosition, int[] blockTable, Logits logits,
                                SamplingRequest sampling) {
        public SequenceChunk {
            if (tokenIds.length == 0) throw new IllegalArgumentException("empty chunk for sequence " + sequenceId);
            if (startPosition < 0) throw new IllegalArgumentException("negative start position " + startPosition);
            if (sampling != null && logits != Logits.LAST) {
                throw new IllegalArgumentException("sequence " + sequenceId + ": a sampling request needs Logits.LAST, not " + logits);
            }
        }

        /** A chunk whose logits go back to the host (no device sampling). */
        public SequenceChunk(long sequenceId, int[] tokenIds, int startPosition, int[] blockTable, Logits logits) {
            this(sequenceId, tokenIds, startPosition, blockTable, logits, null);
        }

        /** Position after the last token of this chunk: the sequence's length once the step is done. */
        public int endPosition() { return startPosition + tokenIds.length; }
    }

    /**
     * Everything {@link dev.sparkllm.engine.sampling.Sampler#choose} needs besides the logits, so that a backend
     * can choose a sequence's next token where the logits are (see {@link ModelBackend#samplesTokens()}). The
     * arrays belong to the engine: read them during {@code execute} only, never keep or modify them.
     *
     * @param params         the request's sampling parameters, seed resolved
     * @param seed           keys the random draw together with {@code outputLength} (the token index)
     * @param eosTokenIds    the ids the sampler suppresses before {@code params.minNewTokens()} (the engine's EOS ids)
     * @param promptTokenIds the prompt, {@code [promptLength]}
     * @param outputTokenIds generated tokens in {@code [0, outputLength)}; the array may be longer
     * @param outputLength   tokens generated so far: the index of the token to choose
     */
    public record SamplingRequest(SamplingParams params, long seed, int[] eosTokenIds, int[] promptTokenIds,
                                  int[] outputTokenIds, int outputLength) {
        public SamplingRequest {
            if (outputLength < 0 || outputLength > outputTokenIds.length) {
                throw new IllegalArgumentException("outputLength " + outputLength + " outside 0.." + outputTokenIds.length);
            }
        }
    }
}
