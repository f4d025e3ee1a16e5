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
