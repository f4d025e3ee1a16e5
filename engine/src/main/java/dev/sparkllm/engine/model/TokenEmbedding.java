package dev.sparkllm.engine.model;

/** The token embedding table, {@code [vocabSize, hiddenSize]}, read one row at a time. */
public interface TokenEmbedding {

    int vocabSize();

    int hiddenSize();

    /** Writes the embedding of {@code tokenId} as floats into {@code out[offset .. offset+hiddenSize)}. */
    void lookup(int tokenId, float[] out, int offset);
}
