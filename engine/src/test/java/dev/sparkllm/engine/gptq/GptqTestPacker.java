package dev.sparkllm.engine.gptq;

import dev.sparkllm.engine.checkpoint.Half;

import java.util.Random;

/**
 * Test-side GPTQ quantiser and packer, written from the AutoGPTQ layout description independently of the
 * production unpacking: round-to-nearest quantisation of a weight matrix per (group, output column), then
 * packing with explicit per-bit-width loops (3-bit by the 10 + straddle + 10 + straddle + 10 scheme).
 * Its {@link Packed#expected} is what any correct reader must dequantise to.
 */
public final class GptqTestPacker {

    /**
     * A packed layer.
     *
     * @param qweight  int32 [in*bits/32, out]
     * @param qzeros   int32 [groups, out*bits/32]
     * @param scales   [groups, out], fp16-representable
     * @param gIdx     [in]
     * @param expected [out, in] the dequantised weight, scale * (q - zero)
     */
    public record Packed(int in, int out, int bits, int groupSize, int[] qweight, int[] qzeros, float[] scales,
                         int[] gIdx, float[] expected) {

        public GptqTensors tensors(GptqTensors.ZeroPoints zeroPoints) {
            return new GptqTensors(in, out, bits, groupSize, qweight, qzeros, scales, gIdx, zeroPoints);
        }
    }

    private GptqTestPacker() {
    }

    /**
     * Quantises {@code weight} [out, in] with {@code bits} bits and the given group size (-1: one group), with
     * act-order (a random permutation of the input rows decides the groups) or not, symmetric or not, and
     * packs it with zero-points stored minus one ({@code v1}) or as they are.
     */
    public static Packed quantize(float[] weight, int in, int out, int bits, int groupSize, boolean actOrder,
                                  boolean sym, boolean v1, long seed) {
        Random random = new Random(seed);
        int gs = groupSize == -1 ? in : groupSize;
        int groups = in / gs;
        int maxQ = (1 << bits) - 1;

        int[] order = new int[in]; // order[k]: the k-th input row in quantisation order
        for (int i = 0; i < in; i++) order[i] = i;
        if (actOrder) {
            for (int i = in - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i]; order[i] = order[j]; order[j] = t;
            }
        }
        int[] gIdx = new int[in];
        for (int k = 0; k < in; k++) gIdx[order[k]] = k / gs;

        float[] scales = new float[groups * out];
        int[] zeros = new int[groups * out];
        for (int g = 0; g < groups; g++) {
            for (int o = 0; o < out; o++) {
                double lo = 0, hi = 0;
                for (int k = g * gs; k < (g + 1) * gs; k++) {
                    double w = weight[o * in + order[k]];
                    lo = Math.min(lo, w);
                    hi = Math.max(hi, w);
                }
                double scale;
                int zero;
                if (sym) {
                    double m = Math.max(Math.abs(lo), Math.abs(hi));
                    scale = m == 0 ? 1 : 2 * m / maxQ;
                    zero = (maxQ + 1) / 2;
                } else {
                    scale = hi == lo ? 1 : (hi - lo) / maxQ;
                    zero = (int) Math.round(-lo / scale);
                    // v1 stores zero - 1, so zero 0 could not round-trip: keep it at least 1 there.
                    zero = Math.max(v1 ? 1 : 0, Math.min(maxQ, zero));
                }
                scales[g * out + o] = Half.f16ToFloat(Half.floatToF16((float) scale));
                zeros[g * out + o] = zero;
            }
        }
        int[][] q = new int[in][out];
        float[] expected = new float[out * in];
        for (int i = 0; i < in; i++) {
            int g = gIdx[i];
            for (int o = 0; o < out; o++) {
                float s = scales[g * out + o];
                int z = zeros[g * out + o];
                int v = Math.max(0, Math.min(maxQ, Math.round(weight[o * in + i] / s) + z));
                q[i][o] = v;
                expected[o * in + i] = (float) ((double) s * (v - z));
            }
        }

        int[] qweight = new int[in * bits / 32 * out];
        for (int o = 0; o < out; o++) {
            int[] column = new int[in];
            for (int i = 0; i < in; i++) column[i] = q[i][o];
            int[] packed = pack(column, bits);
            for (int r = 0; r < packed.length; r++) qweight[r * out + o] = packed[r];
        }
        int zeroWords = out * bits / 32;
        int[] qzeros = new int[groups * zeroWords];
        for (int g = 0; g < groups; g++) {
            int[] row = new int[out];
            for (int o = 0; o < out; o++) row[o] = (zeros[g * out + o] - (v1 ? 1 : 0)) & maxQ;
            System.arraycopy(pack(row, bits), 0, qzeros, g * zeroWords, zeroWords);
        }
        return new Packed(in, out, bits, groupSize, qweight, qzeros, scales, gIdx, expected);
    }

    /** Random weights [out, in], roughly normal with standard deviation {@code std}. */
    public static float[] randomWeights(int in, int out, double std, long seed) {
        Random random = new Random(seed);
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) w[i] = (float) (random.nextGaussian() * std);
        return w;
    }

    /** Packs values (each below 2^bits) into int32 words, least-significant first. */
    static int[] pack(int[] values, int bits) {
        int[] words = new int[values.length * bits / 32];
        if (bits == 3) {
            // AutoGPTQ's scheme: per 32 values, three words; values 10 and 21 straddle the boundaries.
            int i = 0;
            int row = 0;
            while (row < words.length) {
                for (int j = 0; j < 10; j++) words[row] |= values[i + j] << (3 * j);
                i += 10;
                words[row] |= values[i] << 30;
                row++;
                words[row] |= (values[i] >> 2) & 1;
                i++;
                for (int j = 0; j < 10; j++) words[row] |= values[i + j] << (3 * j + 1);
                i += 10;
                words[row] |= values[i] << 31;
                row++;
                words[row] |= (values[i] >> 1) & 3;
                i++;
                for (int j = 0; j < 10; j++) words[row] |= values[i + j] << (3 * j + 2);
                i += 10;
                row++;
            }
            return words;
        }
        int perWord = 32 / bits;
        for (int i = 0; i < values.length; i++) {
            words[i / perWord] |= values[i] << (bits * (i % perWord));
        }
        return words;
    }
}
