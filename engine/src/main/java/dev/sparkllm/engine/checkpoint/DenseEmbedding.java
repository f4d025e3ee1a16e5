package dev.sparkllm.engine.checkpoint;

import dev.sparkllm.engine.model.TokenEmbedding;

/** The token embedding table {@code [vocab, hidden]} over a {@link DenseMatrix} (shared with a tied lm_head). */
public final class DenseEmbedding implements TokenEmbedding {

    private final DenseMatrix table; // [vocabSize, hiddenSize]

    public DenseEmbedding(DenseMatrix table) {
        this.table = table;
    }

    /** The table, {@code [vocabSize, hiddenSize]}. */
    public DenseMatrix table() {
        return table;
    }

    @Override
    public int vocabSize() {
        return table.rows();
    }

    @Override
    public int hiddenSize() {
        return table.cols();
    }

    @Override
    public void lookup(int tokenId, float[] out, int offset) {
        if (tokenId < 0 || tokenId >= table.rows()) {
            throw new IllegalArgumentException("token id " + tokenId + " outside the vocabulary [0, " + table.rows() + ")");
        }
        table.row(tokenId, out, offset);
    }
}
