package dev.sparkllm.engine.core;

import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepInput.SequenceChunk;
import dev.sparkllm.engine.backend.StepOutput;
import dev.sparkllm.engine.model.LlamaConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A one-layer, one-head attention "model" for engine tests, independent of the engine's code: it writes each
 * token's key and value (rotated by position, like RoPE) into a paged KV cache through the chunk's block table,
 * and computes a position's logits by attending over every KV entry of its sequence read back through the
 * same table. So a wrong block table, a block reused for other content, a missed or doubled KV write, or a
 * wrong position changes the logits, and with them the generated tokens.
 *
 * <p>Row-independent by construction: each chunk is computed alone, in the same order, whatever the batch.
 * Counts the tokens it computes, so tests can check prefix-cache savings from the backend's side.
 */
final class TinyAttentionBackend implements ModelBackend {

    static final int DIM = 8;

    private final LlamaConfig config;
    private final int blockSize;
    private final int blockCount;
    private final float[][] keyEmbedding;    // [vocab][DIM]
    private final float[][] valueEmbedding;  // [vocab][DIM]
    private final float[][] queryEmbedding;  // [vocab][DIM]
    private final float[][] unembedding;     // [vocab][DIM]
    private final float[] keys;              // [blockCount * blockSize * DIM]
    private final float[] values;            // [blockCount * blockSize * DIM]
    private final float eosBias;
    long computedTokens;
    long steps;
    int maxChunksPerStep;
    volatile RuntimeException failNextStep;

    /**
     * @param vocabSize  tokens (0 unk, 1 BOS, 2 EOS)
     * @param eosBias    added to EOS's logit: higher means shorter outputs
     */
    TinyAttentionBackend(int vocabSize, int blockSize, int blockCount, float eosBias) {
        this.config = config(vocabSize, 4096);
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.eosBias = eosBias;
        Random r = new Random(1234);
        keyEmbedding = gaussian(r, vocabSize);
        valueEmbedding = gaussian(r, vocabSize);
        queryEmbedding = gaussian(r, vocabSize);
        unembedding = gaussian(r, vocabSize);
        keys = new float[blockCount * blockSize * DIM];
        values = new float[blockCount * blockSize * DIM];
    }

    static LlamaConfig config(int vocabSize, int context) {
        return new LlamaConfig(vocabSize, DIM, 4 * DIM, 1, 1, 1, DIM, context, 1e-5f,
                LlamaConfig.RopeConfig.plain(10000), false, 1, new int[]{2});
    }

    @Override public LlamaConfig config() { return config; }
    @Override public int kvBlockSize() { return blockSize; }
    @Override public int kvBlockCount() { return blockCount; }
    @Override public String describe() { return "tiny attention test model"; }
    @Override public void close() { }

    @Override
    public StepOutput execute(StepInput input) {
        RuntimeException fail = failNextStep;
        if (fail != null) throw fail;
        steps++;
        maxChunksPerStep = Math.max(maxChunksPerStep, input.chunks().size());
        List<float[]> out = new ArrayList<>();
        for (SequenceChunk c : input.chunks()) {
            computedTokens += c.tokenIds().length;
            for (int i = 0; i < c.tokenIds().length; i++) writeKv(c.blockTable(), c.startPosition() + i, c.tokenIds()[i]);
            switch (c.logits()) {
                case NONE -> out.add(null);
                case LAST -> out.add(logits(c.blockTable(), c.endPosition() - 1, c.tokenIds()[c.tokenIds().length - 1]));
                case ALL -> {
                    int v = config.vocabSize();
                    float[] all = new float[c.tokenIds().length * v];
                    for (int i = 0; i < c.tokenIds().length; i++) {
                        System.arraycopy(logits(c.blockTable(), c.startPosition() + i, c.tokenIds()[i]), 0, all, i * v, v);
                    }
                    out.add(all);
                }
            }
        }
        return new StepOutput(out);
    }

    private void writeKv(int[] table, int pos, int token) {
        int at = slot(table, pos) * DIM;
        float[] k = rotate(keyEmbedding[token], pos);
        System.arraycopy(k, 0, keys, at, DIM);
        System.arraycopy(valueEmbedding[token], 0, values, at, DIM);
    }

    /** Logits of the next token after position {@code pos}: attention over positions 0..pos. */
    private float[] logits(int[] table, int pos, int token) {
        float[] q = rotate(queryEmbedding[token], pos);
        float[] scores = new float[pos + 1];
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j <= pos; j++) {
            int at = slot(table, j) * DIM;
            float s = 0;
            for (int d = 0; d < DIM; d++) s += q[d] * keys[at + d];
            scores[j] = s * 0.5f;
            max = Math.max(max, scores[j]);
        }
        float[] mixed = new float[DIM];
        float sum = 0;
        for (int j = 0; j <= pos; j++) {
            float w = (float) Math.exp(scores[j] - max);
            sum += w;
            int at = slot(table, j) * DIM;
            for (int d = 0; d < DIM; d++) mixed[d] += w * values[at + d];
        }
        float[] logits = new float[config.vocabSize()];
        for (int t = 0; t < logits.length; t++) {
            float s = 0;
            for (int d = 0; d < DIM; d++) s += unembedding[t][d] * mixed[d] / sum;
            logits[t] = 3 * s;
        }
        logits[0] = -100; // unk and BOS are never generated
        logits[1] = -100;
        logits[2] += eosBias;
        return logits;
    }

    private int slot(int[] table, int pos) {
        int block = table[pos / blockSize];
        if (block < 0 || block >= blockCount) throw new IllegalArgumentException("block id " + block + " out of range");
        return block * blockSize + pos % blockSize;
    }

    private static float[] rotate(float[] x, int pos) {
        float[] y = new float[DIM];
        for (int i = 0; i < DIM / 2; i++) {
            double angle = pos * Math.pow(100, -2.0 * i / DIM);
            float c = (float) Math.cos(angle);
            float s = (float) Math.sin(angle);
            y[i] = x[i] * c - x[i + DIM / 2] * s;
            y[i + DIM / 2] = x[i] * s + x[i + DIM / 2] * c;
        }
        return y;
    }

    private static float[][] gaussian(Random r, int rows) {
        float[][] m = new float[rows][DIM];
        for (float[] row : m) for (int d = 0; d < DIM; d++) row[d] = (float) r.nextGaussian();
        return m;
    }
}
