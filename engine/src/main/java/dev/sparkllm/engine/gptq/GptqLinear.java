package dev.sparkllm.engine.gptq;

import dev.sparkllm.engine.model.Linear;

import java.util.Arrays;

/**
 * A GPTQ linear layer on the CPU: {@code y = x · Wᵀ} with {@code W[o][i] = scale[g][o] * (q[i][o] - zero[g][o])},
 * {@code g} the group of input row {@code i}.
 *
 * <p>Compute layout, built once at load from the on-disk one: input rows are sorted by group (act-order
 * checkpoints scramble them; the activations are gathered through the same permutation), each group is
 * padded to whole words, and values are repacked with {@code computeBits} bits each (3-bit values widen to
 * 4 so none straddles a word). Packed words stay compact in an {@code int[]}; nothing is dequantised.
 *
 * <p>Per output column the sum runs group by group, slot by slot, always in that order, as
 * {@code scale * (Σ x·q - zero * Σ x)}, each slot adding the product {@code x·q} to the group's sum: the same
 * arithmetic whatever the batch or the output range, so the {@link Linear} batch-invariance contract holds.
 * How the work is scheduled only changes speed: a batch is taken four rows at a time against small tiles of
 * unpacked values ({@code [64 slots, 64 columns]} floats, unpacked once per call and shared by all rows), and
 * 4-bit rows outside such blocks (a single-stream step) use per-word product tables read straight from the
 * packed words. Weights stay packed; calls with disjoint output ranges may run concurrently: scratch space
 * belongs to the calling thread ({@link Scratch}), reused from call to call so that decoding allocates next to
 * nothing (one 512-byte product table per single-row call).
 */
public final class GptqLinear implements Linear {

    /** Output columns per tile: long enough for the JIT's vector loops, short enough to keep scratch small. */
    private static final int TILE_COLS = 64;
    /** Input slots per tile: with {@link #TILE_COLS} a 16 KiB float tile that stays in L1 across the batch. */
    private static final int TILE_SLOTS = 64;

    private final int in;               // input features
    private final int out;              // output features
    private final int bits;             // bits per weight on disk
    private final int groupSize;        // as declared, -1 for one group
    private final int computeBits;      // bits per value in qc: 2, 4 or 8
    private final int valuesPerWord;    // 32 / computeBits
    private final int[] perm;           // [paddedIn] source input row of each slot, -1 for padding; null when identity
    private final int[] groupWordStart; // [groups + 1] first packed word row of each group
    private final int[] qc;             // [paddedIn / valuesPerWord, out] packed values, least-significant first
    private final float[] scales;       // [groups, out]
    private final float[] zeros;        // [groups, out] effective zero-points (convention already applied)

    private GptqLinear(int in, int out, int bits, int groupSize, int computeBits, int[] perm, int[] groupWordStart,
                       int[] qc, float[] scales, float[] zeros) {
        this.in = in;
        this.out = out;
        this.bits = bits;
        this.groupSize = groupSize;
        this.computeBits = computeBits;
        this.valuesPerWord = 32 / computeBits;
        this.perm = perm;
        this.groupWordStart = groupWordStart;
        this.qc = qc;
        this.scales = scales;
        this.zeros = zeros;
    }

