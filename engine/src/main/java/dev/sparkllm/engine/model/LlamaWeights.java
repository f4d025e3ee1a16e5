package dev.sparkllm.engine.model;

import java.util.List;

/**
 * All weights of a Llama model, ready for a backend. Norm weights are plain floats; the embedding is a
 * {@link Linear} of shape {@code [vocab, hidden]} read row by row through {@link TokenEmbedding}.
 *
 * @param config         the model's shape
 * @param embedding      token embedding, {@code [vocabSize, hiddenSize]}
 * @param layers         one entry per transformer block
 * @param finalNorm      RMSNorm weight before lm_head, {@code [hiddenSize]}
 * @param lmHead         output projection, in {@code hiddenSize}, out {@code vocabSize} (may share the embedding's data)
 */
public record LlamaWeights(
        LlamaConfig config,
        TokenEmbedding embedding,
        List<Layer> layers,
        float[] finalNorm,
        Linear lmHead) {

    /**
     * One transformer block.
     *
     * @param attnNorm RMSNorm before attention, {@code [hidden]}
     * @param wq       query projection, in hidden, out numHeads*headDim
     * @param wk       key projection, in hidden, out numKvHeads*headDim
     * @param wv       value projection, in hidden, out numKvHeads*headDim
     * @param wo       output projection, in numHeads*headDim, out hidden
     * @param mlpNorm  RMSNorm before the MLP, {@code [hidden]}
     * @param gate     SwiGLU gate, in hidden, out intermediate
     * @param up       SwiGLU up, in hidden, out intermediate
     * @param down     SwiGLU down, in intermediate, out hidden
     */
    public record Layer(float[] attnNorm, Linear wq, Linear wk, Linear wv, Linear wo,
                        float[] mlpNorm, Linear gate, Linear up, Linear down) {
    }
}
