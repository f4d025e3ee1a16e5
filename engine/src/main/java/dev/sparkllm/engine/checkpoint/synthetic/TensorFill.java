package dev.sparkllm.engine.checkpoint.synthetic;

import dev.sparkllm.engine.checkpoint.Half;

import java.nio.ByteBuffer;
import java.util.Random;

/**
 * The bytes of one synthetic tensor, produced in chunks of a few megabytes so that no tensor is ever whole in
 * memory. Chunk {@code c} depends only on the tensor's seed and {@code c} (its own {@link SplitMix64} stream), so
 * chunks may be filled on several threads and the file is the same whatever the thread count.
 *
 * <p>Values follow AutoGPTQ's layout (see {@code GptqTensors}): {@code qweight} packs {@code bits}-bit values along
 * the input dimension, least-significant first, 3-bit values straddling words; quantised values are
 * {@code x + y + 1} with {@code x, y} uniform in {@code [0, 2^(bits-1))}, a triangle centred on the symmetric
 * zero-point {@code 2^(bits-1)}, so dequantised weights have mean zero like real GPTQ weights.
 */
abstract class TensorFill {

    /** Bytes per chunk the fills aim at. */
    static final int TARGET_CHUNK_BYTES = 4 << 20;

    /** Bytes of the whole tensor. */
    abstract long byteSize();

    abstract int chunks();

    abstract int chunkBytes(int chunk);

    /** Puts chunk {@code chunk} (exactly {@link #chunkBytes} bytes) at {@code out}'s position; {@code out} is little-endian. */
    abstract void fill(int chunk, ByteBuffer out);

    // ---------------------------------------------------------------------------------------------- qweight

    /** {@code qweight} int32 {@code [in*bits/32, out]}. */
    static TensorFill packedWeights(int in, int out, int bits, long seed) {
        return new PackedWeights(in, out, bits, seed);
    }

    /** Standard deviation of a quantised value {@code x + y + 1} around its zero-point. */
    static double valueStdDev(int bits) {
        double n = 1 << (bits - 1);                  // x and y take n values each
        return Math.sqrt(2 * (n * n - 1) / 12);
    }

    private static final class PackedWeights extends TensorFill {
        private final int out;
        private final int bits;
        private final long seed;
        private final int blockRows;      // word rows filled together: 1, or 3 for 3-bit (32 values in 3 words)
        private final int blocks;
        private final int blocksPerChunk;
        private final int laneMask;       // 2^(bits-1) - 1 in every lane of a word, for widths dividing 32
        private final int laneOnes;       // 1 in every lane

        PackedWeights(int in, int out, int bits, long seed) {
            this.out = out;
            this.bits = bits;
            this.seed = seed;
            this.blockRows = 32 % bits == 0 ? 1 : bits;
            int rows = in * bits / 32;
            this.blocks = rows / blockRows;
            this.blocksPerChunk = Math.max(1, TARGET_CHUNK_BYTES / (blockRows * out * 4));
            int mask = 0;
            int ones = 0;
            for (int lane = 0; lane < 32 / bits && 32 % bits == 0; lane++) {
                mask |= ((1 << (bits - 1)) - 1) << (lane * bits);
                ones |= 1 << (lane * bits);
            }
            this.laneMask = mask;
            this.laneOnes = ones;
        }

        @Override
        long byteSize() {
            return (long) blocks * blockRows * out * 4;
        }

        @Override
        int chunks() {
            return (blocks + blocksPerChunk - 1) / blocksPerChunk;
        }

        @Override
        int chunkBytes(int chunk) {
            int n = Math.min(blocksPerChunk, blocks - chunk * blocksPerChunk);
            return n * blockRows * out * 4;
        }