    /**
     * Builds the compute layout from on-disk tensors.
     *
     * @throws IllegalArgumentException when the tensors' sizes disagree with each other
     */
    public static GptqLinear of(GptqTensors t) {
        t.validate();
        int in = t.inFeatures();
        int out = t.outFeatures();
        int groups = t.groups();
        int computeBits = t.bits() == 3 ? 4 : t.bits();
        int vpw = 32 / computeBits;

        // Sort input rows by group (stable), padding each group to whole words.
        int[] groupOf = new int[in];
        for (int i = 0; i < in; i++) {
            groupOf[i] = t.gIdx() != null ? t.gIdx()[i] : (t.groupSize() == -1 ? 0 : i / t.groupSize());
        }
        int[] count = new int[groups];
        for (int g : groupOf) count[g]++;
        int[] groupWordStart = new int[groups + 1];
        for (int g = 0; g < groups; g++) {
            groupWordStart[g + 1] = groupWordStart[g] + (count[g] + vpw - 1) / vpw;
        }
        int paddedIn = groupWordStart[groups] * vpw;
        int[] nextSlot = new int[groups];
        for (int g = 0; g < groups; g++) nextSlot[g] = groupWordStart[g] * vpw;
        int[] slotOf = new int[in];
        int[] perm = new int[paddedIn];
        Arrays.fill(perm, -1);
        boolean identity = paddedIn == in;
        for (int i = 0; i < in; i++) {
            int s = nextSlot[groupOf[i]]++;
            slotOf[i] = s;
            perm[s] = i;
            identity &= s == i;
        }

        int[] qc = new int[groupWordStart[groups] * out];
        int[] qweight = t.qweight();
        for (int i = 0; i < in; i++) {
            int rowBase = (slotOf[i] / vpw) * out;
            int shift = (slotOf[i] % vpw) * computeBits;
            for (int o = 0; o < out; o++) {
                qc[rowBase + o] |= GptqBits.unpack(qweight, o, out, i, t.bits()) << shift;
            }
        }
        float offset = t.zeroPoints() == GptqTensors.ZeroPoints.STORED_MINUS_ONE ? 1f : 0f;
        int zeroWords = out * t.bits() / 32;
        float[] zeros = new float[groups * out];
        for (int g = 0; g < groups; g++) {
            for (int o = 0; o < out; o++) {
                // v1 adds one without masking, as AutoGPTQ's own kernels do (a stored 2^bits-1 reads as 2^bits).
                zeros[g * out + o] = GptqBits.unpack(t.qzeros(), g * zeroWords, 1, o, t.bits()) + offset;
            }
        }
        return new GptqLinear(in, out, t.bits(), t.groupSize(), computeBits, identity ? null : perm, groupWordStart,
                qc, t.scales().clone(), zeros);
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return out;
    }

    /** Bits per weight in the checkpoint. */
    public int bits() {
        return bits;
    }

    /** Group size as declared (-1: one group). */
    public int groupSize() {
        return groupSize;
    }

    /** True when input rows are permuted at load (a non-trivial act-order g_idx, or padded groups). */
    public boolean permuted() {
        return perm != null;
    }

