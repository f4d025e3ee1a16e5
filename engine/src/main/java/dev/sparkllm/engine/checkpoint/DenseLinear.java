package dev.sparkllm.engine.checkpoint;

import dev.sparkllm.engine.model.Linear;

/**
 * A dense linear layer {@code y = x · Wᵀ} over a weight {@code [out, in]} kept in checkpoint precision.
 * Each output is one {@link DenseMatrix#dot} of a weight row with an input row, in a fixed summation order
 * (a batch widens each 16-bit weight row once and dots the floats, which gives the same bits):
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
        if (rows == 1) {
            for (int o = outStart; o < outEnd; o++) y[o] = weight.dot(o, x, 0);
            return;
        }
        // Widen each weight row once and reuse it for every input row (16-bit rows would otherwise be widened
        // again per row); DenseMatrix.dot over the widened row gives the same bits as weight.dot.
        float[] w = new float[in]; // one weight row as floats
        for (int o = outStart; o < outEnd; o++) {
            weight.row(o, w, 0);
            for (int r = 0; r < rows; r++) {
                y[r * out + o] = DenseMatrix.dot(w, 0, x, r * in, in);
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
