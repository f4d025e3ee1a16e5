package dev.sparkllm.engine.gptq;

import dev.sparkllm.engine.model.Linear;

import java.util.Arrays;

/**
 * A GPTQ linear layer on the CPU: {@code y = x · Wᵀ} with {@code W[o][i] = scale[g][o] * (q[i][o] - zero[g][o])},
 * {@code g} the group of input row {@code i}.
 *
 * <p>Compute layout, built once at load from the on-disk one: input rows are sorted by group (act-order
 * checkpoints scramble them; the activations are gathered through the same permutation), each group is
 * padded to whole words, and values are repacked with {@code computeBits} bits each (3-bit values widen to
 * 4 so none straddles a word). Packed words stay compact in an {@code int[]}; nothing is dequantised.
 *
 * <p>Per output column the sum runs group by group, word by word, value by value, always in that order, as
 * {@code scale * (Σ x·q - zero * Σ x)}: the same arithmetic whatever the batch or the output range, so the
 * {@link Linear} batch-invariance contract holds. Calls with disjoint output ranges may run concurrently:
 * all scratch space is per call.
 */
public final class GptqLinear implements Linear {

    private final int in;               // input features
    private final int out;              // output features
    private final int bits;             // bits per weight on disk
    private final int groupSize;        // as declared, -1 for one group
    private final int computeBits;      // bits per value in qc: 2, 4 or 8
    private final int valuesPerWord;    // 32 / computeBits
    private final int[] perm;           // [paddedIn] source input row of each slot, -1 for padding; null when identity
    private final int[] groupWordStart; // [groups + 1] first packed word row of each group
    private final int[] qc;             // [paddedIn / valuesPerWord, out] packed values, least-significant first
    private final float[] scales;       // [groups, out]
    private final float[] zeros;        // [groups, out] effective zero-points (convention already applied)

    private GptqLinear(int in, int out, int bits, int groupSize, int computeBits, int[] perm, int[] groupWordStart,
                       int[] qc, float[] scales, float[] zeros) {
        this.in = in;
        this.out = out;
        this.bits = bits;
        this.groupSize = groupSize;
        this.computeBits = computeBits;
        this.valuesPerWord = 32 / computeBits;
        this.perm = perm;
        this.groupWordStart = groupWordStart;
        this.qc = qc;
        this.scales = scales;
        this.zeros = zeros;
    }

    /**
     * Builds the compute layout from on-disk tensors.
     *
     * @throws IllegalArgumentException when the tensors' sizes disagree with each other
     */
    public static GptqLinear of(GptqTensors t) {
        t.validate();
        int in = t.inFeatures();
        int out = t.outFeatures();
        int groups = t.groups();
        int computeBits = t.bits() == 3 ? 4 : t.bits();
        int vpw = 32 / computeBits;

        // Sort input rows by group (stable), padding each group to whole words.
        int[] groupOf = new int[in];
        for (int i = 0; i < in; i++) {
            groupOf[i] = t.gIdx() != null ? t.gIdx()[i] : (t.groupSize() == -1 ? 0 : i / t.groupSize());
        }
        int[] count = new int[groups];
        for (int g : groupOf) count[g]++;
        int[] groupWordStart = new int[groups + 1];
        for (int g = 0; g < groups; g++) {
            groupWordStart[g + 1] = groupWordStart[g] + (count[g] + vpw - 1) / vpw;
        }
        int paddedIn = groupWordStart[groups] * vpw;
        int[] nextSlot = new int[groups];
        for (int g = 0; g < groups; g++) nextSlot[g] = groupWordStart[g] * vpw;
        int[] slotOf = new int[in];
        int[] perm = new int[paddedIn];
        Arrays.fill(perm, -1);
        boolean identity = paddedIn == in;
        for (int i = 0; i < in; i++) {
            int s = nextSlot[groupOf[i]]++;
            slotOf[i] = s;
            perm[s] = i;
            identity &= s == i;
        }

        int[] qc = new int[groupWordStart[groups] * out];
        int[] qweight = t.qweight();
        for (int i = 0; i < in; i++) {
            int rowBase = (slotOf[i] / vpw) * out;
            int shift = (slotOf[i] % vpw) * computeBits;
            for (int o = 0; o < out; o++) {
                qc[rowBase + o] |= GptqBits.unpack(qweight, o, out, i, t.bits()) << shift;
            }
        }
        float offset = t.zeroPoints() == GptqTensors.ZeroPoints.STORED_MINUS_ONE ? 1f : 0f;
        int zeroWords = out * t.bits() / 32;
        float[] zeros = new float[groups * out];
        for (int g = 0; g < groups; g++) {
            for (int o = 0; o < out; o++) {
                // v1 adds one without masking, as AutoGPTQ's own kernels do (a stored 2^bits-1 reads as 2^bits).
                zeros[g * out + o] = GptqBits.unpack(t.qzeros(), g * zeroWords, 1, o, t.bits()) + offset;
            }
        }
        return new GptqLinear(in, out, t.bits(), t.groupSize(), computeBits, identity ? null : perm, groupWordStart,
                qc, t.scales().clone(), zeros);
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return out;
    }

    /** Bits per weight in the checkpoint. */
    public int bits() {
        return bits;
    }