    @Override
    public void forward(float[] x, int rows, float[] y, int outStart, int outEnd) {
        if (outStart < 0 || outEnd > out || outStart > outEnd) {
            throw new IndexOutOfBoundsException("output range [" + outStart + ", " + outEnd + ") outside [0, " + out + ")");
        }
        if ((long) rows * in > x.length || (long) rows * out > y.length) {
            throw new IllegalArgumentException(rows + " rows need x of " + (long) rows * in + " and y of "
                    + (long) rows * out + " floats; got " + x.length + " and " + y.length);
        }
        if (outStart == outEnd || rows == 0) return;
        int groups = groupWordStart.length - 1;
        int vpw = valuesPerWord;
        int slotsPerRow = groupWordStart[groups] * vpw;
        Scratch scratch = SCRATCH.get();
        float[] xs = gather(x, rows, scratch);                   // [rows, slotsPerRow] activations in slot order
        float[] sumX = scratch.floats(Scratch.SUM_X, rows * groups); // [rows, groups] Σ x over each group's slots
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                float s = 0f;
                for (int i = r * slotsPerRow + groupWordStart[g] * vpw, end = r * slotsPerRow + groupWordStart[g + 1] * vpw; i < end; i++) {
                    s += xs[i];
                }
                sumX[r * groups + g] = s;
            }
        }
        // Blocks of four rows share unpacked tiles; 4-bit leftover rows (all rows of a single-stream step) go
        // through per-word product tables instead, which need no unpacking and give the same bits.
        int tileRows = computeBits == 4 ? rows - rows % 4 : rows;
        for (int r = tileRows; r < rows; r++) {
            rowByTables(xs, r * slotsPerRow, sumX, r * groups, y, r * out, outStart, outEnd - outStart, scratch);
        }
        if (tileRows == 0) return;
        int tileWords = Math.max(1, TILE_SLOTS / vpw);
        float[][] tile = scratch.tile;                // [TILE_SLOTS][TILE_COLS] unpacked values q as floats
        int[] words = scratch.words;                  // [TILE_COLS] one word row of the tile's columns
        float[][] acc = scratch.rowTiles(0, tileRows);   // [tileRows][TILE_COLS] Σ x·q of the current group
        float[][] yTile = scratch.rowTiles(1, tileRows); // [tileRows][TILE_COLS] outputs so far
        float[] groupScales = scratch.groupScales;    // [TILE_COLS] the tile's scales in the current group
        float[] groupZeros = scratch.groupZeros;      // [TILE_COLS] and its zero-points, both zero past cn
        for (int c0 = outStart; c0 < outEnd; c0 += TILE_COLS) {
            int cn = Math.min(TILE_COLS, outEnd - c0);
            if (cn < TILE_COLS) {
                Arrays.fill(groupScales, cn, TILE_COLS, 0f);
                Arrays.fill(groupZeros, cn, TILE_COLS, 0f);
            }
            for (int r = 0; r < tileRows; r++) Arrays.fill(yTile[r], 0f);
            for (int g = 0; g < groups; g++) {
                for (int r = 0; r < tileRows; r++) Arrays.fill(acc[r], 0f);
                for (int w = groupWordStart[g], w1 = groupWordStart[g + 1]; w < w1; w += tileWords) {
                    int we = Math.min(w1, w + tileWords);
                    unpackTile(w, we, c0, cn, words, tile);
                    int slot0 = w * vpw;
                    int slots = (we - w) * vpw;
                    int r = 0;
                    for (; r + 4 <= tileRows; r += 4) {
                        accumulate4Rows(xs, slotsPerRow, r * slotsPerRow + slot0, slots, tile, acc[r], acc[r + 1], acc[r + 2], acc[r + 3]);
                    }
                    for (; r < tileRows; r++) accumulateRow(xs, r * slotsPerRow + slot0, slots, tile, acc[r]);
                }
                // copied to arrays of their own so that the loop below runs over whole arrays (vectorised)
                System.arraycopy(scales, g * out + c0, groupScales, 0, cn);
                System.arraycopy(zeros, g * out + c0, groupZeros, 0, cn);
                for (int r = 0; r < tileRows; r++) {
                    float sx = sumX[r * groups + g];
                    float[] ar = acc[r];
                    float[] yr = yTile[r];
                    for (int j = 0; j < TILE_COLS; j++) yr[j] += groupScales[j] * (ar[j] - groupZeros[j] * sx);
                }
            }
            for (int r = 0; r < tileRows; r++) System.arraycopy(yTile[r], 0, y, r * out + c0, cn);
        }
    }

    /**
     * One row over all of {@code [c0, c0 + n)} for 4-bit words, without unpacking. Per word a table holds
     * {@code x_k * v} for its eight activations and all sixteen values: exactly the products the tile path
     * forms, added to the column's sum one slot at a time in slot order, so each output has the same bits
     * as when its row goes through {@link #accumulate4Rows} in a larger batch. Columns go in pairs: each
     * column's eight additions form one dependent chain, and two chains side by side keep the adder busy
     * (measured with GptqLinearBenchmark at one row: about 5-10% faster than one column at a time).
     */
    private void rowByTables(float[] xs, int xo, float[] sumX, int so, float[] y, int yo, int c0, int n,
                             Scratch scratch) {
        // [8 activations, 16 values]; allocated here (512 bytes) because its known length lets the JIT drop
        // the range checks of the eight lookups per word, which a shared scratch array would cost
        float[] t = new float[128];
        float[] acc = scratch.floats(Scratch.ROW_ACC, n);   // [n] Σ x·q of the current group
        float[] yRow = scratch.floats(Scratch.ROW_OUT, n);  // [n] the row's outputs so far
        Arrays.fill(yRow, 0, n, 0f);
        for (int g = 0; g + 1 < groupWordStart.length; g++) {
            Arrays.fill(acc, 0, n, 0f);
            for (int w = groupWordStart[g], w1 = groupWordStart[g + 1]; w < w1; w++) {
                int xb = xo + w * 8;
                for (int k = 0; k < 8; k++) {
                    float xk = xs[xb + k];
                    for (int v = 0; v < 16; v++) t[k * 16 + v] = xk * v;
                }
                int base = w * out + c0;
                int j = 0;
                for (; j + 1 < n; j += 2) {
                    int q = qc[base + j];
                    int p = qc[base + j + 1];
                    float a = acc[j];
                    float b = acc[j + 1];
                    a += t[q & 15];
                    b += t[p & 15];
                    a += t[16 + ((q >>> 4) & 15)];
                    b += t[16 + ((p >>> 4) & 15)];
                    a += t[32 + ((q >>> 8) & 15)];
                    b += t[32 + ((p >>> 8) & 15)];
                    a += t[48 + ((q >>> 12) & 15)];
                    b += t[48 + ((p >>> 12) & 15)];
                    a += t[64 + ((q >>> 16) & 15)];
                    b += t[64 + ((p >>> 16) & 15)];
                    a += t[80 + ((q >>> 20) & 15)];
                    b += t[80 + ((p >>> 20) & 15)];
                    a += t[96 + ((q >>> 24) & 15)];
                    b += t[96 + ((p >>> 24) & 15)];
                    a += t[112 + (q >>> 28)];
                    b += t[112 + (p >>> 28)];
                    acc[j] = a;
                    acc[j + 1] = b;
                }
                for (; j < n; j++) { // an odd last column
                    int q = qc[base + j];
                    float a = acc[j];
                    a += t[q & 15];
                    a += t[16 + ((q >>> 4) & 15)];
                    a += t[32 + ((q >>> 8) & 15)];
                    a += t[48 + ((q >>> 12) & 15)];
                    a += t[64 + ((q >>> 16) & 15)];
                    a += t[80 + ((q >>> 20) & 15)];
                    a += t[96 + ((q >>> 24) & 15)];
                    a += t[112 + (q >>> 28)];
                    acc[j] = a;
                }
            }
            float sx = sumX[so + g];
            int go = g * out + c0;
            for (int j = 0; j < n; j++) yRow[j] += scales[go + j] * (acc[j] - zeros[go + j] * sx);
        }
        System.arraycopy(yRow, 0, y, yo + c0, n);
    }

    /** The activations in compute slot order, padding slots zero: x itself when no permutation is needed. */
    private float[] gather(float[] x, int rows, Scratch scratch) {
        if (perm == null) return x;
        int slots = perm.length;
        float[] xs = scratch.floats(Scratch.GATHER, rows * slots); // [rows, slots], every slot written below
        for (int r = 0; r < rows; r++) {
            int xo = r * in;
            int so = r * slots;
            for (int s = 0; s < slots; s++) {
                int i = perm[s];
                xs[so + s] = i < 0 ? 0f : x[xo + i];
            }
        }
        return xs;
    }

    /**
     * Unpacks words {@code [w0, w1)} of output columns {@code [c0, c0 + cn)} into {@code tile[slot][j]}, columns
     * past {@code cn} zero: each packed word is read once per call and then serves every row of the batch.
     * Loops run over whole {@link #TILE_COLS}-long arrays from index 0, the shape the JIT vectorises.
     */
    private void unpackTile(int w0, int w1, int c0, int cn, int[] words, float[][] tile) {
        int vpw = valuesPerWord;
        int cb = computeBits;
        int mask = (1 << cb) - 1;
        if (cn < TILE_COLS) Arrays.fill(words, cn, TILE_COLS, 0);
        for (int w = w0; w < w1; w++) {
            System.arraycopy(qc, w * out + c0, words, 0, cn);
            for (int k = 0; k < vpw; k++) {
                int shift = k * cb;
                float[] t = tile[(w - w0) * vpw + k];
                for (int j = 0; j < TILE_COLS; j++) t[j] = (words[j] >>> shift) & mask;
            }
        }
    }

    /**
     * Four rows (inputs at {@code xs[x0 + r·stride + s]}) against one tile: {@code acc_r[j] += x_r[s] * q[s][j]}
     * for slots in order. Each row's sequence of multiplications and additions is exactly that of
     * {@link #accumulateRow}, so blocking rows changes no bits; it only lets one load of the tile feed four rows.
     * Two slots go through the vectorised column loop together, each accumulator still taking slot {@code s}'s
     * product before slot {@code s+1}'s: that halves the loads and stores of the accumulators, which bound
     * this loop (measured: about a third faster; four slots at once spill registers and lose). {@code slots}
     * is even (whole words of at least four values).
     */
    private static void accumulate4Rows(float[] xs, int stride, int x0, int slots, float[][] tile,
                                        float[] acc0, float[] acc1, float[] acc2, float[] acc3) {
        int x1 = x0 + stride;
        int x2 = x1 + stride;
        int x3 = x2 + stride;
        for (int s = 0; s < slots; s += 2) {
            float a0 = xs[x0 + s], b0 = xs[x0 + s + 1];
            float a1 = xs[x1 + s], b1 = xs[x1 + s + 1];
            float a2 = xs[x2 + s], b2 = xs[x2 + s + 1];
            float a3 = xs[x3 + s], b3 = xs[x3 + s + 1];
            float[] qa = tile[s];
            float[] qb = tile[s + 1];
            for (int j = 0; j < TILE_COLS; j++) {
                float wa = qa[j], wb = qb[j];
                acc0[j] = (acc0[j] + a0 * wa) + b0 * wb;
                acc1[j] = (acc1[j] + a1 * wa) + b1 * wb;
                acc2[j] = (acc2[j] + a2 * wa) + b2 * wb;
                acc3[j] = (acc3[j] + a3 * wa) + b3 * wb;
            }
        }
    }

    /** One row against one tile, the same arithmetic as each row of {@link #accumulate4Rows}. */
    private static void accumulateRow(float[] xs, int x0, int slots, float[][] tile, float[] acc) {
        for (int s = 0; s < slots; s++) {
            float v = xs[x0 + s];
            float[] q = tile[s];
            for (int j = 0; j < TILE_COLS; j++) acc[j] += v * q[j];
        }
    }

    /** Each thread's scratch space, shared by all layers (a thread runs one call at a time). */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * Scratch arrays of one thread, grown on demand and kept for the next call, up to {@link #KEEP_FLOATS}
     * floats per array; a larger request (a long prefill of a large model) gets a fresh array that is not
     * kept, so an idle thread never pins more than a few MiB.
     */
    private static final class Scratch {
        static final int GATHER = 0;  // activations in slot order, [rows, slots]
        static final int SUM_X = 1;   // [rows, groups]
        static final int ROW_ACC = 2; // [columns] one row's group sums
        static final int ROW_OUT = 3; // [columns] one row's outputs
        static final int KEEP_FLOATS = 1 << 20;

        final float[][] tile = new float[TILE_SLOTS][TILE_COLS];
        final int[] words = new int[TILE_COLS];
        final float[] groupScales = new float[TILE_COLS];
        final float[] groupZeros = new float[TILE_COLS];
        private final float[][] floats = new float[4][0];
        private final float[][][] rowTiles = new float[2][0][];

        /** Array {@code which} with at least {@code n} floats; contents undefined. */
        float[] floats(int which, int n) {
            float[] a = floats[which];
            if (a.length >= n) return a;
            a = new float[n];
            if (n <= KEEP_FLOATS) floats[which] = a;
            return a;
        }

        /** Set {@code which} of at least {@code rows} rows of {@link #TILE_COLS} floats; contents undefined. */
        float[][] rowTiles(int which, int rows) {
            float[][] a = rowTiles[which];
            if (a.length >= rows) return a;
            a = new float[rows][TILE_COLS];
            if ((long) rows * TILE_COLS <= KEEP_FLOATS) rowTiles[which] = a;
            return a;
        }
    }

    @Override
    public float[] dequantize() {
        float[] w = new float[out * in]; // [out, in]
        int vpw = valuesPerWord;
        int mask = (1 << computeBits) - 1;
        for (int g = 0; g + 1 < groupWordStart.length; g++) {
            for (int s = groupWordStart[g] * vpw; s < groupWordStart[g + 1] * vpw; s++) {
                int i = perm == null ? s : perm[s];
                if (i < 0) continue;
                int rowBase = (s / vpw) * out;
                int shift = (s % vpw) * computeBits;
                for (int o = 0; o < out; o++) {
                    int q = (qc[rowBase + o] >>> shift) & mask;
                    w[o * in + i] = scales[g * out + o] * (q - zeros[g * out + o]);
                }
            }
        }
        return w;
    }

    @Override
    public String toString() {
        return "GptqLinear[" + in + " -> " + out + ", " + bits + "-bit, group " + groupSize
                + (perm != null ? ", act-order" : "") + "]";
    }
}
