package dev.sparkllm.engine.checkpoint.synthetic;

import java.util.Locale;

/**
 * The dimensions of a Llama-2 model as its {@code config.json} gives them.
 *
 * @param name             7b, 13b, 70b or tiny
 * @param vocabSize        tokens (32000 for Llama-2)
 * @param hiddenSize       model width
 * @param intermediateSize SwiGLU width
 * @param numLayers        transformer blocks
 * @param numHeads         query heads
 * @param numKvHeads       key/value heads (8 for 70B: grouped-query attention; 7B and 13B are multi-head)
 * @param maxPositions     context length (4096 for Llama-2)
 */
public record LlamaShape(String name, int vocabSize, int hiddenSize, int intermediateSize, int numLayers,
                         int numHeads, int numKvHeads, int maxPositions) {

    /** Llama-2-7B(-chat): 32 layers of width 4096, 32 heads, no grouped-query attention. */
    public static final LlamaShape LLAMA2_7B = new LlamaShape("7b", 32000, 4096, 11008, 32, 32, 32, 4096);
    /** Llama-2-13B(-chat): 40 layers of width 5120, 40 heads, no grouped-query attention. */
    public static final LlamaShape LLAMA2_13B = new LlamaShape("13b", 32000, 5120, 13824, 40, 40, 40, 4096);
    /** Llama-2-70B(-chat): 80 layers of width 8192, 64 query heads sharing 8 key/value heads. */
    public static final LlamaShape LLAMA2_70B = new LlamaShape("70b", 32000, 8192, 28672, 80, 64, 8, 4096);
    /**
     * A few-megabyte model for tests: Llama-2's vocabulary and grouped-query attention (4 heads of 64, 2 KV heads),
     * widths that every group size (32, 64, 128) and 2, 3, 4 or 8 bits divide.
     */
    public static final LlamaShape TINY = new LlamaShape("tiny", 32000, 256, 768, 2, 4, 2, 4096);

    public LlamaShape {
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden size " + hiddenSize + " is not a multiple of " + numHeads + " heads");
        }
        if (numLayers < 1) {
            throw new IllegalArgumentException("a model needs at least one layer, got " + numLayers);
        }
    }

    /** The shape called {@code name}: 7b, 13b, 70b or tiny. */
    public static LlamaShape named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "7b" -> LLAMA2_7B;
            case "13b" -> LLAMA2_13B;
            case "70b" -> LLAMA2_70B;
            case "tiny" -> TINY;
            default -> throw new IllegalArgumentException("unknown shape '" + name + "'; choose 7b, 13b, 70b or tiny");
        };
    }

    /** The same widths with {@code layers} transformer blocks. */
    public LlamaShape withLayers(int layers) {
        return new LlamaShape(name, vocabSize, hiddenSize, intermediateSize, layers, numHeads, numKvHeads, maxPositions);
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Output width of k_proj and v_proj. */
    public int kvDim() {
        return numKvHeads * headDim();
    }
}