        @Override
        void fill(int chunk, ByteBuffer dst) {
            SplitMix64 random = new SplitMix64(SplitMix64.mix(seed, chunk));
            int n = Math.min(blocksPerChunk, blocks - chunk * blocksPerChunk);
            if (blockRows == 1) {
                // Every word holds whole values: lanes of x + y + 1, no carry between lanes (at most 2^bits - 1).
                long words = (long) n * out;
                for (long w = 0; w + 1 < words; w += 2) {
                    long a = random.next();
                    long b = random.next();
                    long lo = word(a) & 0xFFFFFFFFL;
                    long hi = word(b) & 0xFFFFFFFFL;
                    dst.putLong(lo | hi << 32);
                }
                if ((words & 1) != 0) dst.putInt(word(random.next()));
                return;
            }
            // 3-bit: 32 values of a column form 96 bits in rows 3k, 3k+1, 3k+2 of that column.
            for (int b = 0; b < n; b++) {
                int base = dst.position();
                for (int o = 0; o < out; o++) {
                    long r1 = random.next();
                    long r2 = random.next();
                    long r3 = random.next();
                    long values0to20 = (r1 & MASK21) + (r2 & MASK21) + ONES21;                 // stream bits 0..62
                    long v21 = ((r3 >>> 30) & 3) + ((r3 >>> 62) & 3) + 1;                      // bits 63..65
                    long values22to31 = (r3 & MASK10) + ((r3 >>> 32) & MASK10) + ONES10;        // bits 66..95
                    long lo = values0to20 | v21 << 63;
                    long hi = v21 >>> 1 | values22to31 << 2;
                    dst.putInt(base + o * 4, (int) lo);
                    dst.putInt(base + (out + o) * 4, (int) (lo >>> 32));
                    dst.putInt(base + (2 * out + o) * 4, (int) hi);
                }
                dst.position(base + 3 * out * 4);
            }
        }

        private int word(long random) {
            return ((int) random & laneMask) + ((int) (random >>> 32) & laneMask) + laneOnes;
        }

        private static final long MASK21 = lanes(21, 3);
        private static final long ONES21 = lanes(21, 1);
        private static final long MASK10 = lanes(10, 3);
        private static final long ONES10 = lanes(10, 1);

        private static long lanes(int count, long value) {
            long v = 0;
            for (int i = 0; i < count; i++) v |= value << (3 * i);
            return v;
        }
    }

    // ---------------------------------------------------------------------------------------------- qzeros

    /**
     * {@code qzeros} int32 {@code [groups, out*bits/32]} of a symmetric checkpoint in AutoGPTQ's v1 convention: every
     * zero-point is {@code 2^(bits-1)}, stored minus one (7 at 4 bits, 3 at 3 bits).
     */
    static TensorFill zeroPoints(int groups, int out, int bits) {
        int[] row = new int[out * bits / 32];
        int stored = (1 << (bits - 1)) - 1;
        for (long j = 0; j < out; j++) {
            long bit = j * bits;
            int word = (int) (bit >>> 5);
            int shift = (int) (bit & 31);
            row[word] |= stored << shift;
            if (shift + bits > 32) row[word + 1] |= stored >>> (32 - shift);
        }
        return new RepeatedRow(row, groups);
    }

    private static final class RepeatedRow extends TensorFill {
        private final int[] row;
        private final int rows;
        private final int rowsPerChunk;

        RepeatedRow(int[] row, int rows) {
            this.row = row;
            this.rows = rows;
            this.rowsPerChunk = Math.max(1, TARGET_CHUNK_BYTES / (row.length * 4));
        }

        @Override
        long byteSize() {
            return (long) rows * row.length * 4;
        }

        @Override
        int chunks() {
            return (rows + rowsPerChunk - 1) / rowsPerChunk;
        }

        @Override
        int chunkBytes(int chunk) {
            return Math.min(rowsPerChunk, rows - chunk * rowsPerChunk) * row.length * 4;
        }

