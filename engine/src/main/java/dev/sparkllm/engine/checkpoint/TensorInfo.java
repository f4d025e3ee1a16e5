package dev.sparkllm.engine.checkpoint;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header, validated.
 *
 * @param name      tensor name, e.g. {@code model.layers.0.self_attn.q_proj.qweight}
 * @param dtype     element type
 * @param shape     dimensions, outermost first (empty for a scalar)
 * @param dataStart first byte, relative to the start of the data region (after the header)
 * @param dataEnd   one past the last byte, relative to the data region
 */
public record TensorInfo(String name, DType dtype, long[] shape, long dataStart, long dataEnd) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Dimension {@code i} of the shape. */
    public long dim(int i) {
        return shape[i];
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Number of elements (product of the shape; 1 for a scalar). */
    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Bytes of data. */
    public long byteSize() {
        return dataEnd - dataStart;
    }

    /** True when the shape is exactly {@code expected}. */
    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /** The shape as {@code [a, b]}, for messages. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && dataStart == t.dataStart && dataEnd == t.dataEnd;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + shapeString() + " @[" + dataStart + ", " + dataEnd + ")";
    }
}
