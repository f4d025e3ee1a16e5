package dev.sparkllm.engine.cpu;

import dev.sparkllm.engine.model.TokenEmbedding;

/** A float embedding table for tests, row-major {@code [vocab, hidden]}. */
record FloatEmbedding(int vocabSize, int hiddenSize, float[] table) implements TokenEmbedding {

    @Override
    public void lookup(int tokenId, float[] out, int offset) {
        System.arraycopy(table, tokenId * hiddenSize, out, offset, hiddenSize);
    }
}
