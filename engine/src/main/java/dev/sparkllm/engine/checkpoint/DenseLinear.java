package dev.sparkllm.engine.checkpoint;

import dev.sparkllm.engine.model.Linear;

import java.util.Arrays;

/**
 * A dense linear layer {@code y = x · Wᵀ} over a weight {@code [out, in]} kept in checkpoint precision.
 * Each output has the arithmetic of one {@link DenseMatrix#dot} of a weight row with an input row (eight
 * interleaved partial sums, combined pairwise), computed tile by tile: a {@code [64 inputs x 64 outputs]} tile
 * is widened once per call and applied to the batch four rows at a time. Each output gets the same bits as
 * {@code dot} whatever the batch or output split (the {@link Linear} contract). Nothing is shared
 * between calls, so concurrent calls on disjoint output ranges are safe.
 */
public final class DenseLinear implements Linear {

    /** Output columns per tile: long enough for the JIT's vector loops. */
    private static final int TILE_COLS = 64;
    /** Inputs per tile: a 16 KiB float tile, widened once per call and shared by every row of the batch. */
    private static final int TILE_K = 64;

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
        if (rows < 4) {
            // Too few rows to repay widening and transposing tiles; dot gives the tiled path's bits anyway.
            for (int o = outStart; o < outEnd; o++) {
                for (int r = 0; r < rows; r++) y[r * out + o] = weight.dot(o, x, r * in);
            }
            return;
        }
        float[][] tile = new float[TILE_K][TILE_COLS];        // [k][j] weights W[c0+j][k0+k], transposed
        float[] segment = new float[TILE_K];                  // one weight row's slice of the tile
        float[][][] partial = new float[rows][8][TILE_COLS];  // [rows][8 partial sums][TILE_COLS]
        int n8 = in - in % 8;                                 // inputs from n8 on go to partial sum 0
        for (int c0 = outStart; c0 < outEnd; c0 += TILE_COLS) {
            int cn = Math.min(TILE_COLS, outEnd - c0);
            for (float[][] pr : partial) for (float[] p : pr) Arrays.fill(p, 0f);
            for (int k0 = 0; k0 < in; k0 += TILE_K) {
                int kn = Math.min(TILE_K, in - k0);
                for (int j = 0; j < TILE_COLS; j++) {
                    if (j < cn) {
                        weight.segment(c0 + j, k0, kn, segment, 0);
                    } else {
                        Arrays.fill(segment, 0f);
                    }
                    for (int k = 0; k < kn; k++) tile[k][j] = segment[k];
                }
                int r = 0;
                for (; r + 4 <= rows; r += 4) {
                    accumulate4Rows(x, in, r * in, k0, kn, n8, tile, partial[r], partial[r + 1], partial[r + 2], partial[r + 3]);
                }
                for (; r < rows; r++) accumulateRow(x, r * in, k0, kn, n8, tile, partial[r]);
            }
            for (int r = 0; r < rows; r++) {
                float[][] s = partial[r];
                for (int j = 0; j < cn; j++) {
                    y[r * out + c0 + j] = ((s[0][j] + s[1][j]) + (s[2][j] + s[3][j])) + ((s[4][j] + s[5][j]) + (s[6][j] + s[7][j]));
                }
            }
        }
    }

    /**
     * Four rows against one tile: input {@code k0+k} of row {@code r} adds {@code x·w} to partial sum
     * {@code (k0+k) mod 8} (0 past the last whole eight), exactly as {@link DenseMatrix#dot} does per row;
     * one tile load feeds four rows and the loops over columns vectorise.
     */
    private static void accumulate4Rows(float[] x, int stride, int xo, int k0, int kn, int n8, float[][] tile,
                                        float[][] p0, float[][] p1, float[][] p2, float[][] p3) {
        for (int k = 0; k < kn; k++) {
            int i = k0 + k;
            int p = i < n8 ? i & 7 : 0;
            float v0 = x[xo + i];
            float v1 = x[xo + stride + i];
            float v2 = x[xo + 2 * stride + i];
            float v3 = x[xo + 3 * stride + i];
            float[] w = tile[k];
            float[] a0 = p0[p];
            float[] a1 = p1[p];
            float[] a2 = p2[p];
            float[] a3 = p3[p];
            for (int j = 0; j < TILE_COLS; j++) {
                float q = w[j];
                a0[j] += v0 * q;
                a1[j] += v1 * q;
                a2[j] += v2 * q;
                a3[j] += v3 * q;
            }
        }
    }

    /** One row against one tile, the same arithmetic as each row of {@link #accumulate4Rows}. */
    private static void accumulateRow(float[] x, int xo, int k0, int kn, int n8, float[][] tile, float[][] p0) {
        for (int k = 0; k < kn; k++) {
            int i = k0 + k;
            float v = x[xo + i];
            float[] w = tile[k];
            float[] a = p0[i < n8 ? i & 7 : 0];
            for (int j = 0; j < TILE_COLS; j++) a[j] += v * w[j];
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
