package dev.sparkllm.engine.cpu;

import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.model.LlamaConfig.RopeConfig;
import dev.sparkllm.engine.model.LlamaWeights;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Llama configs and random weights for tests, scaled so activations stay near unit size through the layers. */
final class RandomLlama {

    private RandomLlama() {
    }

    /** kjv-tiny's shape: 4 layers, hidden 384, 3 heads of 128, 1 KV head, SwiGLU 1024, vocab 1024. */
    static LlamaConfig kjvTinyShape() {
        return config(1024, 384, 1024, 4, 3, 1, 128, 1024, RopeConfig.plain(10000));
    }

    /** A small grouped-query shape (4 query heads over 2 KV heads) for tests that run many steps. */
    static LlamaConfig smallGqa(RopeConfig rope, int maxPositions) {
        return config(256, 64, 160, 2, 4, 2, 16, maxPositions, rope);
    }

    static LlamaConfig config(int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads,
                              int headDim, int maxPositions, RopeConfig rope) {
        return new LlamaConfig(vocab, hidden, intermediate, layers, heads, kvHeads, headDim, maxPositions, 1e-5f,
                rope, false, 1, new int[] {2});
    }

    static LlamaWeights weights(LlamaConfig c, long seed) {
        Random random = new Random(seed);
        List<LlamaWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            layers.add(new LlamaWeights.Layer(
                    norm(random, c.hiddenSize()),
                    linear(random, c.hiddenSize(), c.qDim()),
                    linear(random, c.hiddenSize(), c.kvDim()),
                    linear(random, c.hiddenSize(), c.kvDim()),
                    linear(random, c.qDim(), c.hiddenSize()),
                    norm(random, c.hiddenSize()),
                    linear(random, c.hiddenSize(), c.intermediateSize()),
                    linear(random, c.hiddenSize(), c.intermediateSize()),
                    linear(random, c.intermediateSize(), c.hiddenSize())));
        }
        float[] table = new float[c.vocabSize() * c.hiddenSize()];
        for (int i = 0; i < table.length; i++) table[i] = (float) random.nextGaussian();
        return new LlamaWeights(c, new FloatEmbedding(c.vocabSize(), c.hiddenSize(), table), layers,
                norm(random, c.hiddenSize()), linear(random, c.hiddenSize(), c.vocabSize()));
    }

    /** Weights with standard deviation 1/sqrt(in), the usual initialisation, so outputs are O(1). */
    private static FloatLinear linear(Random random, int in, int out) {
        float[] w = new float[in * out];
        double std = 1.0 / Math.sqrt(in);
        for (int i = 0; i < w.length; i++) w[i] = (float) (random.nextGaussian() * std);
        return new FloatLinear(in, out, w);
    }

    private static float[] norm(Random random, int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float) (1.0 + 0.2 * random.nextGaussian());
        return w;
    }
}
