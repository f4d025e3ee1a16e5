package dev.sparkllm.engine.cpu;

/**
 * The keys and values of every cached token position, per layer, in fixed-size blocks that sequences reach
 * through their block tables.
 *
 * <p>Layout per layer: one {@code float[blockCount * blockSize * kvDim]} for keys and one for values; the
 * entry of a position is {@code kvDim} floats at {@link #slot}, heads side by side ({@code [kvHeads, headDim]}).
 * Memory: {@code numLayers × 2 × blockCount × blockSize × kvDim × 4} bytes, allocated once at construction
 * (kjv-tiny, 256 blocks of 16: 4 × 2 × 4096 × 128 × 4 B = 16 MiB).
 */
final class PagedKvCache {

    private final int blockSize;
    private final int blockCount;
    private final int kvDim;
    private final float[][] keys;   // [layer][blockCount * blockSize * kvDim]
    private final float[][] values; // [layer][blockCount * blockSize * kvDim]

    PagedKvCache(int numLayers, int kvDim, int blockSize, int blockCount) {
        if (blockSize < 1 || blockCount < 1) {
            throw new IllegalArgumentException("KV cache needs at least one block of at least one position; got "
                    + blockCount + " blocks of " + blockSize);
        }
        long perLayer = (long) blockCount * blockSize * kvDim;
        if (perLayer > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache of " + blockCount + " blocks x " + blockSize + " positions x "
                    + kvDim + " floats does not fit one Java array per layer; use fewer blocks for the CPU backend");
        }
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.kvDim = kvDim;
        this.keys = new float[numLayers][(int) perLayer];
        this.values = new float[numLayers][(int) perLayer];
    }

    int blockSize() { return blockSize; }

    int blockCount() { return blockCount; }

    /** Bytes held by the cache. */
    long bytes() {
        return 2L * keys.length * keys[0].length * Float.BYTES;
    }

    /** Index of {@code position}'s first float in a layer's key or value array, through the block table. */
    int slot(int[] blockTable, int position) {
        int block = blockTable[position / blockSize];
        return (block * blockSize + position % blockSize) * kvDim;
    }

    /** Keys of {@code layer}, {@code [blockCount * blockSize, kvDim]}. */
    float[] keys(int layer) { return keys[layer]; }

    /** Values of {@code layer}, {@code [blockCount * blockSize, kvDim]}. */
    float[] values(int layer) { return values[layer]; }

    /** Copies one position's key and value ({@code kvDim} floats each) into its slot. */
    void store(int layer, int slot, float[] k, int kOffset, float[] v, int vOffset) {
        System.arraycopy(k, kOffset, keys[layer], slot, kvDim);
        System.arraycopy(v, vOffset, values[layer], slot, kvDim);
    }
}
