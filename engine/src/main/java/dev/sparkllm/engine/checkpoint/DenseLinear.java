package dev.sparkllm.engine.checkpoint;

import dev.sparkllm.engine.model.Linear;

/**
 * A dense linear layer {@code y = x · Wᵀ} over a weight {@code [out, in]} kept in checkpoint precision.
 * Each output is one {@link DenseMatrix#dot} of a weight row with an input row, in a fixed summation order:
 * the same arithmetic for every batch and output split (the {@link Linear} contract). Nothing is shared
 * between calls, so concurrent calls on disjoint output ranges are safe.
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
        for (int o = outStart; o < outEnd; o++) {
            for (int r = 0; r < rows; r++) {
                y[r * out + o] = weight.dot(o, x, r * in);
            }
        }
    }

    @Override
    public float[] dequantize() {
        int in = weight.cols();
        float[] w = new float[weight.rows() * in];
        for (int o = 0; o < weight.rows(); o++) weight.row(o, w, o * in);
        return w;
    }
}
