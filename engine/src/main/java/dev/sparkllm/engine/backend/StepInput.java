package dev.sparkllm.engine.backend;

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
     */
    public record SequenceChunk(long sequenceId, int[] tokenIds, int startPosition, int[] blockTable, Logits logits) {
        public SequenceChunk {
            if (tokenIds.length == 0) throw new IllegalArgumentException("empty chunk for sequence " + sequenceId);
            if (startPosition < 0) throw new IllegalArgumentException("negative start position " + startPosition);
        }

        /** Position after the last token of this chunk: the sequence's length once the step is done. */
        public int endPosition() { return startPosition + tokenIds.length; }
    }
}