        @Override
        void fill(int chunk, ByteBuffer dst) {
            int n = Math.min(rowsPerChunk, rows - chunk * rowsPerChunk);
            for (int r = 0; r < n; r++) {
                for (int w : row) dst.putInt(w);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- zeros

    /** {@code bytes} zero bytes (the all-zero biases AutoGPTQ saves for bias-free Llama projections). */
    static TensorFill zeros(long bytes) {
        return new Zeros(bytes);
    }

    private static final class Zeros extends TensorFill {
        private final long bytes;

        Zeros(long bytes) {
            this.bytes = bytes;
        }

        @Override
        long byteSize() {
            return bytes;
        }

        @Override
        int chunks() {
            return (int) ((bytes + TARGET_CHUNK_BYTES - 1) / TARGET_CHUNK_BYTES);
        }

        @Override
        int chunkBytes(int chunk) {
            return (int) Math.min(TARGET_CHUNK_BYTES, bytes - (long) chunk * TARGET_CHUNK_BYTES);
        }

        @Override
        void fill(int chunk, ByteBuffer dst) {
            int n = chunkBytes(chunk);
            for (int i = 0; i + 8 <= n; i += 8) dst.putLong(0L);
            for (int i = n & ~7; i < n; i++) dst.put((byte) 0);
        }
    }

    // ---------------------------------------------------------------------------------------------- g_idx

    /**
     * {@code g_idx} int32 {@code [in]} as AutoGPTQ writes it: {@code i / groupSize} without act-order; with act-order
     * {@code rank(i) / groupSize}, where {@code rank} is a random permutation of the input rows (the order GPTQ
     * quantised them in), so each group still has exactly {@code groupSize} rows, scattered. Projections that read
     * the same input (q/k/v, gate/up) are quantised with the same Hessian and so share the permutation: they get the
     * same seed.
     */
    static TensorFill groupIndex(int in, int groupSize, boolean actOrder, long seed) {
        return new GroupIndex(in, groupSize, actOrder, seed);
    }

    /** The {@code g_idx} values of {@link #groupIndex}. */
    static int[] groupIndexValues(int in, int groupSize, boolean actOrder, long seed) {
        int size = groupSize == -1 ? in : groupSize;
        int[] rank = new int[in];
        for (int i = 0; i < in; i++) rank[i] = i;
        if (actOrder) {
            SplitMix64 random = new SplitMix64(seed);
            for (int i = in - 1; i > 0; i--) {
                int j = (int) (((random.next() >>> 32) * (i + 1)) >>> 32);
                int t = rank[i];
                rank[i] = rank[j];
                rank[j] = t;
            }
        }
        for (int i = 0; i < in; i++) rank[i] /= size;
        return rank;
    }

    private static final class GroupIndex extends TensorFill {
        private final int in;
        private final int groupSize;
        private final boolean actOrder;
        private final long seed;

        GroupIndex(int in, int groupSize, boolean actOrder, long seed) {
            this.in = in;
            this.groupSize = groupSize;
            this.actOrder = actOrder;
            this.seed = seed;
        }

        @Override
        long byteSize() {
            return (long) in * 4;
        }

        @Override
        int chunks() {
            return 1;
        }

        @Override
        int chunkBytes(int chunk) {
            return in * 4;
        }

        @Override
        void fill(int chunk, ByteBuffer dst) {
            for (int g : groupIndexValues(in, groupSize, actOrder, seed)) dst.putInt(g);
        }
    }

    // ---------------------------------------------------------------------------------------------- fp16

    /** An fp16 tensor of {@code elements} values drawn from {@code table} (4096 fp16 values) by 12 random bits each. */
    static TensorFill fp16(long elements, short[] table, long seed) {
        if (table.length != TABLE_SIZE) throw new IllegalArgumentException("fp16 tables have " + TABLE_SIZE + " entries");
        return new Fp16FromTable(elements, table, seed);
    }

    static final int TABLE_SIZE = 4096;

    /** 4096 fp16 samples of a normal distribution. */
    static short[] normalTable(double mean, double stdDev, long seed) {
        Random random = new Random(seed);
        short[] t = new short[TABLE_SIZE];
        for (int i = 0; i < t.length; i++) t[i] = Half.floatToF16((float) (mean + stdDev * random.nextGaussian()));
        return t;
    }

    /** 4096 fp16 values evenly spread over {@code [lo, hi]}: drawing from it is uniform on that range. */
    static short[] uniformTable(double lo, double hi) {
        short[] t = new short[TABLE_SIZE];
        for (int i = 0; i < t.length; i++) t[i] = Half.floatToF16((float) (lo + (hi - lo) * (i + 0.5) / TABLE_SIZE));
        return t;
    }

    private static final class Fp16FromTable extends TensorFill {
        private static final int CHUNK_ELEMENTS = TARGET_CHUNK_BYTES / 2;

        private final long elements;
        private final short[] table;
        private final long seed;

        Fp16FromTable(long elements, short[] table, long seed) {
            this.elements = elements;
            this.table = table;
            this.seed = seed;
        }

        @Override
        long byteSize() {
            return elements * 2;
        }

        @Override
        int chunks() {
            return (int) ((elements + CHUNK_ELEMENTS - 1) / CHUNK_ELEMENTS);
        }

        @Override
        int chunkBytes(int chunk) {
            return (int) Math.min(CHUNK_ELEMENTS, elements - (long) chunk * CHUNK_ELEMENTS) * 2;
        }

        @Override
        void fill(int chunk, ByteBuffer dst) {
            SplitMix64 random = new SplitMix64(SplitMix64.mix(seed, chunk));
            int n = chunkBytes(chunk) / 2;
            int i = 0;
            for (; i + 4 <= n; i += 4) {
                long r = random.next();
                long v = (table[(int) r & 4095] & 0xFFFFL)
                        | (table[(int) (r >>> 12) & 4095] & 0xFFFFL) << 16
                        | (table[(int) (r >>> 24) & 4095] & 0xFFFFL) << 32
                        | (table[(int) (r >>> 36) & 4095] & 0xFFFFL) << 48;
                dst.putLong(v);
            }
            for (; i < n; i++) dst.putShort(table[(int) random.next() & 4095]);
        }
    }
}
