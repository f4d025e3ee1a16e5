package dev.sparkllm.engine.checkpoint;

/**
 * A row-major dense matrix kept in its checkpoint precision: fp16 and bf16 stay 16-bit patterns (half the
 * heap of floats) and are widened one row at a time; f32 (and f64, narrowed at load) are floats.
 */
public final class DenseMatrix {

    private final int rows;
    private final int cols;
    private final DType dtype;   // F16, BF16 or F32
    private final short[] half;  // [rows, cols] F16/BF16 bit patterns, or null
    private final float[] full;  // [rows, cols] F32 values, or null

    private DenseMatrix(int rows, int cols, DType dtype, short[] half, float[] full) {
        this.rows = rows;
        this.cols = cols;
        this.dtype = dtype;
        this.half = half;
        this.full = full;
    }

    /** Reads a 2-D floating-point tensor of shape {@code [rows, cols]}. */
    public static DenseMatrix read(MappedTensor t) {
        TensorInfo info = t.info();
        int rows = (int) info.dim(0);
        int cols = (int) info.dim(1);
        return switch (info.dtype()) {
            case F16, BF16 -> new DenseMatrix(rows, cols, info.dtype(), t.toShortArray(), null);
            default -> new DenseMatrix(rows, cols, DType.F32, null, t.toFloatArray());
        };
    }

    /** Wraps float values, row-major {@code [rows, cols]}. */
    public static DenseMatrix ofFloats(int rows, int cols, float[] values) {
        if ((long) rows * cols != values.length) {
            throw new IllegalArgumentException(values.length + " values for a " + rows + "x" + cols + " matrix");
        }
        return new DenseMatrix(rows, cols, DType.F32, null, values);
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** The precision the values are kept in. */
    public DType dtype() {
        return dtype;
    }

    /**
     * {@code Σ_c x[xo+c] · row(r)[c]}, widening 16-bit values on the fly. Eight interleaved partial sums are
     * combined pairwise in a fixed order, so the result depends only on the row and x, never on the caller's
     * batch or output split. Safe to call from several threads.
     */
    public float dot(int r, float[] x, int xo) {
        if (r < 0 || r >= rows) {
            throw new IndexOutOfBoundsException("row " + r + " outside [0, " + rows + ")");
        }
        int n = cols;
        int wo = r * cols;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int i = 0;
        if (full != null) {
            float[] w = full;
            for (; i + 8 <= n; i += 8) {
                s0 += x[xo + i] * w[wo + i];
                s1 += x[xo + i + 1] * w[wo + i + 1];
                s2 += x[xo + i + 2] * w[wo + i + 2];
                s3 += x[xo + i + 3] * w[wo + i + 3];
                s4 += x[xo + i + 4] * w[wo + i + 4];
                s5 += x[xo + i + 5] * w[wo + i + 5];
                s6 += x[xo + i + 6] * w[wo + i + 6];
                s7 += x[xo + i + 7] * w[wo + i + 7];
            }
            for (; i < n; i++) s0 += x[xo + i] * w[wo + i];
        } else if (dtype == DType.F16) {
            short[] w = half;
            for (; i + 8 <= n; i += 8) {
                s0 += x[xo + i] * Half.f16ToFloat(w[wo + i]);
                s1 += x[xo + i + 1] * Half.f16ToFloat(w[wo + i + 1]);
                s2 += x[xo + i + 2] * Half.f16ToFloat(w[wo + i + 2]);
                s3 += x[xo + i + 3] * Half.f16ToFloat(w[wo + i + 3]);
                s4 += x[xo + i + 4] * Half.f16ToFloat(w[wo + i + 4]);
                s5 += x[xo + i + 5] * Half.f16ToFloat(w[wo + i + 5]);
                s6 += x[xo + i + 6] * Half.f16ToFloat(w[wo + i + 6]);
                s7 += x[xo + i + 7] * Half.f16ToFloat(w[wo + i + 7]);
            }
            for (; i < n; i++) s0 += x[xo + i] * Half.f16ToFloat(w[wo + i]);
        } else {
            short[] w = half;
            for (; i + 8 <= n; i += 8) {
                s0 += x[xo + i] * Half.bf16ToFloat(w[wo + i]);
                s1 += x[xo + i + 1] * Half.bf16ToFloat(w[wo + i + 1]);
                s2 += x[xo + i + 2] * Half.bf16ToFloat(w[wo + i + 2]);
                s3 += x[xo + i + 3] * Half.bf16ToFloat(w[wo + i + 3]);
                s4 += x[xo + i + 4] * Half.bf16ToFloat(w[wo + i + 4]);
                s5 += x[xo + i + 5] * Half.bf16ToFloat(w[wo + i + 5]);
                s6 += x[xo + i + 6] * Half.bf16ToFloat(w[wo + i + 6]);
                s7 += x[xo + i + 7] * Half.bf16ToFloat(w[wo + i + 7]);
            }
            for (; i < n; i++) s0 += x[xo + i] * Half.bf16ToFloat(w[wo + i]);
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /** Writes row {@code r} as floats into {@code dst[off .. off+cols)}. */
    public void row(int r, float[] dst, int off) {
        if (r < 0 || r >= rows) {
            throw new IndexOutOfBoundsException("row " + r + " outside [0, " + rows + ")");
        }
        int base = r * cols;
        if (full != null) {
            System.arraycopy(full, base, dst, off, cols);
        } else if (dtype == DType.F16) {
            for (int c = 0; c < cols; c++) dst[off + c] = Half.f16ToFloat(half[base + c]);
        } else {
            for (int c = 0; c < cols; c++) dst[off + c] = Half.bf16ToFloat(half[base + c]);
        }
    }
}
