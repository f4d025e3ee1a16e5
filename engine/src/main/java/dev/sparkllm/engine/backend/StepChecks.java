package dev.sparkllm.engine.backend;

import java.util.List;

/** Checks every backend runs on a step before computing it, so that a bad chunk fails with a message, not a crash. */
public final class StepChecks {

    private StepChecks() {
    }

    /**
     * Checks every chunk's token ids against the vocabulary and its block table against the cache; returns the
     * longest sequence after the step.
     */
    public static int validate(List<StepInput.SequenceChunk> chunks, int vocabSize, int blockSize, int blockCount) {
        int maxEnd = 0;
        for (StepInput.SequenceChunk chunk : chunks) {
            for (int token : chunk.tokenIds()) {
                if (token < 0 || token >= vocabSize) {
                    throw new IllegalArgumentException("sequence " + chunk.sequenceId() + ": token id " + token
                            + " is outside the vocabulary [0, " + vocabSize + ")");
                }
            }
            int blocksNeeded = (chunk.endPosition() + blockSize - 1) / blockSize;
            if (chunk.blockTable().length < blocksNeeded) {
                throw new IllegalArgumentException("sequence " + chunk.sequenceId() + ": block table has "
                        + chunk.blockTable().length + " blocks but positions up to " + (chunk.endPosition() - 1)
                        + " need " + blocksNeeded + " blocks of " + blockSize);
            }
            for (int i = 0; i < blocksNeeded; i++) {
                int block = chunk.blockTable()[i];
                if (block < 0 || block >= blockCount) {
                    throw new IllegalArgumentException("sequence " + chunk.sequenceId() + ": block table entry " + i
                            + " is block " + block + ", outside the cache's [0, " + blockCount + ")");
                }
            }
            maxEnd = Math.max(maxEnd, chunk.endPosition());
        }
        return maxEnd;
    }

    /** Rows of logits a chunk asks for: none, its last position, or all of them. */
    public static int logitRowCount(StepInput.SequenceChunk chunk) {
        return switch (chunk.logits()) {
            case NONE -> 0;
            case LAST -> 1;
            case ALL -> chunk.tokenIds().length;
        };
    }
}
