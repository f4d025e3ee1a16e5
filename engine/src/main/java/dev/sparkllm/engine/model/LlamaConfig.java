package dev.sparkllm.engine.model;

import java.util.Objects;

/**
 * The shape of a Llama-family model, as read from a Hugging Face {@code config.json}.
 * Nothing in the engine may assume a vocabulary size, head count or dimension: read them from here.
 *
 * @param vocabSize             tokens in the embedding and {@code lm_head} (32000 for Llama-2, 32016 for CodeLlama)
 * @param hiddenSize            model width, {@code dim}
 * @param intermediateSize      SwiGLU width
 * @param numLayers             transformer blocks
 * @param numHeads              query heads
 * @param numKvHeads            key/value heads (grouped-query attention when smaller than numHeads)
 * @param headDim               width of one head (hiddenSize / numHeads unless {@code head_dim} says otherwise)
 * @param maxPositionEmbeddings context length the model was trained for
 * @param rmsNormEps            RMSNorm epsilon
 * @param rope                  rotary embedding settings (theta and scaling)
 * @param tieWordEmbeddings     true when {@code lm_head} reuses the token embedding
 * @param bosTokenId            beginning-of-sequence id from the config (-1 when absent)
 * @param eosTokenIds           end-of-sequence ids from the config (may be several; empty when absent)
 */
public record LlamaConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int maxPositionEmbeddings,
        float rmsNormEps,
        RopeConfig rope,
        boolean tieWordEmbeddings,
        int bosTokenId,
        int[] eosTokenIds) {

    public LlamaConfig {
        Objects.requireNonNull(rope, "rope");
        Objects.requireNonNull(eosTokenIds, "eosTokenIds");
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads
                    + " is not a multiple of num_key_value_heads " + numKvHeads);
        }
    }

    @Override
    public String toString() {
        return "LlamaConfig[vocab=" + vocabSize + ", hidden=" + hiddenSize + ", intermediate=" + intermediateSize
                + ", layers=" + numLayers + ", heads=" + numHeads + ", kvHeads=" + numKvHeads + ", headDim=" + headDim
                + ", maxPositions=" + maxPositionEmbeddings + ", rmsNormEps=" + rmsNormEps + ", rope=" + rope
                + ", tiedEmbeddings=" + tieWordEmbeddings + ", bos=" + bosTokenId
                + ", eos=" + java.util.Arrays.toString(eosTokenIds) + "]";
    }

    /** Width of the query projection output: numHeads * headDim. */
    public int qDim() { return numHeads * headDim; }

    /** Width of the key (and value) projection output: numKvHeads * headDim. */
    public int kvDim() { return numKvHeads * headDim; }

    /** Query heads that share one key/value head. */
    public int headsPerKvHead() { return numHeads / numKvHeads; }

    /**
     * Rotary embedding settings.
     *
     * @param theta                 base frequency ({@code rope_theta}, 10000 for Llama-2, 1e6 for CodeLlama)
     * @param scaling               NONE, LINEAR or DYNAMIC (NTK-aware, as Hugging Face implements it)
     * @param factor                scaling factor (1 when NONE)
     * @param originalMaxPositions  context length the factor is relative to (for DYNAMIC)
     */
    public record RopeConfig(double theta, Scaling scaling, double factor, int originalMaxPositions) {
        public enum Scaling { NONE, LINEAR, DYNAMIC }

        public static RopeConfig plain(double theta) {
            return new RopeConfig(theta, Scaling.NONE, 1.0, 0);
        }
    }
}