    /** Group size as declared (-1: one group). */
    public int groupSize() {
        return groupSize;
    }

    /** True when input rows are permuted at load (a non-trivial act-order g_idx, or padded groups). */
    public boolean permuted() {
        return perm != null;
    }

    @Override
    public void forward(float[] x, int rows, float[] y, int outStart, int outEnd) {
        if (outStart < 0 || outEnd > out || outStart > outEnd) {
            throw new IndexOutOfBoundsException("output range [" + outStart + ", " + outEnd + ") outside [0, " + out + ")");
        }
        if ((long) rows * in > x.length || (long) rows * out > y.length) {
            throw new IllegalArgumentException(rows + " rows need x of " + (long) rows * in + " and y of "
                    + (long) rows * out + " floats; got " + x.length + " and " + y.length);
        }
        int n = outEnd - outStart;
        if (n == 0) return;
        float[] acc = new float[n];   // Σ x·q of the current group, per output column
        float[] yRow = new float[n];  // the row's outputs so far
        float[] gathered = perm != null ? new float[perm.length] : null;
        for (int r = 0; r < rows; r++) {
            float[] xs = x;
            int xo = r * in;
            if (gathered != null) {
                for (int s = 0; s < perm.length; s++) gathered[s] = perm[s] < 0 ? 0f : x[xo + perm[s]];
                xs = gathered;
                xo = 0;
            }
            Arrays.fill(yRow, 0f);
            for (int g = 0; g + 1 < groupWordStart.length; g++) {
                int w0 = groupWordStart[g];
                int w1 = groupWordStart[g + 1];
                float sumX = 0f;
                for (int s = xo + w0 * valuesPerWord, end = xo + w1 * valuesPerWord; s < end; s++) sumX += xs[s];
                Arrays.fill(acc, 0f);
                if (computeBits == 4) {
                    accumulate4(xs, xo, w0, w1, outStart, n, acc);
                } else {
                    accumulateGeneric(xs, xo, w0, w1, outStart, n, acc);
                }
                int so = g * out + outStart;
                for (int j = 0; j < n; j++) {
                    yRow[j] += scales[so + j] * (acc[j] - zeros[so + j] * sumX);
                }
            }
            System.arraycopy(yRow, 0, y, r * out + outStart, n);
        }
    }

    /**
     * 4-bit words (8 values each), the hot path. Per word, a table holds {@code x_k * v} for each of the eight
     * activations and all sixteen values, so the inner loop is eight lookups and adds; each product is the same
     * float multiplication the direct form would do, so results do not depend on the table.
     */
    private void accumulate4(float[] xs, int xo, int w0, int w1, int outStart, int n, float[] acc) {
        float[] t = new float[128]; // [8 activations, 16 values]
        for (int w = w0; w < w1; w++) {
            int xb = xo + w * 8;
            for (int k = 0; k < 8; k++) {
                float xk = xs[xb + k];
                for (int v = 0; v < 16; v++) t[k * 16 + v] = xk * v;
            }
            int base = w * out + outStart;
            for (int j = 0; j < n; j++) {
                int q = qc[base + j];
                acc[j] += t[q & 15] + t[16 + ((q >>> 4) & 15)] + t[32 + ((q >>> 8) & 15)] + t[48 + ((q >>> 12) & 15)]
                        + t[64 + ((q >>> 16) & 15)] + t[80 + ((q >>> 20) & 15)] + t[96 + ((q >>> 24) & 15)] + t[112 + (q >>> 28)];
            }
        }
    }

    /** 2-bit (16 values a word) and 8-bit (4 values a word). */
    private void accumulateGeneric(float[] xs, int xo, int w0, int w1, int outStart, int n, float[] acc) {
        int vpw = valuesPerWord;
        int cb = computeBits;
        int mask = (1 << cb) - 1;
        float[] xw = new float[vpw];
        for (int w = w0; w < w1; w++) {
            System.arraycopy(xs, xo + w * vpw, xw, 0, vpw);
            int base = w * out + outStart;
            for (int j = 0; j < n; j++) {
                int q = qc[base + j];
                float s = 0f;
                for (int k = 0; k < vpw; k++) s += xw[k] * ((q >>> (k * cb)) & mask);
                acc[j] += s;
            }
        }
    }

    @Override
    public float[] dequantize() {
        float[] w = new float[out * in]; // [out, in]
        int vpw = valuesPerWord;
        int mask = (1 << computeBits) - 1;
        for (int g = 0; g + 1 < groupWordStart.length; g++) {
            for (int s = groupWordStart[g] * vpw; s < groupWordStart[g + 1] * vpw; s++) {
                int i = perm == null ? s : perm[s];
                if (i < 0) continue;
                int rowBase = (s / vpw) * out;
                int shift = (s % vpw) * computeBits;
                for (int o = 0; o < out; o++) {
                    int q = (qc[rowBase + o] >>> shift) & mask;
                    w[o * in + i] = scales[g * out + o] * (q - zeros[g * out + o]);
                }
            }
        }
        return w;
    }

    @Override
    public String toString() {
        return "GptqLinear[" + in + " -> " + out + ", " + bits + "-bit, group " + groupSize
                + (perm != null ? ", act-order" : "") + "]";
    }
}
