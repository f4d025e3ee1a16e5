package dev.sparkllm.engine.cpu;

import java.util.Arrays;

/**
 * Causal grouped-query attention over the paged KV cache, for one query head and the tokens of one chunk.
 *
 * <p>Row independence: the token at position {@code p} always attends to positions {@code 0 .. p} of its own
 * sequence, read from the cache in ascending order, with the same arithmetic whether it arrived in a prefill
 * chunk or alone in a decode step. The chunk's own keys and values are written to the cache before this runs,
 * so chunking changes nothing.
 */
final class PagedAttention {

    private final KvBlockStore cache;
    private final int headDim;
    private final int kvDim;     // floats per cached position: all KV heads side by side
    private final int blockSize; // positions per cache block
    private final int qDim;
    private final int headsPerKvHead;
    private final float scale; // 1 / sqrt(headDim), as HF's attention scaling

    PagedAttention(KvBlockStore cache, int headDim, int numHeads, int numKvHeads) {
        this.cache = cache;
        this.headDim = headDim;
        this.kvDim = numKvHeads * headDim;
        this.blockSize = cache.blockSize();
        this.qDim = numHeads * headDim;
        this.headsPerKvHead = numHeads / numKvHeads;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    /**
     * For each of {@code tokens} rows starting at {@code firstRow} (positions {@code startPosition ..}), writes
     * {@code softmax(q·Kᵀ × scale) · V} of query head {@code head} into {@code out}.
     *
     * @param q      rotated queries, {@code [rows, numHeads * headDim]}
     * @param out    attention output, {@code [rows, numHeads * headDim]}; only this head's columns are written
     * @param scores scratch of at least {@code startPosition + tokens} floats, owned by the calling worker
     */
    void attend(int layer, float[] q, float[] out, int firstRow, int tokens, int startPosition,
                int[] blockTable, int head, float[] scores) {
        float[] keys = cache.keys(layer);
        float[] values = cache.values(layer);
        int kvHeadOffset = (head / headsPerKvHead) * headDim; // query heads of one group share a KV head
        for (int t = 0; t < tokens; t++) {
            int position = startPosition + t;
            int qOffset = (firstRow + t) * qDim + head * headDim;

            // scores[j] = q · k_j / sqrt(headDim) for every earlier position j (causal), in position order;
            // walked block by block, so that the block table is read once per block, not divided per position
            float max = Float.NEGATIVE_INFINITY;
            for (int b = 0, j = 0; j <= position; b++) {
                int k = blockBase(blockTable, b) + kvHeadOffset;
                for (int end = Math.min(position + 1, j + blockSize); j < end; j++, k += kvDim) {
                    float s = dot(q, qOffset, keys, k) * scale;
                    scores[j] = s;
                    if (s > max) max = s;
                }
            }

            // softmax in float, subtracting the max so exp never overflows
            float sum = 0f;
            for (int j = 0; j <= position; j++) {
                float e = (float) Math.exp(scores[j] - max);
                scores[j] = e;
                sum += e;
            }
            float inv = 1f / sum;

            // out = Σ_j weight_j · v_j, again in position order
            Arrays.fill(out, qOffset, qOffset + headDim, 0f);
            for (int b = 0, j = 0; j <= position; b++) {
                int v = blockBase(blockTable, b) + kvHeadOffset;
                for (int end = Math.min(position + 1, j + blockSize); j < end; j++, v += kvDim) {
                    float w = scores[j] * inv;
                    for (int d = 0; d < headDim; d++) out[qOffset + d] += w * values[v + d];
                }
            }
        }
    }

    /** Index of the first float of block {@code b} of a sequence in a layer's key or value array. */
    private int blockBase(int[] blockTable, int b) {
        return cache.slot(blockTable, b * blockSize);
    }

    /**
     * {@code q · k} over one head, in four interleaved partial sums added in a fixed order at the end: four
     * independent chains run about four times faster than one, and the order never depends on the batch.
     */
    private float dot(float[] q, int qOffset, float[] k, int kOffset) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        int d = 0;
        for (; d + 3 < headDim; d += 4) {
            s0 += q[qOffset + d] * k[kOffset + d];
            s1 += q[qOffset + d + 1] * k[kOffset + d + 1];
            s2 += q[qOffset + d + 2] * k[kOffset + d + 2];
            s3 += q[qOffset + d + 3] * k[kOffset + d + 3];
        }
        for (; d < headDim; d++) s0 += q[qOffset + d] * k[kOffset + d];
        return (s0 + s1) + (s2 + s3);
    }
}
