package dev.sparkllm.engine.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A tensor's bytes, memory-mapped read-only. A Java 17 mapping holds at most 2 GiB, so larger tensors are
 * mapped as several chunks of {@link #CHUNK_BYTES} each (a multiple of every element size, so no element
 * straddles two chunks). Offsets are 64-bit throughout. The bulk readers copy into compact heap arrays.
 */
public final class MappedTensor {

    /** Bytes per mapping chunk: 1 GiB, a multiple of every dtype's size. */
    static final long CHUNK_BYTES = 1L << 30;

    private final TensorInfo info;
    private final Path file;
    private final ByteBuffer[] chunks; // little-endian, each CHUNK_BYTES long except the last

    private MappedTensor(TensorInfo info, Path file, ByteBuffer[] chunks) {
        this.info = info;
        this.file = file;
        this.chunks = chunks;
    }

    static MappedTensor map(FileChannel channel, long position, TensorInfo info, Path file) throws IOException {
        long size = info.byteSize();
        int count = (int) Math.max(1, (size + CHUNK_BYTES - 1) / CHUNK_BYTES);
        ByteBuffer[] chunks = new ByteBuffer[count];
        for (int i = 0; i < count; i++) {
            long start = i * CHUNK_BYTES;
            long length = Math.min(CHUNK_BYTES, size - start);
            chunks[i] = channel.map(FileChannel.MapMode.READ_ONLY, position + start, length).order(ByteOrder.LITTLE_ENDIAN);
        }
        return new MappedTensor(info, file, chunks);
    }

    public TensorInfo info() {
        return info;
    }

    /** Number of mapping chunks. */
    public int chunkCount() {
        return chunks.length;
    }

    /** A read-only little-endian view of chunk {@code i}, positioned at 0. */
    public ByteBuffer chunk(int i) {
        return chunks[i].duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The elements as floats, converted from F16, BF16, F32 or F64. */
    public float[] toFloatArray() {
        DType dtype = info.dtype();
        if (!dtype.isFloatingPoint()) {
            throw new CheckpointException(file + ": tensor '" + info.name() + "' is " + dtype + ", expected a floating-point dtype");
        }
        float[] out = new float[arrayLength()];
        int at = 0;
        for (ByteBuffer c : chunks) {
            ByteBuffer b = c.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            switch (dtype) {
                case F16 -> { while (b.remaining() >= 2) out[at++] = Half.f16ToFloat(b.getShort()); }
                case BF16 -> { while (b.remaining() >= 2) out[at++] = Half.bf16ToFloat(b.getShort()); }
                case F32 -> { int n = b.remaining() / 4; b.asFloatBuffer().get(out, at, n); at += n; }
                case F64 -> { while (b.remaining() >= 8) out[at++] = (float) b.getDouble(); }
                default -> throw new IllegalStateException(dtype.toString());
            }
        }
        return out;
    }

    /** The raw 16-bit patterns of an F16 or BF16 tensor. */
    public short[] toShortArray() {
        requireDtype(DType.F16, DType.BF16, DType.I16, DType.U16);
        short[] out = new short[arrayLength()];
        int at = 0;
        for (ByteBuffer c : chunks) {
            int n = c.remaining() / 2;
            c.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(out, at, n);
            at += n;
        }
        return out;
    }

    /** The elements of an I32 or U32 tensor. */
    public int[] toIntArray() {
        requireDtype(DType.I32, DType.U32);
        int[] out = new int[arrayLength()];
        int at = 0;
        for (ByteBuffer c : chunks) {
            int n = c.remaining() / 4;
            c.duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out, at, n);
            at += n;
        }
        return out;
    }

    private void requireDtype(DType... allowed) {
        for (DType d : allowed) {
            if (info.dtype() == d) return;
        }
        throw new CheckpointException(file + ": tensor '" + info.name() + "' is " + info.dtype()
                + ", expected one of " + java.util.Arrays.toString(allowed));
    }

    private int arrayLength() {
        long n = info.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(file + ": tensor '" + info.name() + "' has " + n
                    + " elements, more than one Java array holds; read it chunk by chunk instead");
        }
        return (int) n;
    }
}
