package dev.sparkllm.engine.checkpoint;

import dev.sparkllm.engine.model.Linear;

/**
 * A dense linear layer {@code y = x · Wᵀ} over a weight {@code [out, in]} kept in checkpoint precision.
 * Each weight row is widened to floats once per call and dotted with every input row using eight partial
 * sums combined in a fixed order: the same arithmetic for every batch and output split (the {@link Linear}
 * contract). Scratch space is per call, so concurrent calls on disjoint output ranges are safe.
 */
public final class DenseLinear implements Linear {

    private final DenseMatrix weight; // [out, in]

    public DenseLinear(DenseMatrix weight) {
        this.weight = weight;
    }

    @Override
    public int inFeatures() {
        return weight.cols();
    }

    @Override
    public int outFeatures() {
        return weight.rows();
    }

    /** The weight matrix, {@code [out, in]}. */
    public DenseMatrix weight() {
        return weight;
    }

    @Override
    public void forward(float[] x, int rows, float[] y, int outStart, int outEnd) {
        int in = weight.cols();
        int out = weight.rows();
        if (outStart < 0 || outEnd > out || outStart > outEnd) {
            throw new IndexOutOfBoundsException("output range [" + outStart + ", " + outEnd + ") outside [0, " + out + ")");
        }
        if ((long) rows * in > x.length || (long) rows * out > y.length) {
            throw new IllegalArgumentException(rows + " rows need x of " + (long) rows * in + " and y of "
                    + (long) rows * out + " floats; got " + x.length + " and " + y.length);
        }
        float[] w = new float[in];
        for (int o = outStart; o < outEnd; o++) {
            weight.row(o, w, 0);
            for (int r = 0; r < rows; r++) {
                y[r * out + o] = dot(x, r * in, w, in);
            }
        }
    }

    /** Σ a[ao+i]·b[i] with eight interleaved partial sums, combined pairwise in a fixed order. */
    static float dot(float[] a, int ao, float[] b, int n) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            s0 += a[ao + i] * b[i];
            s1 += a[ao + i + 1] * b[i + 1];
            s2 += a[ao + i + 2] * b[i + 2];
            s3 += a[ao + i + 3] * b[i + 3];
            s4 += a[ao + i + 4] * b[i + 4];
            s5 += a[ao + i + 5] * b[i + 5];
            s6 += a[ao + i + 6] * b[i + 6];
            s7 += a[ao + i + 7] * b[i + 7];
        }
        for (; i < n; i++) s0 += a[ao + i] * b[i];
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    @Override
    public float[] dequantize() {
        int in = weight.cols();
        float[] w = new float[weight.rows() * in];
        for (int o = 0; o < weight.rows(); o++) weight.row(o, w, o * in);
        return w;
    }
}
